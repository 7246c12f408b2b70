"""A folder stack and the config-hash labels 0.1.0 (commit 105c5cb) wrote for its services.

The labels were computed by 105c5cb's own code (``controller.source.loader.load_root`` and
``controller.source.digest.config_hash`` there, installed by ``helpers.old_release``) on exactly
the files ``write_folder`` writes: a folder ``web/`` with env files (one in a sibling folder), a
bind mount, a named volume and a build. They hold wherever the root is (0.1.0's paths were
relative to the root, today's to the stack's folder ``web``).
"""

from __future__ import annotations

from pathlib import Path

#: service -> the ``com.docker.compose.config-hash`` label 0.1.0 gave its containers
LABELS = {
    "web": "e4be0cbf4ed72c35fc9bf69f7e82b4ad15fabc497f92a145d039b5355a48822c",
    "db": "d8307556f34b07e4defba1b0edbdc768369ee92c9c9de92c16197c8fcac7cdba",
}

COMPOSE = """\
services:
  web:
    image: stackctl-test/busybox:1
    build: .
    env_file: [app.env, ../shared/common.env]
    ports: ["127.0.0.1:18080:8080"]
    volumes: [./html:/www:ro, ../shared:/shared, data:/data, /srv:/srv]
    healthcheck: {test: [CMD, "true"], interval: 1s}
    depends_on: [db]
  db:
    image: stackctl-test/busybox:1
    env_file: app.env
volumes: {data: {}}
"""


def write_folder(root: Path) -> None:
    """``root/web/`` (the stack ``web``) and ``root/shared/``, as 0.1.0 loaded them."""
    (root / "web" / "html").mkdir(parents=True)
    (root / "shared").mkdir()
    (root / "web" / "app.env").write_text("LOG_LEVEL=info\n")
    (root / "shared" / "common.env").write_text("A=1\n")
    (root / "web" / "Dockerfile").write_text("FROM stackctl-test/busybox:1\n")
    (root / "web" / "compose.yaml").write_text(COMPOSE)
