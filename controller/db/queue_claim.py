"""The claim statement: which PENDING commands a worker takes next, as one SQL statement.

FIFO per stack and across stacks, at most ``limit`` RUNNING in all and at most an engine's
``concurrency`` RUNNING on it, picked and marked RUNNING in one ``UPDATE ... RETURNING`` (the
queue's rules are in ``queue.py``'s docstring). ``CommandRepository.complete_and_claim`` runs the
statement ``claim_statement`` picks with the parameters ``claim_parameters`` makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from controller.db.plain_reads import engine_sql
from controller.db.rows import json_to_db, ts_to_db

# The engine a command runs on, for the per-engine limits: its stack's desired version's target
# (``views.engine_sql``, as ``get stacks`` reads it); a stack with no desired version (a DELETE
# after its manifest went) counts for the engine of its applied version, the one its containers
# are on (one more lookup in stack_versions' unique (stack_id, version) index, so cheap);
# neither: ``local`` (each version's engine read from the index that holds it, schema 12).
# A RUNNING command counts for the engine its stack targets now (a version
# recorded meanwhile may name another). Needs ``s`` (stacks), ``cv`` and ``av`` (stack_versions)
# joined as ``_ENGINE_JOINS`` joins them.
_ENGINE = f"COALESCE({engine_sql('cv')}, {engine_sql('av')}, 'local')"
_ENGINE_JOINS = """
  JOIN stacks AS s ON s.stack_id = c.stack_id
  LEFT JOIN stack_versions AS cv INDEXED BY idx_stack_versions_shown
    ON cv.stack_id = s.stack_id AND cv.version = s.current_version
  LEFT JOIN stack_versions AS av INDEXED BY idx_stack_versions_shown
    ON av.stack_id = s.stack_id AND av.version = s.applied_version"""

# A candidate ``p``: PENDING, due, its stack running nothing and holding no older PENDING command
# (so a stack's oldest PENDING command is its only candidate); the first ones in FIFO order,
# up to :batch and while fewer than :limit commands run (max(0, ...): a negative LIMIT means
# none in SQLite).
# Each walk names its index (schema.py: the PENDING-only FIFO and per-stack indexes, the
# one-RUNNING-per-stack one), so that the planner never sorts PENDING rows out of the status
# index instead.
_RUNNABLE = """p.status = 'PENDING'
                 AND (p.not_before IS NULL OR p.not_before <= :now)
                 AND NOT EXISTS (SELECT 1 FROM commands AS r
                                        INDEXED BY idx_commands_one_running_per_stack
                                  WHERE r.stack_id = p.stack_id AND r.status = 'RUNNING')
                 AND NOT EXISTS (SELECT 1 FROM commands AS o
                                        INDEXED BY idx_commands_stack_status
                                  WHERE o.stack_id = p.stack_id AND o.status = 'PENDING'
                                    AND (o.created_at, o.command_id)
                                        < (p.created_at, p.command_id))"""
_FIFO_LIMIT = """ORDER BY p.created_at, p.command_id
               LIMIT max(0, min(:batch, :limit - (SELECT COUNT(*) FROM commands
                                                   INDEXED BY idx_commands_one_running_per_stack
                                                   WHERE status = 'RUNNING')))"""
_TAKE = """UPDATE commands
   SET status = 'RUNNING', worker_id = :worker, started_at = :now, lease_expires_at = :lease,
       attempts = attempts + 1"""

# The claim: the oldest due PENDING commands whose stack has nothing RUNNING and no older
# PENDING command, whose engine is below its limit, up to :batch and while fewer than :limit
# commands run (max(0, ...): a negative LIMIT means none in SQLite). A stack's oldest PENDING
# command is its only candidate, so a batch holds distinct stacks.
# Per engine (:limits, JSON {engine: most RUNNING}; one not named has no limit of its own):
# `room` is what each limited engine may still start. An engine with no room is filtered out
# *before* the FIFO LIMIT, so its commands are skipped, never in the way of another engine's.
# Within the batch, ROW_NUMBER per engine keeps an engine with room for 1 to 1 even when two of
# its commands are among the first :batch candidates. The window runs over those :batch rows
# only, not over the whole queue (which would scan every PENDING command at each claim): the
# claim stays a walk of the FIFO index that stops after :batch rows. The price: a batch may
# take fewer than :batch commands when one engine's commands crowd its first rows (the next
# claim takes the others); a single claim (the workers' case) is exact.
# One statement, atomic by itself; its subqueries are evaluated before any row changes, so the
# batch is chosen from one consistent view.
CLAIM = f"""
WITH limits AS (SELECT key AS engine, value AS most FROM json_each(:limits)),
     running AS (SELECT {_ENGINE} AS engine, COUNT(*) AS n
                   FROM commands AS c INDEXED BY idx_commands_one_running_per_stack
                        {_ENGINE_JOINS}
                  WHERE c.status = 'RUNNING'
                  GROUP BY 1),
     room AS (SELECT l.engine, l.most - COALESCE(r.n, 0) AS free
                FROM limits AS l LEFT JOIN running AS r ON r.engine = l.engine),
     pending AS (SELECT c.command_id, c.stack_id, c.created_at, c.not_before, c.status,
                        {_ENGINE} AS engine
                   FROM commands AS c INDEXED BY idx_commands_claim {_ENGINE_JOINS}
                  WHERE c.status = 'PENDING'),
     head AS (SELECT p.command_id, p.created_at, p.engine FROM pending AS p
               WHERE {_RUNNABLE}
                 AND NOT EXISTS (SELECT 1 FROM room WHERE room.engine = p.engine AND room.free <= 0)
               {_FIFO_LIMIT}),
     ranked AS (SELECT h.command_id, room.free,
                       ROW_NUMBER() OVER (PARTITION BY h.engine
                                          ORDER BY h.created_at, h.command_id) AS nth
                  FROM head AS h LEFT JOIN room ON room.engine = h.engine)
{_TAKE}
 WHERE command_id IN (SELECT command_id FROM ranked WHERE free IS NULL OR nth <= free)
RETURNING *
"""

# The claim when no engine has a limit of its own (no engines file sets a ``concurrency``: the
# default): the same candidates in the same order, without finding each one's engine or
# counting what runs on each (the joins and the per-engine count cost more than the rest of the
# claim together). ``claim_statement`` picks it.
CLAIM_ANY_ENGINE = f"""
{_TAKE}
 WHERE command_id IN (SELECT p.command_id FROM commands AS p INDEXED BY idx_commands_claim
                       WHERE {_RUNNABLE}
               {_FIFO_LIMIT})
RETURNING *
"""


def claim_statement(engine_limits: Mapping[str, int] | None) -> str:
    """``CLAIM``, or ``CLAIM_ANY_ENGINE`` when no engine has a limit (the same choice)."""
    return CLAIM if engine_limits else CLAIM_ANY_ENGINE


def claim_parameters(
    *,
    worker_id: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    batch: int,
    engine_limits: Mapping[str, int] | None,
) -> dict[str, Any]:
    """The named parameters of ``CLAIM``: who claims, when, the lease's end and the limits."""
    return {
        "worker": worker_id,
        "now": ts_to_db(now),
        "lease": ts_to_db(now + timedelta(seconds=lease_seconds)),
        "limit": limit,
        "batch": batch,
        "limits": json_to_db(dict(engine_limits)) if engine_limits else "{}",
    }
