"""``EngineSteps``: a command's plans carried out on its engine, each step in the command log.

The reconciler decides what to do; this carries it out through the stack's backend
(``Backend.carry_out``) and says so: every step with its reason and duration (``report``), the
waits' "still waiting" lines (``progress``), and every line also echoed to the terminal and the
daemon's log (``log``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from controller.backends.interface import Backend, Observed, Run, Turn
from controller.backends.shared.steps import Plan, Step
from controller.db import Database
from controller.desired import DesiredStack
from controller.models import Command, LogLevel

if TYPE_CHECKING:  # a logger is given by the daemon, which has loaded logging
    import logging

Printer = Callable[[str], None]


class EngineSteps:
    def __init__(
        self,
        db: Database,
        *,
        files_dir: Path,
        parallelism: int,
        progress_every: float,
        timeout: Callable[[DesiredStack | None], float],
        echo: Printer | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._db = db
        self._files_dir = files_dir
        self._parallelism = parallelism
        self._progress_every = progress_every
        self._timeout = timeout  # a stack's waits: its spec.timeout, else the controller's
        self._echo = echo or (lambda line: None)  # for people at a terminal
        self._logger = logger  # for the daemon's log, with levels

    def execute(
        self,
        command: Command,
        the_plan: Plan,
        *,
        check: Callable[[], None],
        desired: DesiredStack | None,
        version: str | None,
        root: Path,
        engine: Backend,
        turn: Turn | None = None,
        previous: DesiredStack | None = None,
        observed: Observed = None,
    ) -> None:
        """Carry a plan out on ``engine``, every step in the command log; its waits give way
        as ``turn`` says (``controller.reconcile.turns``; none: they hold the worker).
        ``previous``: what a backend that plans again mid-way (a Swarm) plans against;
        ``observed``: what the plan was made on (``Run.observed``)."""
        engine.carry_out(
            the_plan,
            Run(
                desired=desired,
                version=version,
                root=root,
                files_dir=self._files_dir,
                previous=previous,
                wait_timeout=self._timeout(desired),
                parallelism=self._parallelism,
                on_step=lambda step, secs, err: self.report(command, step, seconds=secs, error=err),
                still_ours=check,
                on_progress=lambda message: self.progress(command, message),
                progress_every=self._progress_every,
                turn=turn,
                observed=observed,
            ),
        )

    def progress(self, command: Command, message: str) -> None:
        """A "still waiting" line: logged, so people following the command see it move."""
        self.log(command, LogLevel.INFO, message)

    def report(
        self, command: Command, step: Step, *, seconds: float, error: BaseException | None
    ) -> None:
        assert command.command_id is not None
        data = {**step.to_dict(), "duration_ms": round(seconds * 1000)}
        if error is None:
            self.log(command, LogLevel.INFO, f"{step.describe()} ({seconds:.2f}s)", data)
        else:
            self.log(
                command,
                LogLevel.ERROR,
                f"{step.describe()} failed after {seconds:.2f}s: {error}",
                {**data, "error": str(error)},
            )

    def log(
        self, command: Command, level: LogLevel, message: str, data: dict | None = None
    ) -> None:
        """A command log line, also echoed to the terminal and the daemon's log."""
        assert command.command_id is not None
        self._db.command_logs.add(command.command_id, level, message, data=data)
        self._echo(f"[{command.stack_id}] {message}")
        if self._logger is not None:
            self._logger.log(_python_level(level), "[%s] %s", command.stack_id, message)


def _python_level(level: LogLevel) -> int:
    """``logging``'s level of ``level`` (imported here: only the daemon gives a logger)."""
    import logging

    return {
        LogLevel.DEBUG: logging.DEBUG,
        LogLevel.INFO: logging.INFO,
        LogLevel.WARNING: logging.WARNING,
        LogLevel.ERROR: logging.ERROR,
    }[level]
