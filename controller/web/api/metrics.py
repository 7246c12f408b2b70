"""Prometheus metrics, computed at scrape time from the database.

A custom collector on a dedicated ``CollectorRegistry`` (never the process-global one, so two
apps in one process, as in tests, do not collide) reads the aggregates of
``controller.db.stats`` on every scrape. The numbers are therefore right after a restart and
whichever process did the work (the daemon, a CLI ``apply``). Engine calls are this process's
own, from the ``engine_calls`` callable.

Counters and histograms derived from rows stay monotonic although compaction
(``db.retention``) deletes old finished commands and events: it adds what it deletes to
``retired_totals`` in the same transaction, and ``controller.db.stats`` adds those totals back
in the same statement that counts the live rows; the histogram bounds are the database layer's
(``stats.bounds``) so that retired buckets match. Gauges (queue depth, stacks by status) count
only live rows. One way down remains: deleting a stack row (``stacks.delete``, which the
controller itself never calls) takes its commands' counts with it, a reset to Prometheus.

Metrics (all prefixed ``stackctl_``):
- ``reconciles_total{stack,type,result}``: finished APPLY/RECONCILE/DELETE commands, DONE/FAILED;
- ``reconcile_duration_seconds{type}``: how long finished commands ran (histogram);
- ``queue_depth{status}``: commands waiting or running (PENDING, RUNNING);
- ``commands_finished_total{status}``: finished commands (DONE, FAILED, SUPERSEDED, CANCELLED);
- ``queue_wait_seconds{type}``: how long commands waited between enqueue and claim (histogram);
- ``stacks_by_sync_status{sync_status}``, ``stacks_by_health_status{health_status}``,
  ``stacks_pinned``, ``stacks_suspended``;
- ``manifest_errors_total{stack}``: ``ManifestInvalid`` events (``stack=""``: no stack);
- ``notification_deliveries{destination,status}``: the outbox's deliveries (a gauge);
- ``engine_calls_total{operation}``; ``database_up``: 1 when the last scrape could read;
- ``git_fetches_total{repository,result}`` (changed, unchanged, failed),
  ``git_last_fetch_timestamp_seconds{repository}``, ``webhook_requests_total{provider,result}``
  and ``git_push_to_apply_seconds`` (a trigger, e.g. a push webhook, to its APPLY recorded):
  this process's own, from the ``git_stats`` callable (a ``controller.sources.puller.GitStats``).
With ``redact`` (``/metrics`` without the token when one is set) the labels that name things
(``REDACTED``: stacks, repositories, destinations) are blank and their series summed (the latest
of timestamps): counts and states stay, names go.
Besides, the client library's standard ``process_*`` (CPU, memory, open files, start time),
``python_info`` and ``python_gc_*`` metrics of this process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from controller.db import Database
from controller.db.stats import Histogram, StatsRepository, bounds
from controller.models import CommandStatus, CommandType, HealthStatus, SyncStatus

log = logging.getLogger("stackctl.api")

# Fixed by the database layer: compaction retires bucket counts at these bounds.
DURATION_BUCKETS = bounds("run")
WAIT_BUCKETS = bounds("wait")
MANIFEST_INVALID = "ManifestInvalid"

EngineCalls = Callable[[], Mapping[str, int]]
REDACTED = frozenset({"stack", "repository", "destination"})


class DatabaseCollector(Collector):
    """Yields every metric family from the database, at scrape time."""

    def __init__(
        self,
        db: Callable[[], Database],
        engine_calls: EngineCalls | None,
        git_stats: Callable[[], Any] | None = None,
        *,
        redact: bool = False,
    ) -> None:
        self._db = db
        self._engine_calls = engine_calls
        self._git_stats = git_stats
        self._redact = redact

    def collect(self) -> Iterator[Metric]:
        for family in self._collect():
            yield _redacted(family) if self._redact else family

    def _collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("stackctl_database_up", "1 when the database could be read.")
        try:
            families = list(self._from_database(StatsRepository(self._db())))
        except Exception as e:  # a scrape reports the failure; it never fails the endpoint
            log.warning("metrics: cannot read the database: %s", e)
            families = []
        up.add_metric([], 1.0 if families else 0.0)
        yield up
        yield from families
        yield self._engine()
        if self._git_stats is not None:
            yield from _git(self._git_stats())

    def _from_database(self, stats: StatsRepository) -> Iterator[Metric]:
        reconciles = CounterMetricFamily(
            "stackctl_reconciles",
            "Finished APPLY, RECONCILE and DELETE commands by stack, type and result.",
            labels=["stack", "type", "result"],
        )
        for stack, kind, status, count in stats.finished_commands([t.value for t in CommandType]):
            reconciles.add_metric([stack, kind, status], count)
        yield reconciles
        yield _histogram(
            "stackctl_reconcile_duration_seconds",
            "How long finished commands ran (their last attempt), by type.",
            stats.durations("run", finished_only=True),
        )
        depth = GaugeMetricFamily(
            "stackctl_queue_depth",
            "Commands waiting or running, by status (PENDING, RUNNING).",
            labels=["status"],
        )
        finished = CounterMetricFamily(
            "stackctl_commands_finished",
            "Finished commands by status (DONE, FAILED, SUPERSEDED, CANCELLED).",
            labels=["status"],
        )
        by_status = stats.commands_by_status()  # finished ones with the deleted ones
        for status in CommandStatus:
            family = finished if status.terminal else depth
            family.add_metric([status.value], by_status.get(status.value, 0))
        yield depth
        yield finished
        yield _histogram(
            "stackctl_queue_wait_seconds",
            "How long commands waited from enqueue to their (last) claim, by type.",
            stats.durations("wait", finished_only=False),
        )
        yield from _stack_gauges(stats)
        errors = CounterMetricFamily(
            "stackctl_manifest_errors",
            "Invalid manifests seen by the watcher (ManifestInvalid events), by stack.",
            labels=["stack"],
        )
        for stack, count in sorted(stats.events_by_stack(MANIFEST_INVALID).items(), key=str):
            errors.add_metric([stack or ""], count)
        yield errors
        deliveries = GaugeMetricFamily(
            "stackctl_notification_deliveries",
            "Notifications in the outbox by destination (scheme and host) and status"
            " (PENDING, SENT, FAILED, DROPPED); old ones go with the events.",
            labels=["destination", "status"],
        )
        for label, status, count in stats.deliveries():
            deliveries.add_metric([label, status], count)
        yield deliveries

    def _engine(self) -> Metric:
        calls = CounterMetricFamily(
            "stackctl_engine_calls",
            "Docker engine calls made by this process, by operation.",
            labels=["operation"],
        )
        if self._engine_calls is not None:
            try:
                counts = dict(self._engine_calls())
            except Exception as e:
                log.warning("metrics: cannot count engine calls: %s", e)
                counts = {}
            for operation, count in sorted(counts.items()):
                calls.add_metric([operation], count)
        return calls


def _stack_gauges(stats: StatsRepository) -> Iterator[Metric]:
    for column, enum, label in (
        ("sync_status", SyncStatus, "sync_status"),
        ("health_status", HealthStatus, "health_status"),
    ):
        gauge = GaugeMetricFamily(
            f"stackctl_stacks_by_{column}", f"Stacks by {label.replace('_', ' ')}.", labels=[label]
        )
        counts = stats.stacks_by(column)
        for value in enum:
            gauge.add_metric([value.value], counts.get(value.value, 0))
        yield gauge
    for flag in ("pinned", "suspended"):
        gauge = GaugeMetricFamily(f"stackctl_stacks_{flag}", f"Stacks that are {flag}.")
        gauge.add_metric([], stats.stacks_by(flag).get("1", 0))
        yield gauge


def _histogram(name: str, documentation: str, by_type: Mapping[str, Histogram]) -> Metric:
    family = HistogramMetricFamily(name, documentation, labels=["type"])
    for kind, histogram in sorted(by_type.items()):
        buckets = [
            (_bound(bound), float(count))
            for bound, count in zip(histogram.bounds, histogram.buckets, strict=True)
        ]
        buckets.append(("+Inf", float(histogram.count)))
        family.add_metric([kind], buckets, histogram.total)
    return family


def _bound(value: float) -> str:
    return repr(float(value))


def _redacted(family: Metric) -> Metric:
    """``family`` with the ``REDACTED`` labels blank and the series that then coincide merged."""
    if not any(REDACTED & sample.labels.keys() for sample in family.samples):
        return family
    merged: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for sample in family.samples:
        labels = tuple((k, "" if k in REDACTED else v) for k, v in sample.labels.items())
        key = (sample.name, labels)
        if key in merged and sample.name.endswith("_timestamp_seconds"):
            merged[key] = max(merged[key], sample.value)
        else:
            merged[key] = merged.get(key, 0.0) + sample.value
    out = Metric(family.name, family.documentation, family.type, family.unit)
    for (name, labels), value in merged.items():
        out.add_sample(name, dict(labels), value)
    return out


def build_registry(
    db: Callable[[], Database],
    engine_calls: EngineCalls | None,
    git_stats: Callable[[], Any] | None = None,
    *,
    redact: bool = False,
) -> CollectorRegistry:
    """A registry of its own: the database collector and the standard process, platform and
    garbage-collector metrics (registered here, not on the process-global registry);
    ``redact``: names blanked (``_redacted``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(db, engine_calls, git_stats, redact=redact))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def _git(stats: Any) -> Iterator[Metric]:
    """The repositories' figures (``GitStats``, duck-typed: the API never imports the daemon's
    layers)."""
    fetches = CounterMetricFamily(
        "stackctl_git_fetches",
        "Fetches of followed repositories by result.",
        labels=["repository", "result"],
    )
    for (repository, result), count in sorted(stats.fetches.items()):
        fetches.add_metric([repository, result], count)
    yield fetches
    last = GaugeMetricFamily(
        "stackctl_git_last_fetch_timestamp_seconds",
        "When each repository was last fetched (any result), Unix time.",
        labels=["repository"],
    )
    for repository, when in sorted(stats.last_fetch.items()):
        last.add_metric([repository], when)
    yield last
    hooks = CounterMetricFamily(
        "stackctl_webhook_requests",
        "Push webhook deliveries by provider and result.",
        labels=["provider", "result"],
    )
    for (provider, result), count in sorted(stats.webhooks.items()):
        hooks.add_metric([provider, result], count)
    yield hooks
    latency = HistogramMetricFamily(
        "stackctl_git_push_to_apply_seconds",
        "From a fetch trigger (a push webhook, stackctl sync) to the APPLY recorded.",
    )
    pairs = zip(stats.latency_bounds, stats.latency_buckets, strict=True)
    buckets = [(_bound(bound), float(count)) for bound, count in pairs]
    buckets.append(("+Inf", float(stats.latency_count)))
    latency.add_metric([], buckets, stats.latency_sum)
    yield latency
