"""pydantic's plugin lookup (``importlib.metadata`` and every distribution's metadata) is skipped
by the CLI only when no distribution on ``sys.path`` declares the ``pydantic`` entry-point group
(``cli/pydantic_plugins.py``); a declared plugin is loaded by pydantic as before, and
``PYDANTIC_DISABLE_PLUGINS`` keeps its meaning. Each case runs in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
from controller.cli.pydantic_plugins import skip_plugin_lookup
skipped = skip_plugin_lookup()
from pydantic import BaseModel
class M(BaseModel):
    x: int
assert M(x="1").x == 1
import pydantic.plugin._loader as loader
print(skipped, "importlib.metadata" in sys.modules, sorted(loader._plugins or {}))
"""

PLUGIN = """
class Plugin:
    def new_schema_validator(self, *args, **kwargs):
        return None, None, None
plugin = Plugin()
"""


def probe(tmp_path, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    environ.update(env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_plugins_the_lookup_is_skipped(tmp_path):
    assert probe(tmp_path) == "True False []"


def test_a_declared_plugin_is_loaded_by_pydantic(tmp_path):
    site = tmp_path / "site"
    info = site / "demo_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\ndemo = demo_plugin:plugin\n")
    (site / "demo_plugin.py").write_text(PLUGIN)
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    assert probe(tmp_path, PYTHONPATH=path) == "False True ['demo_plugin:plugin']"


def test_the_variable_keeps_its_meaning(tmp_path):
    assert probe(tmp_path, PYDANTIC_DISABLE_PLUGINS="__all__") == "False True []"
