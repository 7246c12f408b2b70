"""Image updates: a stack with ``spec.imageUpdates`` follows its images' tags in their registry.

Every ``interval`` (per stack; the first check at start, the last check time kept in memory)
``ImageUpdateChecker`` compares, for each service of the stack's *applied* version, the digest
its tag names in the registry now with the digests of the image its containers run. When they
differ:

- ``notify``: an ``ImageUpdateAvailable`` event (also a notification), once per new digest
  and service: what was said is remembered in memory and, across a restart, read
  back from the stack's latest events (``db.events.list``), so a restart says nothing again
  unless 50 newer events of the stack pushed the old one out of sight.
- ``apply``: a new version recorded by ``stackctl image-updates`` whose spec pins the digest
  (the service's image becomes ``repo:tag@sha256:...``) and its APPLY queued in the same
  transaction (``versions.record_and_enqueue``, as the watcher does), plus an ``ImageUpdated``
  event. A rollback to an earlier version returns to the digest that version ran: the local
  tag is never moved (a pull by digest does not tag), so ``repo:tag`` still names the old
  image on this engine. A digest is recorded once: one rolled back from is not brought back
  by ``resume`` (the next digest is); one only notified before (the policy was ``notify``, or
  the stack pinned) is.

Which services are followed: those whose image has a tag (``:latest`` when none is written)
and no digest, plus those whose ``repo:tag@digest`` a version recorded by this checker holds
(``checker_pins``: its own pins, followed by their tag). Skipped: an image pinned in the files
(``repo@sha256:`` or ``repo:tag@sha256:``), a ``build:`` service, a service with no running
container, and an image that did not come from a registry (its running image carries no
digest of that repository: built or imported here); for those the registry is never asked.

A stack that is pinned by a rollback, or suspended, gets the event only (its message says
why): recording a version for it would either not apply (pinned) or change nothing
(suspended). A stack with an APPLY on its way (current version not the applied one) is left
for the next interval.

The pins survive file changes and restarts: the watcher records the files' stack with this
checker's pins carried for every service whose ``repo:tag`` the files did not change
(``controller.sources.pins``).

It must never store a credential (``RegistryDigests`` reads them at each use) nor send a
notification itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from controller.backends.docker import Engine
from controller.backends.shared.registry import RegistryDigests
from controller.db import Database
from controller.desired import DesiredStack
from controller.models import Event, LogLevel, Stack, StackMetadata
from controller.models.errors import StackctlError
from controller.sources.loader.references import REFERENCE
from controller.sources.pins import CREATED_BY, checker_pins, pin_digests
from controller.sources.versions import load_desired, record_and_enqueue, version_root

log = logging.getLogger("stackctl.image_updates")

AVAILABLE = "ImageUpdateAvailable"
UPDATED = "ImageUpdated"
CHECK_FAILED = "ImageUpdateCheckFailed"
RECENT_EVENTS = 50  # how far back a restarted checker looks for what it already said
IDLE_WAIT = 5.0  # at most this long between two looks at which stacks are due


@dataclass(frozen=True)
class Followed:
    """A service whose tag is followed: ``tag_ref`` (``repo:tag``) in ``repository``."""

    service: str
    tag_ref: str
    repository: str


@dataclass(frozen=True)
class Finding:
    """A service whose tag names another digest than the one it runs."""

    service: str
    image: str  # repo:tag
    running: str  # sha256:... (the running image's digest of that repository)
    available: str  # sha256:... (what the tag names in the registry now)

    def data(self) -> dict[str, str]:
        return {
            "service": self.service,
            "image": self.image,
            "running": self.running,
            "available": self.available,
        }

    def message(self) -> str:
        return (
            f"{self.service}: {self.image} has a new digest {short(self.available)}"
            f" (running {short(self.running)})"
        )


@dataclass(frozen=True)
class _Applied:
    version: str
    desired: DesiredStack
    own_pins: frozenset[str]  # the ``repo:tag@digest`` images this checker ever recorded
    root: Path


@dataclass
class RoundReport:
    checked: list[str] = field(default_factory=list)  # stacks
    found: list[Finding] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)  # "stack vN"
    failed: list[str] = field(default_factory=list)  # "stack: error"


# -- pure rules --------------------------------------------------------------------------------


def short(digest: str) -> str:
    algorithm, _, hex_digits = digest.partition(":")
    return f"{algorithm}:{hex_digits[:12]}…"


def familiar(repository: str) -> str:
    """A repository as ``RepoDigests`` writes it: Docker Hub's domain and ``library/`` off."""
    for prefix in ("docker.io/", "index.docker.io/"):
        if repository.startswith(prefix):
            repository = repository.removeprefix(prefix).removeprefix("library/")
    return repository


def followed_images(
    desired: DesiredStack, *, own_pins: Collection[str] = ()
) -> dict[str, Followed]:
    """The services whose tag is followed (see the module); a ``repo:tag@digest`` image is
    followed by its tag only when it is one of ``own_pins`` (``checker_pins``)."""
    out: dict[str, Followed] = {}
    for name, service in sorted(desired.compose.services.items()):
        if service.build is not None or not service.image:
            continue
        match = REFERENCE.fullmatch(service.image)
        if match is None:
            continue
        if match["digest"] and not (match["tag"] and service.image in own_pins):
            continue  # pinned in the files
        repository = match["name"]
        out[name] = Followed(name, f"{repository}:{match['tag'] or 'latest'}", repository)
    return out


def running_digests(repo_digests: tuple[str, ...], repository: str) -> set[str]:
    """The digests among ``RepoDigests`` that belong to ``repository``."""
    want = familiar(repository)
    return {
        digest
        for entry in repo_digests
        for name, _, digest in [entry.rpartition("@")]
        if familiar(name) == want
    }


# -- the checker -------------------------------------------------------------------------------


class ImageUpdateChecker:
    """Checks the stacks with ``imageUpdates`` when due: ``round()`` once, ``run(stop)`` until
    ``stop`` is set."""

    def __init__(
        self,
        db: Database,
        *,
        engine: Engine,
        digests: RegistryDigests,
        root: Path,
        on_enqueue: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``root``: the watched root, for versions recorded before roots were recorded;
        ``on_enqueue``: called after an APPLY was queued (wake the workers)."""
        self._db = db
        self._engine = engine
        self._digests = digests
        self._root = root
        self._on_enqueue = on_enqueue
        self._clock = clock
        self._checked_at: dict[str, float] = {}  # stack -> when it was last checked
        self._said: dict[tuple[str, str, str], str] = {}  # (stack, service, reason) -> digest
        self._failures: dict[str, str] = {}  # stack -> the last failure said
        self._loaded: dict[str, _Applied] = {}  # stack -> its applied version, read

    def run(self, stop: threading.Event) -> None:
        """Check every due stack, then wait for the next one due (at most ``IDLE_WAIT``: a
        stack that starts asking for image updates is seen within that)."""
        while not stop.is_set():
            try:
                self.round()
            except StackctlError as e:  # a database fault says all in one line
                log.warning("image update round failed: %s", e)
            except Exception:  # the checker outlives any one bad round
                log.exception("image update round failed")
            stop.wait(IDLE_WAIT)

    def round(self, *, force: bool = False) -> RoundReport:
        """Check each stack whose interval has passed (every one with ``force``)."""
        report = RoundReport()
        for stack in self._db.stacks.list():
            if stack.applied_version is None or stack.current_version is None:
                self._checked_at.pop(stack.stack_id, None)
                continue
            try:
                self._check_if_due(stack, report, force=force)
            except StackctlError as e:
                report.failed.append(f"{stack.stack_id}: {e}")
                self._failed(stack.stack_id, str(e))
        return report

    def _check_if_due(self, stack: Stack, report: RoundReport, *, force: bool) -> None:
        try:
            loaded = self._applied(stack)
        except StackctlError as e:  # its APPLY fails for the same reason and says so there
            log.debug("%s: applied version unreadable: %s", stack.stack_id, e)
            return
        if loaded is None or loaded.desired.image_updates is None:
            self._checked_at.pop(stack.stack_id, None)
            return
        policy = loaded.desired.image_updates
        now = self._clock()
        last = self._checked_at.get(stack.stack_id)
        if not force and last is not None and now - last < policy.interval:
            return
        self._checked_at[stack.stack_id] = now
        if stack.current_version != stack.applied_version:
            return  # an APPLY is on its way: look again at the next interval
        report.checked.append(stack.stack_id)
        followed = followed_images(loaded.desired, own_pins=loaded.own_pins)
        findings = self._compare(stack.stack_id, followed)
        self._failures.pop(stack.stack_id, None)
        report.found += findings
        held = _held_because(stack)
        applying = policy.policy == "apply" and held is None
        # Applying skips only what was applied (recorded) before: a digest merely said while
        # notifying, or while pinned, is applied once the stack may follow it.
        reasons = (UPDATED,) if applying else (AVAILABLE, UPDATED)
        new = [f for f in findings if not self._already(stack.stack_id, f, reasons)]
        if not new:
            return
        if applying:
            self._apply(stack, loaded, new=new, report=report)
            return
        for finding in new:
            suffix = f"; not applied: {held}" if policy.policy == "apply" and held else ""
            self._say(stack.stack_id, AVAILABLE, finding, finding.message() + suffix)
            self._said[(stack.stack_id, finding.service, AVAILABLE)] = finding.available

    def _applied(self, stack: Stack) -> _Applied | None:
        """The applied version's desired stack, read once per version (not at every look)."""
        cached = self._loaded.get(stack.stack_id)
        if cached is not None and cached.version == stack.applied_version:
            return cached
        applied = self._db.stack_versions.get(stack.stack_id, stack.applied_version or "")
        if applied is None:
            return None
        desired = load_desired(self._db, applied)
        versions = self._db.stack_versions.list(stack.stack_id) if desired.image_updates else []
        loaded = _Applied(
            version=applied.version,
            desired=desired,
            own_pins=checker_pins(versions),  # read only for the stacks that follow images
            root=version_root(applied, self._root),
        )
        self._loaded[stack.stack_id] = loaded
        return loaded

    def _compare(self, stack_id: str, followed: dict[str, Followed]) -> list[Finding]:
        """The services whose running image lacks the digest their tag names now."""
        if not followed:
            return []
        images: dict[str, set[str]] = {}
        for container in self._engine.observe(stack_id, by_name=False).containers:
            images.setdefault(container.service, set()).add(container.image_id)
        remote: dict[str, str] = {}  # tag_ref -> digest, asked once per round and stack
        findings: list[Finding] = []
        for name, follow in followed.items():
            running = [
                running_digests(self._digests.local_digests(image), follow.repository)
                for image in sorted(images.get(name, ()))
            ]
            if not running or not all(running):
                continue  # not running, or not from a registry: nothing to compare
            if follow.tag_ref not in remote:
                remote[follow.tag_ref] = self._digests.remote_digest(follow.tag_ref)
            available = remote[follow.tag_ref]
            stale = [digests for digests in running if available not in digests]
            if stale:
                findings.append(Finding(name, follow.tag_ref, min(stale[0]), available))
        return findings

    def _apply(
        self, stack: Stack, loaded: _Applied, *, new: list[Finding], report: RoundReport
    ) -> None:
        pinned = pin_digests(loaded.desired, {f.service: f.available for f in new})
        pins = ", ".join(f"{f.service} {f.image}@{short(f.available)}" for f in new)
        with self._db.transaction():
            recorded = record_and_enqueue(
                self._db,
                pinned,
                root=loaded.root,
                metadata=StackMetadata(created_by=CREATED_BY, comment=f"image update: {pins}"),
            )
            version = recorded.version
            for finding in new:
                if version is None:
                    outcome = "; its version is recorded already"
                elif recorded.command is None:
                    outcome = f"; {version.version} recorded, not applied: the stack is pinned"
                else:
                    outcome = f"; {version.version} pins it"
                self._say(stack.stack_id, UPDATED, finding, finding.message() + outcome)
        for finding in new:  # remembered once the events are stored
            self._said[(stack.stack_id, finding.service, UPDATED)] = finding.available
        if version is not None:
            report.recorded.append(f"{stack.stack_id} {version.version}")
            log.info("%s %s recorded: %s", stack.stack_id, version.version, pins)
        if recorded.command is not None:
            self._on_enqueue()

    def _already(self, stack_id: str, finding: Finding, reasons: tuple[str, ...]) -> bool:
        """Whether this digest was said for this service with one of ``reasons``: in memory,
        else in the stack's recent events (the newest of them about the service decides)."""
        if any(
            self._said.get((stack_id, finding.service, r)) == finding.available for r in reasons
        ):
            return True
        for event in self._db.events.list(stack_id=stack_id, limit=RECENT_EVENTS).items:
            data = event.data or {}
            if event.reason in reasons and data.get("service") == finding.service:
                if data.get("available") != finding.available:
                    return False  # the newest word on this service was another digest
                self._said[(stack_id, finding.service, event.reason)] = finding.available
                return True
        return False

    def _say(self, stack_id: str, reason: str, finding: Finding, message: str) -> None:
        self._db.events.add(
            Event(
                stack_id=stack_id,
                level=LogLevel.INFO,
                reason=reason,
                message=message,
                data=finding.data(),
            )
        )
        log.info("%s: %s", stack_id, message)

    def _failed(self, stack_id: str, error: str) -> None:
        """Said once per distinct error (a registry down for an hour is one event)."""
        log.warning("image update check of %s failed: %s", stack_id, error)
        if self._failures.get(stack_id) == error:
            return
        self._failures[stack_id] = error
        self._db.events.add(
            Event(
                stack_id=stack_id,
                level=LogLevel.WARNING,
                reason=CHECK_FAILED,
                message=f"image update check failed: {error}",
            )
        )


def _held_because(stack: Stack) -> str | None:
    """Why no version may be recorded for ``stack`` now, or None."""
    if stack.pinned:
        return "the stack is pinned by a rollback (`stackctl resume` follows the files again)"
    if stack.suspended:
        return "the stack is suspended"
    return None
