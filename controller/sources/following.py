"""The repositories the controller follows, kept in line with what declares them, and the push
webhooks that make them fetch at once.

``Sources.update(declared)`` is called after every pass over the watched directory with the
repositories it declares (``kind: Repository``) plus the one of ``--git-url`` (named
``default``): a new one gets a puller thread, a changed one is restarted, one no longer declared
is stopped. Removing a repository deletes nothing: its stacks keep running, unowned, and an event
says so (delete them with ``stackctl delete``); a ``Repository`` manifest that is invalid keeps
its repository followed with the last valid declaration, as an invalid stack keeps its version.

``Sources.receive_push`` answers ``POST /api/v1/hooks/git``: the raw body is checked against the
repositories' secrets before anything in it is read (``controller.sources.git.webhooks``); a
verified push
for a followed ref triggers a fetch (coalesced with one running) and answers 202 with what will
happen. A delivery no secret signs gets one answer, whether its repository is followed or not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from controller.db import Database
from controller.desired.reach import Reach
from controller.desired.repository_spec import RepositorySpec
from controller.models import Event, LogLevel
from controller.models.audit import AuditEntry, AuditResult, Surface
from controller.models.errors import StackctlError
from controller.sources.git import matching, webhooks
from controller.sources.git.deliveries import Deliveries
from controller.sources.git.sizing import CheckoutLimits
from controller.sources.loader import LoadResult
from controller.sources.puller import GitStats, Puller
from controller.sources.watcher import Claims

log = logging.getLogger("stackctl.git")

DEFAULT = "default"  # the name of the repository given by --git-url


@dataclass(frozen=True)
class Declared:
    spec: RepositorySpec
    declared_by: str  # "--git-url" or the manifest file
    secret: bytes | None = None  # a webhook secret given directly (STACKCTL_GIT_WEBHOOK_SECRET)


def declarations(
    last: LoadResult | None, *, flagged: RepositorySpec | None, secret: bytes | None
) -> tuple[dict[str, Declared], frozenset[str]]:
    """The repositories to follow: ``--git-url``'s (``flagged``, named ``default``) and those
    the watched directory's last load declares; and the sources with errors (``broken``: a
    repository they declared keeps being followed). A name declared twice keeps the first
    declaration (the flag, then files in order) and is logged."""
    declared: dict[str, Declared] = {}
    if flagged is not None:
        declared[DEFAULT] = Declared(flagged, "--git-url", secret)
    if last is None:
        return declared, frozenset()
    for source, report in sorted(last.sources.items()):
        for name in report.repositories:
            if name in declared:
                log.error(
                    "%s declares repository %s, already declared by %s; ignored",
                    source,
                    name,
                    declared[name].declared_by,
                )
            elif name in last.repositories:
                declared[name] = Declared(last.repositories[name], source)
    return declared, frozenset(s for s, r in last.sources.items() if r.errors)


@dataclass
class _Running:
    declared: Declared
    puller: Puller
    thread: threading.Thread
    stop: threading.Event


class Sources:
    def __init__(
        self,
        db: Database,
        *,
        state_dir: Path,
        claims: Claims,
        on_enqueue: Callable[[], None],
        stats: GitStats,
        reach: Reach = Reach(),
        limits: CheckoutLimits = CheckoutLimits(),
    ) -> None:
        self._db = db
        self._reach = reach
        self._limits = limits
        self._state_dir = state_dir
        self._claims = claims
        self._on_enqueue = on_enqueue
        self.stats = stats
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        self._deliveries = Deliveries()

    # -- following ---------------------------------------------------------------------------

    def update(
        self, declared: Mapping[str, Declared], *, broken: frozenset[str] = frozenset()
    ) -> None:
        """Follow exactly ``declared``; a repository declared by one of the ``broken`` sources
        (files with errors now) keeps being followed as it was last declared."""
        with self._lock:
            for name in sorted(set(self._running) - set(declared)):
                if self._running[name].declared.declared_by in broken:
                    continue
                self._stop_one(name, removed=True)
            for name, item in sorted(declared.items()):
                running = self._running.get(name)
                if running is not None and running.declared == item:
                    continue
                if running is not None:
                    log.info("repository %s: declaration changed; following it anew", name)
                    self._stop_one(name, removed=False)
                self._start_one(item)
            self._db.repositories.forget_others(set(self._running))

    def pullers(self) -> dict[str, Puller]:
        with self._lock:
            return {name: r.puller for name, r in self._running.items()}

    def stop_all(self) -> None:
        with self._lock:
            for name in list(self._running):
                self._stop_one(name, removed=False, forget=False)

    def readiness(self) -> bool | str:
        """True, or which repositories could not be fetched last time, or could not be read
        (a pass that failed, being retried), and why."""
        failing: list[str] = []
        for name, puller in sorted(self.pullers().items()):
            if puller.error:
                failing.append(f"{name}: last fetch failed: {puller.error}")
            if puller.watcher.failing:
                failing.append(f"{name}: {puller.watcher.failing}")
        return True if not failing else "; ".join(failing)

    def take_requests(self) -> None:
        """Fetch the repositories ``stackctl sync --repository`` asked for."""
        names = self._db.repositories.take_requests()
        running = self.pullers()
        for name in names:
            if name in running:
                running[name].trigger("stackctl sync --repository")

    def _start_one(self, item: Declared) -> None:
        puller = Puller(
            self._db,
            item.spec,
            state_dir=self._state_dir,
            declared_by=item.declared_by,
            claims=self._claims,
            on_enqueue=self._on_enqueue,
            stats=self.stats,
            reach=self._reach,
            limits=self._limits,
        )
        puller.declare()
        stop = threading.Event()

        def run() -> None:
            try:
                puller.run(stop)
            except Exception:
                log.exception("repository %s: puller died", item.spec.name)

        thread = threading.Thread(target=run, name=f"git-{item.spec.name}", daemon=True)
        self._running[item.spec.name] = _Running(item, puller, thread, stop)
        thread.start()
        log.info(
            "following repository %s (%s) at %s, path %s, every %gs",
            item.spec.name,
            puller.declared_by,
            item.spec.ref,
            item.spec.path,
            item.spec.interval_s,
        )

    def _stop_one(self, name: str, *, removed: bool, forget: bool = True) -> None:
        running = self._running.pop(name)
        running.stop.set()
        running.puller.stop()
        running.thread.join(timeout=10)  # a fetch in flight is cancelled within 0.25 s
        self._claims.leave(running.puller.watcher.source)
        if removed:
            stacks = sorted(running.puller.watcher.managed_names())
            message = (
                f"repository {name} is no longer declared; its stacks keep running unowned"
                + (f" ({', '.join(stacks)}): delete them with `stackctl delete`" if stacks else "")
            )
            log.warning("%s", message)
            self._db.events.add(
                Event(level=LogLevel.WARNING, reason="RepositoryRemoved", message=message)
            )

    # -- webhooks ----------------------------------------------------------------------------

    def receive_push(
        self, *, headers: Mapping[str, str], body: bytes, repository: str | None = None
    ) -> tuple[int, dict[str, object]]:
        """(HTTP status, JSON body) for one webhook delivery. The raw body is checked against
        the secrets first (the named repository's, else every followed one's) and parsed only
        once one signs it; a delivery none signs gets one answer (``NOT_SIGNED``), followed
        repository or not. Blocking (HMACs, JSON): the route runs it in a thread."""
        too_large = webhooks.check_content_length(headers)
        if too_large is not None:
            return self._answer("unknown", too_large)
        delivery = webhooks.read_delivery(headers)
        if isinstance(delivery, webhooks.Refusal):
            return self._answer("unknown", delivery)
        provider = delivery.provider.value
        signers = self._signers(delivery, body, repository)
        if not signers:
            return self._answer(provider, webhooks.NOT_SIGNED)
        outcome = webhooks.read_signed(delivery, body=body)
        if isinstance(outcome, webhooks.Refusal):
            return self._answer(provider, outcome)
        for name, puller in signers.items():
            about = isinstance(outcome, webhooks.Push | webhooks.Ping)  # it names its repository
            if repository is None and about and not matching.repository_matches(
                puller.spec.url, outcome
            ):
                continue
            return self._act(name, puller, outcome, provider)
        self.stats.webhook(provider, "unknown_repository")
        return 202, {"detail": "ignored: the repositories whose secret signs it have other URLs"}

    def _signers(
        self, delivery: webhooks.Delivery, body: bytes, repository: str | None
    ) -> dict[str, Puller]:
        """The followed repositories (only ``repository`` when named) whose secret signs the
        raw body, in name order; each distinct secret is tried once."""
        with self._lock:
            running = dict(self._running)
        verdicts: dict[bytes, bool] = {}
        found: dict[str, Puller] = {}
        for name, item in sorted(running.items()):
            if repository is not None and name != repository:
                continue
            secret = _secret(item.declared)
            if not secret:
                continue
            if secret not in verdicts:
                verdicts[secret] = webhooks.is_signed(delivery, body=body, secret=secret)
            if verdicts[secret]:
                found[name] = item.puller
        return found

    def _act(
        self, name: str, puller: Puller, outcome: webhooks.Outcome, provider: str
    ) -> tuple[int, dict[str, object]]:
        match outcome:
            case webhooks.Ping():
                self.stats.webhook(provider, "ping")
                return 200, {"detail": "pong", "repository": name}
            case webhooks.Ignored(reason=reason):
                self.stats.webhook(provider, "ignored")
                return 202, {"detail": f"ignored: {reason}", "repository": name}
            case webhooks.Push() as push:
                if not matching.ref_matches(puller.spec.ref, push.ref):
                    self.stats.webhook(provider, "other_ref")
                    return 202, {
                        "detail": f"ignored: a push to {push.ref}; {name} follows"
                        f" {puller.spec.ref}",
                        "repository": name,
                    }
                if self._deliveries.seen_before(push.delivery):
                    self.stats.webhook(provider, "redelivery")
                    return 202, {
                        "detail": f"delivery {push.delivery} was received before; not fetched"
                        " again",
                        "repository": name,
                    }
                puller.trigger(f"{provider} push {push.after[:12]} to {push.ref}")
                self._audit(provider, name, push)
                self.stats.webhook(provider, "accepted")
                return 202, {
                    "detail": f"fetching {name} now; a new commit is recorded as versions"
                    " and applied",
                    "repository": name,
                    "ref": push.ref,
                    "after": push.after,
                }
        return self._answer(provider, outcome)

    def _audit(self, provider: str, name: str, push: webhooks.Push) -> None:
        """A verified push that asks for a fetch, in the audit log as the forge's: the versions
        it leads to name its commit (``git_commit``, ``git_author``)."""
        entry = AuditEntry(
            who=f"webhook from {provider}",
            who_kind="webhook",
            surface=Surface.WEBHOOK,
            action=f"fetch {name}",
            result=AuditResult.OK,
            detail=f"push {push.after[:12]} to {push.ref} (delivery {push.delivery or '-'})",
        )
        with suppress(StackctlError):  # the fetch goes on: the database says why elsewhere
            self._db.audit.record(entry)

    def _answer(self, provider: str, outcome: webhooks.Outcome) -> tuple[int, dict[str, object]]:
        status = getattr(outcome, "http_status", 400)
        self.stats.webhook(provider, type(outcome).__name__.lower())
        return status, {"detail": getattr(outcome, "reason", type(outcome).__name__)}


def _secret(item: Declared) -> bytes | None:
    """Read at each delivery, so a rotated secret file applies without a restart."""
    if item.secret is not None:
        return item.secret
    path = item.spec.webhook_secret_file
    if path is None:
        return None
    try:
        return path.read_bytes().rstrip(b"\r\n") or None
    except OSError as e:
        log.warning("repository %s: cannot read the webhook secret file: %s", item.spec.name, e)
        return None
