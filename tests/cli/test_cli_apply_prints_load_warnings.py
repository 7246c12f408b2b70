"""``stackctl apply`` says what the loader accepted but flagged (here with ``--no-wait``, which
only records and queues, so no engine is needed)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from controller.cli import app


def test_apply_prints_warnings_on_stderr(tmp_path: Path) -> None:
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "shop.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\nspec:\n"
        "  compose:\n    services:\n      web: {image: 'img${TAG}'}\n"
    )
    result = CliRunner().invoke(
        app, ["apply", str(root), "--db", str(tmp_path / "s.db"), "--no-wait"]
    )
    assert result.exit_code == 0, result.output
    assert "warning: shop.yaml:7: spec.compose.services.web.image: " in result.stderr
    assert "`TAG` is not set" in result.stderr
    assert "shop: recorded v1" in result.stdout and "queued command" in result.stdout
