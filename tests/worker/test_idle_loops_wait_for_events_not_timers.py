"""An idle controller's loops sleep until something happens (issue 27, goal 4), not on a timer:
the dispatcher wakes the workers for a command another process queued once the database's
change is heard, and for a retry once its backoff ends, with nothing heard; the database's
watch hears another connection's write; ``Changes`` wakes every loop waiting on it; the
sender sleeps until its next retry is due. Each test makes the loops' safety-net waits an hour
long, so what happens here was caused by the event."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from helpers.controller_process import wait_for

from controller.daemon import db_watch, workers
from controller.daemon.life import Changes, Life
from controller.db import Database
from controller.delivery.notifications.sender import Sender
from controller.models import Command, CommandType, Stack
from controller.sources import inotify


@pytest.fixture
def no_timer(monkeypatch):
    monkeypatch.setattr(workers, "DISPATCH_MAX", 3600.0)
    monkeypatch.setattr(db_watch, "POLL_EVERY", 3600.0)


def queued(db: Database, stack: str, *, delay: float | None = None) -> Command:
    db.stacks.create(Stack(stack_id=stack, name=stack))
    not_before = None if delay is None else db.clock() + timedelta(seconds=delay)
    return db.commands.enqueue(
        Command(stack_id=stack, type=CommandType.RECONCILE, not_before=not_before)
    )


def running(target, **kwargs) -> threading.Thread:
    thread = threading.Thread(target=target, kwargs=kwargs, daemon=True)
    thread.start()
    return thread


def stop(life: Life, *threads: threading.Thread) -> None:
    life.stop.set()
    life.changes.notify()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()


def test_changes_wake_every_waiter_once():
    changes = Changes()
    woken: list[int] = []
    waiters = [running(lambda: woken.append(changes.wait(0, 3600))) for _ in range(3)]
    changes.notify()
    for thread in waiters:
        thread.join(timeout=10)
    assert woken == [1, 1, 1]
    assert changes.wait(1, 0.01) == 1  # nothing new: the timeout


def test_a_command_queued_elsewhere_wakes_the_workers_once_heard(db, db_path, no_timer):
    life, wakes = Life(), threading.Event()
    thread = running(workers.dispatch, db=db, life=life, wake=wakes.set)
    try:
        with Database(db_path=db_path) as other:  # another process's connection: the CLI
            queued(other, "shop")
        life.changes.notify()  # what the database's watch does on that write
        assert wakes.wait(10)
    finally:
        stop(life, thread)


def test_a_retry_wakes_the_workers_when_its_backoff_ends(db, no_timer):
    life, wakes = Life(), threading.Event()
    queued(db, "shop", delay=0.5)
    assert db.commands.get_next_pending() is None
    assert db.commands.next_not_before() is not None
    thread = running(workers.dispatch, db=db, life=life, wake=wakes.set)
    try:
        assert wakes.wait(10)  # nothing notified: it slept until the command was due
        assert db.commands.next_not_before() is None
    finally:
        stop(life, thread)


@pytest.mark.skipif(not inotify.available(), reason="needs Linux's inotify")
def test_the_database_watch_hears_another_connections_write(db, db_path, no_timer):
    life, bell, heard = Life(), inotify.Doorbell(), threading.Event()
    thread = running(db_watch.watch_database, path=Path(db_path), life=life, bell=bell,
                     on_change=heard.set)
    try:
        with Database(db_path=db_path) as other:
            for n in range(50):  # the watch may not be set yet at the first write
                queued(other, f"s{n}")
                if heard.wait(0.2):
                    break
        assert heard.is_set()
        assert life.changes.wait(0, 0) > 0
    finally:
        life.stop.set()
        bell.ring()
        thread.join(timeout=10)
        assert not thread.is_alive()
        bell.close()


def test_the_sender_sleeps_until_its_next_retry_is_due(db):
    sender = Sender(db)
    assert sender._until_due(3600.0) == 3600.0  # nothing to send: only its safety net


class FakeSources:
    def __init__(self) -> None:
        self.updates, self.takes = 0, 0

    def update(self, declared, *, broken) -> None:
        self.updates += 1

    def take_requests(self) -> None:
        self.takes += 1


def test_the_repositories_loop_looks_when_a_change_is_heard(root, db, monkeypatch):
    from controller.daemon import pulling
    from controller.sources.watcher import Watcher

    monkeypatch.setattr(pulling, "FOLLOW_MAX", 3600.0)
    life, sources, watcher = Life(), FakeSources(), Watcher(db, root)
    watcher.on_pass = life.changes.notify  # as the controller wires it
    thread = running(pulling.follow_repositories, sources=sources, watcher=watcher,
                     flagged=None, secret=None, life=life)
    try:
        wait_for(lambda: sources.takes == 1, what="the first look", timeout=10)
        watcher.sync_safely()  # a pass: its load declares the repositories followed
        wait_for(lambda: sources.updates == 1 and sources.takes == 2, what="a look after it",
                 timeout=10)
        life.changes.notify()  # a write to the database: a sync request, maybe
        wait_for(lambda: sources.takes == 3, what="a look for requests", timeout=10)
        assert sources.updates == 1  # no new pass: the declarations are kept
    finally:
        stop(life, thread)


def test_the_main_thread_sleeps_until_the_stop_is_set():
    life, signalled = Life(), []
    waiter = running(life.wait_for_stop, on_signal=lambda: signalled.append(1))
    waiter.join(timeout=0.2)
    assert waiter.is_alive()  # nothing happened: still asleep
    threading.Timer(0.1, life.stop.set).start()  # a loop stopping the controller
    waiter.join(timeout=10)
    assert not waiter.is_alive() and signalled == []
    life.close()
    life.stop.set()  # closed: rings nothing, raises nothing


def test_the_recovery_loop_queues_again_once_a_write_is_heard_after_faults(monkeypatch):
    from types import SimpleNamespace

    from controller.daemon import queueing

    monkeypatch.setattr(queueing, "RECOVERY_MAX", 3600.0)
    life, db, queued_again = Life(), SimpleNamespace(faults=0), threading.Event()
    thread = running(queueing.queue_after_faults, db=db, life=life, queue=queued_again.set)
    try:
        life.changes.notify()  # a write heard, no fault met: nothing to queue
        assert not queued_again.wait(0.3)
        db.faults = 2  # faults met meanwhile; then the lease's renewal writes again
        life.changes.notify()
        assert queued_again.wait(10)
    finally:
        stop(life, thread)
