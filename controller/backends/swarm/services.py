"""``SwarmServices``: a Swarm manager, observed and acted on through services;
``engine.SwarmEngine`` adds the ``Backend`` calls on top.

The same connection, counted calls and circuit as a Docker engine
(``shared.calls.EngineConnection``); what it observes is a ``SwarmSnapshot`` (services with
their tasks, and the stack's networks, secrets and configs: ``observing``), and what it does
are the Swarm planner's steps (``swarm.planner``). Only
objects labelled ``com.docker.stack.namespace=STACK`` and ``io.stackctl.managed=true`` are seen
or touched (a stack made by ``docker stack deploy`` is not ours to change).

Specs come whole from ``planner.service_spec``; here the secrets' and configs' ids, which Swarm
wants beside their names, are filled in, and secret and config contents are read from the
version's files (a SOPS-encrypted one decrypted in memory: Swarm keeps it encrypted in its
store). An update names the service version it was planned on; Swarm refusing it as "out of
sequence" (someone changed the service meanwhile) is ``OutOfSequence``: the reconciler looks
again and plans again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from controller.backends.shared.calls import EngineConnection
from controller.backends.shared.decrypt import _decrypt
from controller.backends.shared.log_stream import log_lines
from controller.backends.swarm.observing import SwarmFleet, service_of
from controller.desired import DesiredStack
from controller.models.errors import NotFoundError, PermanentError, TransientError
from controller.models.observed import MANAGED_LABEL
from controller.models.swarm import (
    FILE_KEY_LABEL,
    STACK_LABEL,
    ObservedService,
    SwarmSnapshot,
)

_OURS = {"label": [MANAGED_LABEL + "=true"]}


class OutOfSequence(TransientError):
    """The service changed since it was observed: plan again on what it is now."""


class SwarmServices(EngineConnection):
    """A Swarm manager (``kind: swarm`` in the engines file)."""

    # -- observing ---------------------------------------------------------------------------

    def observe(self, stack: str, **_: Any) -> SwarmSnapshot:
        """The stack's services (with their tasks), networks, secrets and configs: five
        list calls."""
        labels = {"label": [f"{STACK_LABEL}={stack}", f"{MANAGED_LABEL}=true"]}
        return self._listing(labels, doing=f"of {stack}").snapshot(stack)

    def observe_fleet(self) -> SwarmFleet:
        """Every stack of the swarm, listed once (five calls)."""
        return self._listing(_OURS, doing="of every stack")

    def _listing(self, filters: dict[str, list[str]], *, doing: str) -> SwarmFleet:
        api = self._api
        services = self._call(
            "list_services", f"listing services {doing}", api.services, filters=filters
        )
        tasks: list[dict[str, Any]] = []
        if services:
            ids = [s["ID"] for s in services]
            tasks = self._call(
                "list_tasks", f"listing tasks {doing}", api.tasks, filters={"service": ids}
            )
        networks = self._call("list_networks", f"listing networks {doing}", api.networks)
        secrets = self._call(
            "list_secrets", f"listing secrets {doing}", api.secrets, filters=filters
        )
        configs = self._call(
            "list_configs", f"listing configs {doing}", api.configs, filters=filters
        )
        return SwarmFleet(services, tasks, networks, secrets, configs)

    def service(self, service_id: str) -> ObservedService | None:
        """One service and its tasks now (the update waits poll this); None once removed."""
        api = self._api
        try:
            info = self._call(
                "inspect_service",
                f"inspecting service {service_id[:12]}",
                api.inspect_service,
                service_id,
            )
        except NotFoundError:
            return None
        tasks = self._call(
            "list_tasks",
            f"listing tasks of {service_id[:12]}",
            api.tasks,
            filters={"service": service_id},
        )
        return service_of(info, tasks)

    def service_logs(
        self,
        service_id: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
    ) -> Iterator[str]:
        """The output of the service's tasks (stdout and stderr), line by line, each starting
        with the engine's RFC 3339 timestamp, as ``containers.container_logs`` gives a
        container's. With ``follow`` the lines keep coming until the caller stops."""
        options: dict[str, Any] = {"timestamps": True, "tail": "all" if tail is None else tail}
        if since is not None:
            options["since"] = since
        chunks = self._call(
            "service_logs",
            f"reading the logs of service {service_id[:12]}",
            self._api.service_logs,
            service_id,
            stdout=True,
            stderr=True,
            follow=follow,
            **options,
        )
        return log_lines(chunks, doing=f"reading the logs of service {service_id[:12]}")

    # -- acting ------------------------------------------------------------------------------

    def create_network(self, desired: DesiredStack, key: str) -> None:
        network = desired.compose.networks[key]
        ipam = None
        if network.ipam is not None:
            ipam = {
                "Driver": network.ipam.driver or "default",
                "Config": [
                    {
                        k: v
                        for k, v in (
                            ("Subnet", p.subnet),
                            ("IPRange", p.ip_range),
                            ("Gateway", p.gateway),
                        )
                        if v
                    }
                    for p in network.ipam.config
                ],
                "Options": network.ipam.options or None,
            }
        self._call(
            "create_network",
            f"creating overlay network {network.name}",
            self._api.create_network,
            network.name,
            driver=network.driver or "overlay",
            options=network.driver_opts or None,
            ipam=ipam,
            internal=network.internal,
            attachable=network.attachable,
            enable_ipv6=bool(network.enable_ipv6),
            scope="swarm",
            labels={**network.labels, STACK_LABEL: desired.name, MANAGED_LABEL: "true"},
        )

    def create_file(self, desired: DesiredStack, name: str, *, key: str, kind: str) -> None:
        """Create secret or config ``name``, the stack's ``key`` (``kind``: ``secrets`` or
        ``configs``), with its content from the version's files."""
        obj = getattr(desired.compose, kind)[key]
        data = desired.files.get(obj.sha256 or "")
        if data is None:
            raise PermanentError(f"{kind}.{key}: its content is not in the stored version")
        if obj.sops is not None:
            data = _decrypt(data, fmt=obj.sops, what=f"{kind}.{key}")
        labels = {STACK_LABEL: desired.name, MANAGED_LABEL: "true", FILE_KEY_LABEL: key}
        create = self._api.create_secret if kind == "secrets" else self._api.create_config
        operation = "create_secret" if kind == "secrets" else "create_config"
        self._call(operation, f"creating {kind[:-1]} {name}", create, name, data, labels=labels)

    def create_service(self, spec: dict[str, Any]) -> str:
        spec = self._with_file_ids(spec)
        result = self._call(
            "create_service",
            f"creating service {spec['Name']}",
            self._api.create_service,
            **_arguments(spec),
        )
        return str(result["ID"])

    def update_service(self, service_id: str, version: int, spec: dict[str, Any]) -> None:
        spec = self._with_file_ids(spec)
        try:
            self._call(
                "update_service",
                f"updating service {spec['Name']}",
                self._api.update_service,
                service_id,
                version,
                **_arguments(spec),
            )
        except TransientError as e:
            if "out of sequence" in str(e):
                raise OutOfSequence(str(e)) from e
            raise

    def remove_service(self, service_id: str) -> None:
        with contextlib.suppress(NotFoundError):  # gone already: what was wanted
            self._call(
                "remove_service",
                f"removing service {service_id[:12]}",
                self._api.remove_service,
                service_id,
            )

    def remove_object(self, kind: str, object_id: str) -> None:
        """Remove a secret, config or network (``kind``: ``secret``/``config``/``network``)."""
        fn = {
            "secret": self._api.remove_secret,
            "config": self._api.remove_config,
            "network": self._api.remove_network,
        }[kind]
        with contextlib.suppress(NotFoundError):
            self._call(f"remove_{kind}", f"removing {kind} {object_id[:12]}", fn, object_id)

    def network_exists(self, network_id: str) -> bool:
        try:
            self._call(
                "inspect_network",
                f"inspecting network {network_id[:12]}",
                self._api.inspect_network,
                network_id,
            )
        except NotFoundError:
            return False
        return True

    def _with_file_ids(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``spec`` with each secret's and config's id beside its name (one list call each
        kind it uses); a name the swarm does not have is a ``PermanentError`` naming it."""
        container = dict(spec["TaskTemplate"]["ContainerSpec"])
        for key, list_fn, operation in (
            ("Secrets", self._api.secrets, "list_secrets"),
            ("Configs", self._api.configs, "list_configs"),
        ):
            refs = container.get(key)
            if not refs:
                continue
            field = key[:-1]
            listed = self._call(operation, f"looking up {key.lower()}", list_fn)
            ids = {o["Spec"]["Name"]: o["ID"] for o in listed}
            filled = []
            for ref in refs:
                name = ref[f"{field}Name"]
                if name not in ids:
                    raise PermanentError(
                        f"{spec['Name']}: the swarm has no {field.lower()} {name!r}"
                    )
                filled.append({**ref, f"{field}ID": ids[name]})
            container[key] = filled
        task = {**spec["TaskTemplate"], "ContainerSpec": container}
        return {**spec, "TaskTemplate": task}


def _arguments(spec: dict[str, Any]) -> dict[str, Any]:
    """docker-py's ``create_service``/``update_service`` keywords for a whole spec (an update
    sends every part: what is left out is reset, as in a spec written anew)."""
    return {
        "task_template": spec["TaskTemplate"],
        "name": spec["Name"],
        "labels": spec["Labels"],
        "mode": spec["Mode"],
        "update_config": spec.get("UpdateConfig"),
        "rollback_config": spec.get("RollbackConfig"),
        "endpoint_spec": spec["EndpointSpec"],
    }
