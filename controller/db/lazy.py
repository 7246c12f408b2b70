"""``LazyRepositories``: the repositories of ``Database`` made, and their modules imported, on
first use: events, leases, git repositories, retention, the audit log, tokens, console
sessions, the console's table. A one-shot command (``apply``, ``diff``) uses none of them and
loads none (issue 27); each is made once per ``Database`` (``cached_property``).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controller.db.api_tokens import ApiTokenRepository
    from controller.db.audit import AuditRepository
    from controller.db.console_sessions import ConsoleSessionRepository
    from controller.db.events import EventRepository
    from controller.db.git_repositories import GitRepositoryRepository
    from controller.db.leases import LeaseRepository
    from controller.db.outbox import OutboxRepository
    from controller.db.retention import RetentionRepository
    from controller.db.stack_table import StackTableRepository


class LazyRepositories:
    """Mixed into ``Database``: ``self`` is the database each repository is made with."""

    outbox: OutboxRepository

    @cached_property
    def events(self) -> EventRepository:
        from controller.db.events import EventRepository

        return EventRepository(self, outbox=self.outbox)

    @cached_property
    def leases(self) -> LeaseRepository:
        from controller.db.leases import LeaseRepository

        return LeaseRepository(self)

    @cached_property
    def repositories(self) -> GitRepositoryRepository:
        from controller.db.git_repositories import GitRepositoryRepository

        return GitRepositoryRepository(self)

    @cached_property
    def retention(self) -> RetentionRepository:
        from controller.db.retention import RetentionRepository

        return RetentionRepository(self)

    @cached_property
    def audit(self) -> AuditRepository:
        """The audit log (who changed what), append-only."""
        from controller.db.audit import AuditRepository

        return AuditRepository(self)

    @cached_property
    def api_tokens(self) -> ApiTokenRepository:
        from controller.db.api_tokens import ApiTokenRepository

        return ApiTokenRepository(self)

    @cached_property
    def console_sessions(self) -> ConsoleSessionRepository:
        from controller.db.console_sessions import ConsoleSessionRepository

        return ConsoleSessionRepository(self)

    @cached_property
    def stack_table(self) -> StackTableRepository:
        """The console's table of stacks, a page at a time."""
        from controller.db.stack_table import StackTableRepository

        return StackTableRepository(self)
