"""``stackctl version``: ours beside the engine's version and API; an engine that does not
answer is said on stderr, exit 1, our version still printed."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from controller import __version__
from controller.cli import app

runner = CliRunner()


def test_version_prints_ours_and_the_engines(docker_client):
    engine = docker_client.version()
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0, result.output
    ours, theirs, client = result.stdout.strip().splitlines()
    assert ours.startswith(f"stackctl: {__version__} ")
    assert f"Docker {engine['Version']}, API {engine['ApiVersion']}" in theirs
    assert client.startswith("client:   docker-py ")
    data = json.loads(runner.invoke(app, ["version", "-o", "json"]).stdout)
    assert data["stackctl"]["version"] == __version__
    assert data["engine"]["api_version"] == engine["ApiVersion"]
    assert data["engine_error"] is None


def test_version_without_an_engine_still_prints_ours_and_exits_1():
    result = runner.invoke(app, ["version"])  # not an engine test: nothing answers here
    assert result.exit_code == 1
    assert result.stdout.strip() == f"stackctl: {__version__} (Python " + \
        result.stdout.split("(Python ", 1)[1].strip()
    assert result.stderr.startswith("error: the engine does not answer: ")
