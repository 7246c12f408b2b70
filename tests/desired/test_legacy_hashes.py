"""``legacy_hashes``: the config-hash labels earlier releases wrote for the same service (issue 26,
item 6: an upgrade restarts nothing).

The expected hashes are pinned: they are what 0.1.0 (commit 105c5cb) wrote, computed by that
commit's own code (``controller.source.compose`` / ``controller.source.loader`` and
``controller.source.digest.config_hash`` there) on the same service or the same files; and what
main wrote from d95b5d5 to e010591. A change to the model that moves them would recreate every
container of that release on upgrade.
"""

from __future__ import annotations

from pathlib import Path

from helpers import labels_0_1_0

from controller.desired.compose import Build, EnvFile, Mount, Port, Service
from controller.desired.legacy_hashes import legacy_hashes, root_relative
from controller.sources.loader import load_root

#: Written by 105c5cb for the service of ``_service()``, built there with root-relative paths
#: (``web/app.env``, ``shared/common.env``, ``shared``, ``web/html``, context ``web``).
V010_HASH = "5f5151a5f7debf1b8b746f5bedd9e6594c55cf7bd5ddc5c00221a9fad6e1bc07"
#: Written by main (d95b5d5..e010591) for the same service: paths relative to ``web``.
MAIN_HASH = "1d9f589edb2d9bccfbcc9bf875d657e17fc539b34c34f3766f772f3f7e295cf5"


def _service() -> Service:
    """A service of the folder stack ``web/`` as today's model holds it (base-relative)."""
    return Service(
        image="stackctl-test/busybox:1",
        build=Build(context="."),
        command=["httpd", "-f", "-p", "8080", "-h", "/www"],
        environment={"LOG_LEVEL": "info"},
        env_file=[
            EnvFile(path="app.env", sha256="ab" * 32),
            EnvFile(path="../shared/common.env", sha256="cd" * 32),
        ],
        ports=[Port(target=8080, published="18080", host_ip="127.0.0.1")],
        volumes=[
            Mount(type="volume", source="data", target="/data"),
            Mount(type="bind", source="../shared", root_relative=True, target="/shared"),
            Mount(type="bind", source="/srv", target="/srv"),
            Mount(type="bind", source="html", root_relative=True, target="/www", read_only=True),
        ],
        replicas=2,
        init=True,
    )


def test_a_folder_stacks_service_has_the_hash_of_0_1_0_and_of_main():
    assert legacy_hashes(_service(), base="web") == {V010_HASH, MAIN_HASH}


def test_the_0_1_0_form_joins_the_folder_to_each_root_path_and_leaves_the_rest():
    old = root_relative(_service(), base="web")
    assert [e.path for e in old.env_file] == ["web/app.env", "shared/common.env"]
    assert [m.source for m in old.volumes] == ["data", "shared", "/srv", "web/html"]
    assert old.build is not None and old.build.context == "web"
    assert old.model_copy(
        update={"env_file": _service().env_file, "volumes": _service().volumes,
                "build": _service().build}
    ) == _service()  # fmt: skip


def test_a_stack_at_the_root_has_one_form():
    """A manifest or plain file at the top of the root (base "."): 0.1.0 and main agree."""
    service = _service()
    assert root_relative(service, base=".") is service
    assert legacy_hashes(service, base=".") == {MAIN_HASH}
    assert legacy_hashes(service, base="") == {MAIN_HASH}


def test_remote_contexts_home_and_absolute_binds_are_kept_as_written():
    service = Service(
        build=Build(context="https://example.com/repo.git", context_root_relative=False),
        volumes=[
            Mount(type="bind", source="~/cache", target="/cache"),
            Mount(type="bind", source="/var/log", target="/logs"),
            Mount(type="tmpfs", target="/tmp"),
        ],
    )
    assert root_relative(service, base="a/b") == service
    assert len(legacy_hashes(service, base="a/b")) == 1


def test_the_fields_that_only_scale_or_order_a_service_are_not_hashed():
    """As in 0.1.0: replicas, depends_on and pull_policy never recreate a container."""
    service = _service()
    moved = service.model_copy(update={"replicas": 5, "pull_policy": "always", "depends_on": {}})
    assert legacy_hashes(moved, base="web") == legacy_hashes(service, base="web")


def test_the_loader_today_gives_back_what_0_1_0_wrote_for_the_same_files(tmp_path: Path):
    """The same folder loaded by 105c5cb's loader gave these labels (pinned); today's loader
    stores its paths relative to ``web/``, and ``legacy_hashes`` finds them again."""
    labels_0_1_0.write_folder(tmp_path)
    stack = load_root(tmp_path).stacks["web"]
    assert stack.base == "web"
    for name, label in labels_0_1_0.LABELS.items():
        service = stack.compose.services[name]
        assert label in legacy_hashes(service, base=stack.base), name
        assert stack.service_hashes[name] != label  # today's own hash alone would recreate
