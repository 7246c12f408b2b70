"""A stack's health from what its backend found, Argo CD style (pure): one rule of precedence
for every backend, so that a Docker stack and a Swarm stack read alike."""

from __future__ import annotations

from controller.models.enums import HealthStatus


def verdict(
    degraded: list[str], missing: list[str], progressing: list[str]
) -> tuple[HealthStatus, str]:
    """Degraded before missing before progressing; nothing found: Healthy."""
    if degraded:
        return HealthStatus.DEGRADED, "; ".join(degraded)
    if missing:
        return HealthStatus.MISSING, "missing: " + ", ".join(missing)
    if progressing:
        return HealthStatus.PROGRESSING, "; ".join(progressing)
    return HealthStatus.HEALTHY, ""
