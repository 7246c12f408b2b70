"""The controller lease: at most one ``stackctl run`` per database file.

The holder renews it; a holder that died without releasing it is replaced once it expires.
Acquiring reads and writes under ``BEGIN IMMEDIATE``, so two starting controllers cannot both
win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from controller.db.rows import ts_from_db, ts_to_db

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess

CONTROLLER = "controller"


@dataclass(frozen=True)
class Lease:
    holder: str
    pid: int
    hostname: str
    acquired_at: datetime
    expires_at: datetime


class LeaseRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def acquire(
        self, *, holder: str, pid: int, hostname: str, ttl: float, take_over: str | None = None
    ) -> Lease | None:
        """Take the lease; ``None`` when another live holder has it (see ``current``).
        ``take_over`` names a holder known to be dead whose lease may be taken at once."""
        now = self._db.clock()
        with self._db.transaction() as conn:
            current = self.current()
            if (
                current is not None
                and current.holder not in (holder, take_over)
                and current.expires_at > now
            ):
                return None
            conn.execute(
                "INSERT OR REPLACE INTO controller_lease"
                " (name, holder, pid, hostname, acquired_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    CONTROLLER,
                    holder,
                    pid,
                    hostname,
                    ts_to_db(now),
                    ts_to_db(now + timedelta(seconds=ttl)),
                ),
            )
            return self.current()

    def renew(self, *, holder: str, ttl: float) -> bool:
        """Extend our lease; ``False`` when it is no longer ours."""
        until = self._db.clock() + timedelta(seconds=ttl)
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE controller_lease SET expires_at = ? WHERE name = ? AND holder = ?",
                (ts_to_db(until), CONTROLLER, holder),
            )
            return cursor.rowcount == 1

    def release(self, *, holder: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM controller_lease WHERE name = ? AND holder = ?", (CONTROLLER, holder)
            )

    def current(self) -> Lease | None:
        """The lease as stored, expired or not (compare ``expires_at`` with the clock)."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM controller_lease WHERE name = ?", (CONTROLLER,)
            ).fetchone()
        if row is None:
            return None
        return Lease(
            row["holder"],
            row["pid"],
            row["hostname"],
            ts_from_db(row["acquired_at"]),
            ts_from_db(row["expires_at"]),
        )

    def live(self) -> Lease | None:
        """The lease if a controller holds it now (not expired)."""
        lease = self.current()
        return lease if lease is not None and lease.expires_at > self._db.clock() else None
