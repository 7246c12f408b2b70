"""The Go structs Compose v2 marshals a service from (compose-go v2.9.1, ``types/*.go``).

Each struct is its JSON fields **in declaration order** (Go's encoding/json keeps that order;
only map keys are sorted), with how each is rendered: ``(json_key, kind, sub)`` where ``kind``
is ``o`` (omitempty: left out when false, 0, "", empty or null), ``p`` (a pointer with
omitempty: left out only when null, so ``false`` and ``0`` are written), ``n`` (no omitempty:
``null`` is written) or ``s`` (a struct value: never left out, ``{}`` when empty); ``sub`` is
None (a plain value, list or map), a struct's name, ``("list", X)``/``("map", X)``, or a
custom marshaller named ``@...`` (``controller.desired.compose_hash.gojson``). Line numbers
name compose-go v2.9.1's ``types/types.go`` unless another file is said.

A new compose-go field changes every hash Compose computes that uses it: bump this table with
the Compose version the tests pin (``compose-go`` in pyproject's dev extra).
"""

from __future__ import annotations

from typing import Any

# fmt: off
SCHEMA: dict[str, list[tuple[str, str, Any]]] = {
    # types/types.go:32-145
    "ServiceConfig": [
        ("profiles", "o", None),
        ("annotations", "o", None),
        ("attach", "p", None),
        ("build", "p", "@opaque"),
        ("develop", "p", "DevelopConfig"),
        ("blkio_config", "p", "BlkioConfig"),
        ("cap_add", "o", None),
        ("cap_drop", "o", None),
        ("cgroup_parent", "o", None),
        ("cgroup", "o", None),
        ("cpu_count", "o", None),
        ("cpu_percent", "o", "@float32"),
        ("cpu_period", "o", None),
        ("cpu_quota", "o", None),
        ("cpu_rt_period", "o", None),
        ("cpu_rt_runtime", "o", None),
        ("cpus", "o", "@float32"),
        ("cpuset", "o", None),
        ("cpu_shares", "o", None),
        ("command", "n", None),  # ShellCommand: NO omitempty -> "command":null when unset
        ("configs", "o", ("list", "FileReferenceConfig")),
        ("container_name", "o", None),
        ("credential_spec", "p", "CredentialSpecConfig"),
        ("depends_on", "o", "@opaque"),
        ("deploy", "p", "DeployConfig"),
        ("device_cgroup_rules", "o", None),
        ("devices", "o", ("list", "DeviceMapping")),
        ("dns", "o", "@stringlist"),
        ("dns_opt", "o", None),
        ("dns_search", "o", "@stringlist"),
        ("dockerfile", "o", None),
        ("domainname", "o", None),
        ("entrypoint", "n", None),  # ShellCommand: NO omitempty
        ("provider", "p", "ServiceProviderConfig"),
        ("environment", "o", None),  # map[string]*string, null for unset value
        ("env_file", "o", ("list", "@envfile")),
        ("expose", "o", "@stringlist"),
        ("extends", "p", "ExtendsConfig"),
        ("external_links", "o", None),
        ("extra_hosts", "o", "@hostslist"),
        ("group_add", "o", None),
        ("gpus", "o", ("list", "DeviceRequest")),
        ("hostname", "o", None),
        ("healthcheck", "p", "HealthCheckConfig"),
        ("image", "o", None),
        ("init", "p", None),
        ("ipc", "o", None),
        ("isolation", "o", None),
        ("labels", "o", None),
        ("label_file", "o", None),
        # CustomLabels: json:"-"
        ("links", "o", None),
        ("logging", "p", "LoggingConfig"),
        ("log_driver", "o", None),
        ("log_opt", "o", None),
        ("mem_limit", "o", "@unitbytes"),
        ("mem_reservation", "o", "@unitbytes"),
        ("memswap_limit", "o", "@unitbytes"),
        ("mem_swappiness", "o", "@unitbytes"),
        ("mac_address", "o", None),
        ("models", "o", ("map", "ServiceModelConfig")),
        ("net", "o", None),
        ("network_mode", "o", None),
        ("networks", "o", ("map", "ServiceNetworkConfig")),
        ("oom_kill_disable", "o", None),
        ("oom_score_adj", "o", None),
        ("pid", "o", None),
        ("pids_limit", "o", None),
        ("platform", "o", None),
        ("ports", "o", ("list", "ServicePortConfig")),
        ("privileged", "o", None),
        ("pull_policy", "o", None),
        ("read_only", "o", None),
        ("restart", "o", None),
        ("runtime", "o", None),
        ("scale", "p", None),
        ("secrets", "o", ("list", "FileReferenceConfig")),
        ("security_opt", "o", None),
        ("shm_size", "o", "@unitbytes"),
        ("stdin_open", "o", None),
        ("stop_grace_period", "p", "@duration"),
        ("stop_signal", "o", None),
        ("storage_opt", "o", None),
        ("sysctls", "o", None),
        ("tmpfs", "o", "@stringlist"),
        ("tty", "o", None),
        ("ulimits", "o", ("map", "@ulimit")),
        ("use_api_socket", "o", None),
        ("user", "o", None),
        ("userns_mode", "o", None),
        ("uts", "o", None),
        ("volume_driver", "o", None),
        ("volumes", "o", ("list", "ServiceVolumeConfig")),
        ("volumes_from", "o", None),
        ("working_dir", "o", None),
        ("post_start", "o", ("list", "ServiceHook")),
        ("pre_stop", "o", ("list", "ServiceHook")),
        # Name json:"-", Extensions json:"-"
    ],
    "ServiceProviderConfig": [("type", "o", None), ("options", "o", None)],
    # types/develop.go
    "DevelopConfig": [("watch", "o", ("list", "Trigger"))],
    "Trigger": [
        ("path", "n", None),
        ("action", "n", None),
        ("target", "o", None),
        ("exec", "s", "ServiceHook"),  # struct value: always emitted
        ("include", "o", None),
        ("ignore", "o", None),
        ("initial_sync", "o", None),
    ],
    # types/hooks.go
    "ServiceHook": [
        ("command", "n", None),
        ("user", "o", None),
        ("privileged", "o", None),
        ("working_dir", "o", None),
        ("environment", "o", None),
    ],
    # types/types.go:336-369 (WeightDevice/ThrottleDevice have NO json tags -> Go names)
    "BlkioConfig": [
        ("weight", "o", None),
        ("weight_device", "o", ("list", "WeightDevice")),
        ("device_read_bps", "o", ("list", "ThrottleDevice")),
        ("device_read_iops", "o", ("list", "ThrottleDevice")),
        ("device_write_bps", "o", ("list", "ThrottleDevice")),
        ("device_write_iops", "o", ("list", "ThrottleDevice")),
    ],
    "WeightDevice": [("Path", "n", None), ("Weight", "n", None)],
    "ThrottleDevice": [("Path", "n", None), ("Rate", "n", "@unitbytes")],
    "DeviceMapping": [("source", "o", None), ("target", "o", None), ("permissions", "o", None)],
    "LoggingConfig": [("driver", "o", None), ("options", "o", None)],
    # types/types.go:384-473
    "DeployConfig": [
        ("mode", "o", None),
        ("replicas", "p", None),
        ("labels", "o", None),
        ("update_config", "p", "UpdateConfig"),
        ("rollback_config", "p", "UpdateConfig"),
        ("resources", "s", "Resources"),  # struct value: always emitted ({} if empty)
        ("restart_policy", "p", "RestartPolicy"),
        ("placement", "s", "Placement"),  # struct value: always emitted
        ("endpoint_mode", "o", None),
    ],
    "UpdateConfig": [
        ("parallelism", "p", None),
        ("delay", "o", "@duration"),
        ("failure_action", "o", None),
        ("monitor", "o", "@duration"),
        ("max_failure_ratio", "o", "@float32"),
        ("order", "o", None),
    ],
    "Resources": [("limits", "p", "Resource"), ("reservations", "p", "Resource")],
    "Resource": [
        ("cpus", "o", "@float32"),
        ("memory", "o", "@unitbytes"),
        ("pids", "o", None),
        ("devices", "o", ("list", "DeviceRequest")),
        ("generic_resources", "o", ("list", "GenericResource")),
    ],
    "GenericResource": [("discrete_resource_spec", "p", "DiscreteGenericResource")],
    "DiscreteGenericResource": [("kind", "n", None), ("value", "n", None)],
    "RestartPolicy": [
        ("condition", "o", None),
        ("delay", "p", "@duration"),
        ("max_attempts", "p", None),
        ("window", "p", "@duration"),
    ],
    "Placement": [
        ("constraints", "o", None),
        ("preferences", "o", ("list", "PlacementPreferences")),
        ("max_replicas_per_node", "o", None),
    ],
    "PlacementPreferences": [("spread", "o", None)],
    # types/device.go
    "DeviceRequest": [
        ("capabilities", "o", None),
        ("driver", "o", None),
        ("count", "o", None),  # DeviceCount int64, "all" == -1
        ("device_ids", "o", None),
        ("options", "o", None),
    ],
    # types/healthcheck.go
    "HealthCheckConfig": [
        ("test", "o", None),
        ("timeout", "p", "@duration"),
        ("interval", "p", "@duration"),
        ("retries", "p", None),
        ("start_period", "p", "@duration"),
        ("start_interval", "p", "@duration"),
        ("disable", "o", None),
    ],
    # types/types.go:476-501
    "ServiceNetworkConfig": [
        ("aliases", "o", None),
        ("driver_opts", "o", None),
        ("gw_priority", "o", None),
        ("interface_name", "o", None),
        ("ipv4_address", "o", None),
        ("ipv6_address", "o", None),
        ("link_local_ips", "o", None),
        ("mac_address", "o", None),
        ("priority", "o", None),
    ],
    "ServicePortConfig": [
        ("name", "o", None),
        ("mode", "o", None),
        ("host_ip", "o", None),
        ("target", "o", None),
        ("published", "o", "@str"),  # string in Go
        ("protocol", "o", None),
        ("app_protocol", "o", None),
    ],
    # types/types.go:540-648
    "ServiceVolumeConfig": [
        ("type", "o", None),
        ("source", "o", None),
        ("target", "o", None),
        ("read_only", "o", None),
        ("consistency", "o", None),
        ("bind", "p", "ServiceVolumeBind"),
        ("volume", "p", "ServiceVolumeVolume"),
        ("tmpfs", "p", "ServiceVolumeTmpfs"),
        ("image", "p", "ServiceVolumeImage"),
    ],
    "ServiceVolumeBind": [
        ("selinux", "o", None),
        ("propagation", "o", None),
        ("create_host_path", "o", None),
        ("recursive", "o", None),
    ],
    "ServiceVolumeVolume": [("labels", "o", None), ("nocopy", "o", None), ("subpath", "o", None)],
    "ServiceVolumeTmpfs": [("size", "o", "@unitbytes"), ("mode", "o", None)],
    "ServiceVolumeImage": [("subpath", "o", None)],
    # types/types.go:653-699 (ServiceConfigObjConfig / ServiceSecretConfig)
    "FileReferenceConfig": [
        ("source", "o", None),
        ("target", "o", None),
        ("uid", "o", None),
        ("gid", "o", None),
        ("mode", "p", "@filemode"),
    ],
    "CredentialSpecConfig": [("config", "o", None), ("file", "o", None), ("registry", "o", None)],
    "ExtendsConfig": [("file", "o", None), ("service", "o", None)],
    "ServiceModelConfig": [("endpoint_var", "o", None), ("model_var", "o", None)],
}
# fmt: on
