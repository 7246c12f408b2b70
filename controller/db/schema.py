"""The database schema as an ordered list of migrations, applied by ``PRAGMA user_version``.

Migration N (1-based) brings a database from ``user_version = N-1`` to ``N``. Never edit a
migration that has shipped: append a new one. Timestamps are stored as fixed-width ISO-8601 UTC
text (``2026-11-26T07:14:33.410283Z``) so that string order is time order and SQL can compare them.

Invariants the database keeps by itself, whatever code writes to it:
- a version's definition (spec, digest, parent, metadata) never changes (triggers);
- at most one RUNNING command per stack (a partial unique index);
- the queue's walks (FIFO, a stack's oldest PENDING command) index PENDING commands only;
- a command in a terminal status never changes status again (a trigger);
- statuses and levels are from a closed set (CHECK constraints);
- a stack whose desired version is not its applied one is never ``Synced`` (a trigger).
"""

from __future__ import annotations

_V1 = """
CREATE TABLE stacks (
    stack_id        TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    current_version TEXT,
    applied_version TEXT,
    sync_status     TEXT NOT NULL DEFAULT 'Unknown'
                    CHECK (sync_status IN ('Synced', 'OutOfSync', 'Unknown')),
    health_status   TEXT NOT NULL DEFAULT 'Unknown'
                    CHECK (health_status IN ('Healthy', 'Progressing', 'Degraded', 'Missing',
                                             'Suspended', 'Unknown')),
    suspended       INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE stack_versions (
    stack_id        TEXT NOT NULL REFERENCES stacks(stack_id) ON DELETE CASCADE,
    version_number  INTEGER NOT NULL CHECK (version_number >= 1),
    version         TEXT NOT NULL CHECK (version = 'v' || version_number),
    parent_version  TEXT,
    digest          TEXT NOT NULL,
    compose_spec    TEXT NOT NULL CHECK (json_valid(compose_spec)),
    metadata        TEXT NOT NULL CHECK (json_valid(metadata)),
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'APPLYING', 'APPLIED', 'FAILED')),
    runtime         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(runtime)),
    PRIMARY KEY (stack_id, version_number),
    UNIQUE (stack_id, version)
);
CREATE INDEX idx_stack_versions_stack_id ON stack_versions(stack_id);
CREATE INDEX idx_stack_versions_digest ON stack_versions(stack_id, digest);

CREATE TRIGGER stack_versions_immutable
BEFORE UPDATE OF stack_id, version_number, version, parent_version, digest, compose_spec,
                 metadata, created_at ON stack_versions
WHEN OLD.stack_id IS NOT NEW.stack_id
  OR OLD.version_number IS NOT NEW.version_number
  OR OLD.version IS NOT NEW.version
  OR OLD.parent_version IS NOT NEW.parent_version
  OR OLD.digest IS NOT NEW.digest
  OR OLD.compose_spec IS NOT NEW.compose_spec
  OR OLD.metadata IS NOT NEW.metadata
  OR OLD.created_at IS NOT NEW.created_at
BEGIN
    SELECT RAISE(ABORT, 'stack_versions are immutable: only status and runtime may change');
END;

CREATE TABLE commands (
    command_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    stack_id         TEXT NOT NULL REFERENCES stacks(stack_id) ON DELETE CASCADE,
    type             TEXT NOT NULL
                     CHECK (type IN ('APPLY_STACK_VERSION', 'DELETE_STACK', 'RECONCILE')),
    payload          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
    status           TEXT NOT NULL DEFAULT 'PENDING'
                     CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED', 'SUPERSEDED',
                                       'CANCELLED')),
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    ended_at         TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    not_before       TEXT,
    worker_id        TEXT,
    lease_expires_at TEXT,
    error            TEXT
);
CREATE INDEX idx_commands_stack_id ON commands(stack_id);
CREATE INDEX idx_commands_status ON commands(status);
CREATE INDEX idx_commands_created_at ON commands(created_at);
-- The claim query walks PENDING commands in FIFO order.
CREATE INDEX idx_commands_claim ON commands(status, created_at, command_id);
-- ... and asks, per candidate, whether its stack has a RUNNING or an older PENDING command.
CREATE INDEX idx_commands_stack_status ON commands(stack_id, status, created_at, command_id);
-- Never two RUNNING commands for one stack, whoever writes.
CREATE UNIQUE INDEX idx_commands_one_running_per_stack ON commands(stack_id)
    WHERE status = 'RUNNING';

CREATE TRIGGER commands_terminal_is_final
BEFORE UPDATE OF status ON commands
WHEN OLD.status IN ('DONE', 'FAILED', 'SUPERSEDED', 'CANCELLED') AND NEW.status IS NOT OLD.status
BEGIN
    SELECT RAISE(ABORT, 'a finished command never changes status again');
END;

CREATE TABLE command_logs (
    log_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id INTEGER NOT NULL REFERENCES commands(command_id) ON DELETE CASCADE,
    ts         TEXT NOT NULL,
    level      TEXT NOT NULL CHECK (level IN ('DEBUG', 'INFO', 'WARNING', 'ERROR')),
    message    TEXT NOT NULL,
    data       TEXT CHECK (data IS NULL OR json_valid(data))
);
CREATE INDEX idx_command_logs_command_id ON command_logs(command_id);

-- Events are an audit trail: stack_id is not a foreign key, so that an event can name a stack
-- that never had a valid version (its manifest is broken) and outlives a deleted stack.
CREATE TABLE events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    stack_id TEXT,
    ts       TEXT NOT NULL,
    level    TEXT NOT NULL CHECK (level IN ('DEBUG', 'INFO', 'WARNING', 'ERROR')),
    reason   TEXT NOT NULL,
    message  TEXT NOT NULL,
    data     TEXT CHECK (data IS NULL OR json_valid(data))
);
CREATE INDEX idx_events_stack_id ON events(stack_id, event_id);
"""

# Content-addressed bytes of the files a version needs at runtime (secrets, configs), so that
# applying an old version never depends on files that have changed or gone since.
_V2 = """
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL
);
"""

# A stack pinned by a rollback: new versions from the files are recorded but not made current
# (nor applied) until the stack is resumed.
_V3 = """
ALTER TABLE stacks ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
"""

# One controller per database: the running `stackctl run` holds this row and renews it.
_V4 = """
CREATE TABLE controller_lease (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    hostname    TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
"""

# /metrics counts ManifestInvalid events per stack at every scrape.
_V5 = """
CREATE INDEX idx_events_reason ON events(reason, stack_id);
"""

# A stack is never "Synced" while its desired version is not the applied one, whatever code
# writes the row (a kill between recording a version and applying it showed Synced, falsely).
# A RUNNING command can be asked to stop (``stackctl cancel``, a DELETE or a newer APPLY of its
# stack): its worker sees the request at the next step boundary or wait tick. ``failures``
# counts the attempts that failed (``attempts`` also counts the ones a kill interrupted): the
# retry cap is on failures, so a controller killed often never fails a command for it.
_V6 = """
UPDATE stacks SET sync_status = 'OutOfSync'
 WHERE sync_status = 'Synced' AND current_version IS NOT NULL
   AND current_version IS NOT applied_version;
CREATE TRIGGER stacks_not_synced_while_behind AFTER UPDATE ON stacks
WHEN NEW.sync_status = 'Synced' AND NEW.current_version IS NOT NULL
 AND NEW.current_version IS NOT NEW.applied_version
BEGIN
    UPDATE stacks SET sync_status = 'OutOfSync' WHERE stack_id = NEW.stack_id;
END;
ALTER TABLE commands ADD COLUMN cancel_requested TEXT;
ALTER TABLE commands ADD COLUMN failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0);
"""

# Git repositories as sources: what each is (URL redacted: never a credential) and how its last
# fetch went, for `stackctl get repositories` and /readyz; `fetch_requested_at` is how
# `stackctl sync --repository` asks the running controller to fetch now.
_V7 = """
CREATE TABLE git_repositories (
    name               TEXT PRIMARY KEY,
    url                TEXT NOT NULL,
    ref                TEXT NOT NULL,
    path               TEXT NOT NULL,
    interval_s         REAL NOT NULL CHECK (interval_s > 0),
    declared_by        TEXT NOT NULL,
    last_commit        TEXT,
    last_author        TEXT,
    last_subject       TEXT,
    last_fetch_at      TEXT,
    last_result        TEXT CHECK (last_result IN ('changed', 'unchanged', 'failed')),
    last_error         TEXT,
    fetch_requested_at TEXT,
    updated_at         TEXT NOT NULL
);
"""

# What compaction deleted, still counted: the metrics' counters and histograms are row counts,
# and a count that went down when old rows went would read as a counter reset. ``db.retention``
# adds each deleted batch's aggregates here in the transaction that deletes it; ``db.stats``
# adds them back at every scrape. ``labels`` is a JSON array (its order depends on ``metric``,
# see ``controller.db.stats``); ``value`` a whole number (counts, milliseconds).
_V8 = """
CREATE TABLE retired_totals (
    metric TEXT NOT NULL,
    labels TEXT NOT NULL CHECK (json_valid(labels) AND json_type(labels) = 'array'),
    value  INTEGER NOT NULL,
    PRIMARY KEY (metric, labels)
) WITHOUT ROWID;
"""

# Delivery. ``outbox``: one row per notification, written in the transaction of the state
# change that caused it (``key`` is its idempotency key: a transition recorded twice, by a
# command retried after a kill, is one message). The sender routes each message once to the
# destinations configured then (``deliveries``, one row each, by the destination's fingerprint,
# never its URL: URLs carry tokens) and sends them with retries. ``notify_state`` is the last
# thing said per stack and topic, so a failure repeated by every resync is said once.
# ``stack_versions.healthy_at``: when the version was last seen applied and Healthy, for the
# automatic rollback's "last version that converged healthy".
_V9 = """
CREATE TABLE outbox (
    message_id INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    stack_id   TEXT,
    created_at TEXT NOT NULL,
    payload    TEXT NOT NULL CHECK (json_valid(payload)),
    routed_at  TEXT
);
CREATE INDEX idx_outbox_unrouted ON outbox(message_id) WHERE routed_at IS NULL;
CREATE INDEX idx_outbox_created ON outbox(created_at);
CREATE TABLE deliveries (
    delivery_id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  INTEGER NOT NULL REFERENCES outbox(message_id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    label       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'PENDING'
                CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'DROPPED')),
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_at     TEXT NOT NULL,
    last_error  TEXT,
    sent_at     TEXT,
    UNIQUE (message_id, destination)
);
CREATE INDEX idx_deliveries_due ON deliveries(next_at) WHERE status = 'PENDING';
CREATE TABLE notify_state (
    stack_id    TEXT NOT NULL,
    topic       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (stack_id, topic)
) WITHOUT ROWID;
ALTER TABLE stack_versions ADD COLUMN healthy_at TEXT;
"""

# Web console sessions: one row per token entry, until it expires or "Forget token" deletes
# it. The cookie holds a random id; the row holds its SHA-256 (a copy of the database gives no
# live cookie) and a keyed digest of the token it was opened with (a new token ends them all).
_V10 = """
CREATE TABLE console_sessions (
    session_hash TEXT PRIMARY KEY CHECK (length(session_hash) = 64),
    token_digest TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL CHECK (expires_at > created_at)
) WITHOUT ROWID;
CREATE INDEX idx_console_sessions_expires ON console_sessions(expires_at);
"""

# The queue's two walks hold PENDING commands only (issue 27): the claim's FIFO and each stack's
# oldest PENDING command. A command enters both when enqueued and leaves both when claimed (or
# superseded, cancelled), and a finished one is in neither: a claim and a completion change 4
# index entries instead of 8, in indexes as small as the backlog rather than the whole history.
# What asks about other statuses has idx_commands_status, idx_commands_stack_id and the
# one-RUNNING-per-stack index.
_V11 = """
DROP INDEX idx_commands_claim;
CREATE INDEX idx_commands_claim ON commands(created_at, command_id) WHERE status = 'PENDING';
DROP INDEX idx_commands_stack_status;
CREATE INDEX idx_commands_stack_status ON commands(stack_id, created_at, command_id)
    WHERE status = 'PENDING';
"""

# The two settings every listing of stacks reads from a version's document, kept as columns
# (issue 27: `get stacks` of 10,000 stacks parsed each row's document six times): the engine
# it targets (its ``x-stackctl`` settings' ``target.engine`` when that is a non-empty text,
# else ``local``) and whether it says ``spec.suspend: true`` (1, else 0). Written with the row
# from the document itself (``db.stack_versions``), filled here for the rows already there,
# and as immutable as the document (the trigger is made again with them). A listing joins
# each stack's desired version through ``idx_stack_versions_shown`` alone (it covers both):
# reading the rows themselves, a kilobyte of document each, was most of the join.
_V12 = """
ALTER TABLE stack_versions ADD COLUMN engine TEXT NOT NULL DEFAULT 'local';
ALTER TABLE stack_versions ADD COLUMN suspend_declared INTEGER NOT NULL DEFAULT 0
    CHECK (suspend_declared IN (0, 1));
UPDATE stack_versions SET
    engine = CASE
        WHEN json_type(compose_spec, '$."x-stackctl".target.engine') = 'text'
         AND json_extract(compose_spec, '$."x-stackctl".target.engine') <> ''
        THEN json_extract(compose_spec, '$."x-stackctl".target.engine') ELSE 'local' END,
    suspend_declared = (coalesce(json_extract(compose_spec, '$."x-stackctl".suspend'), 0) = 1);
CREATE INDEX idx_stack_versions_shown
    ON stack_versions(stack_id, version, engine, suspend_declared);
DROP TRIGGER stack_versions_immutable;
CREATE TRIGGER stack_versions_immutable
BEFORE UPDATE OF stack_id, version_number, version, parent_version, digest, compose_spec,
                 metadata, created_at, engine, suspend_declared ON stack_versions
WHEN OLD.stack_id IS NOT NEW.stack_id
  OR OLD.version_number IS NOT NEW.version_number
  OR OLD.version IS NOT NEW.version
  OR OLD.parent_version IS NOT NEW.parent_version
  OR OLD.digest IS NOT NEW.digest
  OR OLD.compose_spec IS NOT NEW.compose_spec
  OR OLD.metadata IS NOT NEW.metadata
  OR OLD.created_at IS NOT NEW.created_at
  OR OLD.engine IS NOT NEW.engine
  OR OLD.suspend_declared IS NOT NEW.suspend_declared
BEGIN
    SELECT RAISE(ABORT, 'stack_versions are immutable: only status and runtime may change');
END;
"""

# Teams (issue 28): personal and service tokens, the audit log, and who a console session is.
# A token's row keeps an argon2id hash of its secret (the token itself is printed once); its
# ``token_id`` is the public part the token carries (``stk_<token_id>_<secret>``), so a request
# finds its row by index and verifies one hash. A name is unique among the live tokens (a
# revoked one's name may be taken again). The audit log is append-only (no UPDATE; rows leave
# by retention alone: ``db.audit.prune``), written in the transaction of the change it records.
# A console session is the API token's (``who`` NULL) or a signed-in person's (``who``, their
# groups as a JSON list, read at sign-in).
_V13 = """
CREATE TABLE api_tokens (
    token_id     TEXT PRIMARY KEY CHECK (length(token_id) BETWEEN 8 AND 64),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    secret_hash  TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    stacks       TEXT,
    owner        TEXT,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT CHECK (expires_at IS NULL OR expires_at > created_at),
    revoked_at   TEXT,
    revoked_by   TEXT,
    last_used_at TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX idx_api_tokens_live_name ON api_tokens(name) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    entry_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    who        TEXT NOT NULL,
    who_kind   TEXT NOT NULL,
    via        TEXT,
    surface    TEXT NOT NULL CHECK (surface IN ('api', 'console', 'cli', 'webhook')),
    action     TEXT NOT NULL,
    stack_id   TEXT,
    version    TEXT,
    command_id INTEGER,
    address    TEXT,
    result     TEXT NOT NULL CHECK (result IN ('ok', 'denied', 'refused', 'failed')),
    detail     TEXT
);
CREATE INDEX idx_audit_log_at ON audit_log(at);
CREATE INDEX idx_audit_log_stack ON audit_log(stack_id, entry_id);
CREATE INDEX idx_audit_log_who ON audit_log(who, entry_id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

ALTER TABLE console_sessions ADD COLUMN who TEXT;
ALTER TABLE console_sessions ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
"""

MIGRATIONS: tuple[str, ...] = (
    _V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12, _V13
)

SCHEMA_VERSION = len(MIGRATIONS)
