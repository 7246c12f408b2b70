"""The config-hash labels earlier releases wrote for a service (placeholder until the upgrade
work lands: today's scheme is ``DesiredStack.service_hashes`` itself)."""

from __future__ import annotations

from controller.desired.compose import Service


def legacy_hashes(service: Service, *, base: str) -> frozenset[str]:
    return frozenset()
