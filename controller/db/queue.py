"""The durable command queue: enqueue, claim with a lease, finish, retry, recover.

The Kubernetes workqueue's guarantees, kept on disk (docs/architecture.md, "The queue's rules"):
- FIFO by ``(created_at, command_id)``, and per stack: a stack's oldest PENDING command goes first.
- ``claim`` picks and marks RUNNING in one statement inside ``BEGIN IMMEDIATE``: two processes
  never claim the same command. At most one RUNNING command per stack (also a unique index),
  at most ``limit`` RUNNING in all, and at most an engine's ``concurrency`` RUNNING on it, a
  full engine's commands skipped so that they never hold up another engine's (issue 16).
- An APPLY enqueued while the stack has a PENDING APPLY supersedes the older one.
- A worker that dies leaves its lease to expire; ``recover_expired`` puts the command back.
- Every change to a held command is one ``UPDATE ... RETURNING`` whose WHERE says RUNNING and
  held by this worker: no row back means the lease was lost (``ConflictError``), and the row
  back is the command's new state (no second read).
- ``claim_batch`` takes up to K commands of distinct stacks in one transaction, and
  ``complete_and_claim`` finishes a batch and takes the next in one: one commit (one fsync at
  ``synchronous=FULL``) per batch instead of two per command.
The claim statement is ``queue_claim.py``; a worker's changes to the commands it holds are
``queue_held.py`` and the reads ``command_reads.py`` (both inherited). Nothing here deletes a
command or a log line: ``retention.py`` deletes finished ones, by its policy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from controller.db.command_reads import command_of
from controller.db.queue_claim import claim_parameters, claim_statement
from controller.db.queue_held import DEFAULT_LEASE_SECONDS, HeldCommands
from controller.db.rows import json_to_db, translate, ts_to_db
from controller.models.command import Command
from controller.models.enums import ALLOWED_TRANSITIONS, CommandStatus, CommandType, LogLevel
from controller.models.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess
    from controller.db.command_logs import CommandLogRepository
    from controller.db.stacks import StackRepository


class Batch:
    """What ``complete_and_claim`` did: the commands it finished and the ones it claimed
    (``finished, claimed = batch`` unpacks them). Each list is made from the rows the
    statements returned when first read: a loop that only wants the next command never pays
    for the finished ones' models."""

    __slots__ = ("_made", "_rows")

    def __init__(self, finished: Sequence[sqlite3.Row], claimed: Sequence[sqlite3.Row]) -> None:
        self._rows = (finished, claimed)
        self._made: list[list[Command] | None] = [None, None]

    def _list(self, which: int) -> list[Command]:
        made = self._made[which]
        if made is None:
            made = self._made[which] = [command_of(row) for row in self._rows[which]]
        return made

    @property
    def finished(self) -> list[Command]:
        return self._list(0)

    @property
    def claimed(self) -> list[Command]:
        return self._list(1)

    def __iter__(self) -> Iterator[list[Command]]:
        yield self.finished
        yield self.claimed


class CommandRepository(HeldCommands):
    """The durable command queue: produce, claim, recover (its rules: this module's docstring)."""

    def __init__(
        self, db: DatabaseAccess, *, stacks: StackRepository, logs: CommandLogRepository
    ) -> None:
        self._db = db
        self._stacks = stacks
        self._logs = logs

    # -- producing -------------------------------------------------------------------------

    def enqueue(self, command: Command) -> Command:
        """Store a PENDING command and return it with its id.

        An ``APPLY_STACK_VERSION`` supersedes the stack's older PENDING APPLY commands (the newest
        change is the only one worth running; the apply is level-triggered anyway).
        """
        if command.status is not CommandStatus.PENDING:
            raise ConflictError(f"a command is enqueued PENDING, not {command.status}")
        try:
            with self._db.transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO commands (stack_id, type, payload, status, created_at,"
                    " attempts, not_before) VALUES (?, ?, ?, 'PENDING', ?, ?, ?)",
                    (
                        command.stack_id,
                        command.type.value,
                        json_to_db(command.payload),
                        ts_to_db(command.created_at),
                        command.attempts,
                        ts_to_db(command.not_before),
                    ),
                )
                stored = command.model_copy(update={"command_id": cursor.lastrowid})
                self._supersede_older(stored)
                return stored
        except sqlite3.IntegrityError as e:
            doing = f"enqueuing {command.type} for stack {command.stack_id!r}"
            if self._stacks.get(command.stack_id) is None:
                raise NotFoundError(f"{doing}: no stack named {command.stack_id!r}") from e
            raise translate(e, doing=doing) from e

    def enqueue_unless_pending(self, command: Command) -> tuple[Command, bool]:
        """Coalescing: the stack's PENDING command if it has one (it will converge the stack
        anyway), else ``command`` enqueued. Returns the command and whether it is new."""
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM commands WHERE stack_id = ? AND status = 'PENDING'"
                " ORDER BY created_at, command_id LIMIT 1",
                (command.stack_id,),
            ).fetchone()
            if row is not None:
                return command_of(row), False
            return self.enqueue(command), True

    def _supersede_older(self, newer: Command) -> None:
        """What a new command makes pointless, ended at once (backing-off ones included):
        a DELETE supersedes every PENDING command of its stack and asks its RUNNING one to
        stop; an APPLY supersedes the PENDING APPLY and RECONCILE commands (it converges the
        stack to its newest version anyway). A RECONCILE supersedes nothing."""
        kinds = {
            CommandType.DELETE_STACK: None,  # every type
            CommandType.APPLY_STACK_VERSION: (
                CommandType.APPLY_STACK_VERSION.value,
                CommandType.RECONCILE.value,
            ),
        }
        if newer.type not in kinds:
            return
        types = kinds[newer.type]
        now = ts_to_db(self._db.clock())
        why = f"superseded by command {newer.command_id} ({newer.type})"
        with self._db.transaction() as conn:
            older = conn.execute(
                "UPDATE commands SET status = 'SUPERSEDED', ended_at = ?"
                " WHERE stack_id = ? AND status = 'PENDING' AND command_id != ?"
                + ("" if types is None else f" AND type IN ({', '.join('?' * len(types))})")
                + " RETURNING command_id",
                (now, newer.stack_id, newer.command_id, *(types or ())),
            ).fetchall()
            for row in older:
                self._logs.add(row["command_id"], LogLevel.INFO, why)
            if newer.type is CommandType.DELETE_STACK:
                running = conn.execute(
                    "SELECT command_id FROM commands WHERE stack_id = ? AND status = 'RUNNING'",
                    (newer.stack_id,),
                ).fetchone()
                if running is not None:
                    self.request_cancel(running["command_id"], reason=why)

    def request_cancel(self, command_id: int, *, reason: str) -> Command:
        """Stop a command: a PENDING one is CANCELLED now; a RUNNING one is asked to stop (its
        worker ends it CANCELLED at the next step boundary or wait tick). A finished command
        cannot be cancelled (``ConflictError``)."""
        with self._db.transaction() as conn:
            current = self.require(command_id)
            if current.status is CommandStatus.PENDING:
                conn.execute(
                    "UPDATE commands SET status = 'CANCELLED', ended_at = ?, error = ?"
                    " WHERE command_id = ?",
                    (ts_to_db(self._db.clock()), reason, command_id),
                )
                self._logs.add(command_id, LogLevel.WARNING, f"cancelled: {reason}")
            elif current.status is CommandStatus.RUNNING:
                if current.cancel_requested is None:
                    conn.execute(
                        "UPDATE commands SET cancel_requested = ? WHERE command_id = ?",
                        (reason, command_id),
                    )
                    self._logs.add(command_id, LogLevel.WARNING, f"asked to stop: {reason}")
            else:
                raise ConflictError(f"command {command_id} is {current.status}: nothing to cancel")
            return self.require(command_id)

    # -- consuming -------------------------------------------------------------------------

    def claim(
        self,
        *,
        worker_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        limit: int = 1,
        engine_limits: Mapping[str, int] | None = None,
    ) -> Command | None:
        """Atomically take the next runnable command and mark it RUNNING for ``worker_id``.

        ``limit`` is the number of commands allowed to run at once across all workers (the
        ``--workers`` setting). ``engine_limits`` ({engine: at most RUNNING}, each engine's
        ``concurrency``) caps each named engine as well, so that one slow or unreachable engine
        never takes every worker: a command whose engine is full is skipped and the next one of
        another engine taken. Its engine is the one its stack's desired version targets (the
        applied version's for a stack without one, such as a DELETE after its manifest went;
        ``local`` without either). An engine not named has only ``limit``. Returns ``None``
        when nothing is runnable now.
        """
        claimed = self.claim_batch(
            worker_id=worker_id,
            lease_seconds=lease_seconds,
            limit=limit,
            engine_limits=engine_limits,
        )
        return claimed[0] if claimed else None

    def claim_batch(
        self,
        *,
        worker_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        limit: int = 1,
        batch: int = 1,
        engine_limits: Mapping[str, int] | None = None,
    ) -> list[Command]:
        """Up to ``batch`` runnable commands, of distinct stacks, marked RUNNING for
        ``worker_id`` in one transaction, oldest first; ``[]`` when nothing is runnable now.

        The rules of ``claim`` hold for the whole batch: each stack's oldest PENDING command
        only, and only when it is due and its stack runs nothing; at most ``limit`` RUNNING
        in all and at most ``engine_limits[e]`` on engine ``e``. Every command gets its own
        lease, so one left by a dead worker is recovered by ``recover_expired`` like any other.
        A batch may hold fewer than it could when one engine with little room has several of
        the oldest candidates (see ``queue_claim.CLAIM``): never more than a limit allows."""
        return self.complete_and_claim(
            (),
            worker_id=worker_id,
            lease_seconds=lease_seconds,
            limit=limit,
            batch=batch,
            engine_limits=engine_limits,
        ).claimed

    def complete_and_claim(
        self,
        done: Sequence[int],
        *,
        worker_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        limit: int = 1,
        batch: int = 1,
        engine_limits: Mapping[str, int] | None = None,
    ) -> Batch:
        """Mark the ``done`` commands DONE and claim the next batch (as ``claim_batch``), in one
        transaction: one commit per batch.

        All or nothing: when ``worker_id`` no longer holds one of ``done`` (its lease expired
        and it was taken back, or it is not RUNNING) this raises ``ConflictError`` as
        ``complete`` does and nothing at all is changed; finish the others one by one."""
        now = self._db.clock()
        claim = claim_parameters(
            worker_id=worker_id,
            now=now,
            lease_seconds=lease_seconds,
            limit=limit,
            batch=batch,
            engine_limits=engine_limits,
        )
        with self._db.transaction() as conn:
            finished = [self._complete_row(conn, cid, worker_id=worker_id, now=now) for cid in done]
            rows = conn.execute(claim_statement(engine_limits), claim).fetchall()
        if len(rows) > 1:  # RETURNING gives rows in no promised order: FIFO for the caller.
            rows.sort(key=lambda row: (row["created_at"], row["command_id"]))
        return Batch(finished, rows)

    def recover_expired(self, *, dead_worker_prefix: str | None = None) -> list[Command]:
        """RUNNING commands whose lease has expired (their worker died) go back to PENDING.

        ``dead_worker_prefix`` also takes back, lease or not, the commands of workers whose id
        starts with it: a controller that knows their process is gone need not wait.
        """
        now = self._db.clock()
        with self._db.transaction() as conn:
            expired = conn.execute(
                "SELECT command_id, worker_id, lease_expires_at, attempts FROM commands"
                " WHERE status = 'RUNNING' AND (lease_expires_at < ?"
                " OR (? IS NOT NULL AND substr(worker_id, 1, length(?)) = ?))"
                " ORDER BY command_id",
                (ts_to_db(now), dead_worker_prefix, dead_worker_prefix, dead_worker_prefix),
            ).fetchall()
            for row in expired:
                conn.execute(
                    "UPDATE commands SET status = 'PENDING',"
                    " worker_id = NULL, lease_expires_at = NULL WHERE command_id = ?",
                    (row["command_id"],),
                )
                self._logs.add(
                    row["command_id"],
                    LogLevel.WARNING,
                    f"worker {row['worker_id']} stopped without finishing (lease until"
                    f" {row['lease_expires_at']}); back in the queue,"
                    f" attempt {row['attempts'] + 1} next",
                )
            return [self.require(row["command_id"]) for row in expired]

    def update_status(
        self,
        command_id: int,
        status: CommandStatus | str,
        *,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        error: str | None = None,
    ) -> Command:
        """Move a command to ``status`` if that transition makes sense (the seed's API)."""
        target = CommandStatus(status)
        with self._db.transaction() as conn:
            current = self.require(command_id)
            if target not in ALLOWED_TRANSITIONS[current.status]:
                raise ConflictError(
                    f"command {command_id} cannot go from {current.status} to {target}"
                )
            # A command made RUNNING by hand gets the default lease too, so that it is
            # recovered like any other if its process dies.
            lease = (
                ts_to_db(self._db.clock() + timedelta(seconds=DEFAULT_LEASE_SECONDS))
                if target is CommandStatus.RUNNING
                else None
            )
            conn.execute(
                "UPDATE commands SET status = ?, started_at = COALESCE(?, started_at),"
                " ended_at = COALESCE(?, ended_at), error = COALESCE(?, error),"
                " lease_expires_at = ? WHERE command_id = ?",
                (target.value, ts_to_db(started_at), ts_to_db(ended_at), error, lease, command_id),
            )
            return self.require(command_id)
