"""Hostile input is an error entry of its own source (file, line, key path), never an exception
that stops the load of the other sources (issue 9, item 4)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli.app import app
from controller.models.errors import ManifestError
from controller.sources.loader import load_path, load_root

GOOD = "services:\n  web: {image: nginx}\n"


def web(extra: str) -> str:
    return "services:\n  web:\n    image: nginx\n" + extra


def chain(count: int, *, cycle: bool) -> str:
    lines = ["services:"]
    for i in range(count):
        last = i == count - 1
        if last and not cycle:
            lines.append(f"  s{i}: {{image: nginx}}")
        else:
            lines.append(f"  s{i}: {{image: nginx, depends_on: [s{(i + 1) % count}]}}")
    return "\n".join(lines) + "\n"


def manifest(spec: str) -> str:
    return f"apiVersion: stackctl/v1\nkind: Stack\nmetadata: {{name: m}}\nspec:\n{spec}"


NESTED = "${A:-" * 1000 + "x" + "}" * 1000

# name -> (files, the erroneous source, its file, its line, its key path, a word of the message)
HOSTILE: dict[str, tuple[dict[str, str], str, str, int, str, str]] = {
    "cpus_nan": (
        {"nan/compose.yaml": web("    cpus: .nan\n")},
        "nan", "nan/compose.yaml", 4, "services.web.cpus", "number",
    ),
    "limits_cpus_inf": (
        {"lim/compose.yaml": web("    deploy: {resources: {limits: {cpus: .inf}}}\n")},
        "lim", "lim/compose.yaml", 4, "services.web.deploy.resources.limits.cpus", "number",
    ),
    "replicas_inf": (
        {"inf/compose.yaml": web("    deploy: {replicas: .inf}\n")},
        "inf", "inf/compose.yaml", 4, "services.web.deploy.replicas",
        "expected an integer or a string",
    ),
    "scale_negative_inf": (
        {"sca/compose.yaml": web("    scale: -.inf\n")},
        "sca", "sca/compose.yaml", 4, "services.web.scale", "expected an integer or a string",
    ),
    "mem_limit_inf": (
        {"mem/compose.yaml": web("    mem_limit: .inf\n")},
        "mem", "mem/compose.yaml", 4, "services.web.mem_limit", "size",
    ),
    "bad_int_tag": (
        {"tag/compose.yaml": web("    labels: {a: !!int 0x1g}\n")},
        "tag", "tag/compose.yaml", 4, "", "0x1g",
    ),
    "bad_float_tag": (
        {"flo/compose.yaml": web("    labels: {a: !!float abc}\n")},
        "flo", "flo/compose.yaml", 4, "", "abc",
    ),
    "bad_bool_tag": (
        {"boo/compose.yaml": web("    privileged: !!bool maybe\n")},
        "boo", "boo/compose.yaml", 4, "", "maybe",
    ),
    "map_tag_on_a_scalar": (
        {"map/compose.yaml": web("    labels: !!map abc\n")},
        "map", "map/compose.yaml", 4, "", "mapping",
    ),
    "seq_tag_on_a_scalar": (
        {"seq/compose.yaml": web("    dns: !!seq abc\n")},
        "seq", "seq/compose.yaml", 4, "", "sequence",
    ),
    "nul_env_file": (
        {"envf/compose.yaml": web('    env_file: "a\\0b"\n')},
        "envf", "envf/compose.yaml", 4, "services.web.env_file", "NUL",
    ),
    "nul_secret_file": (
        {"sec/compose.yaml": web('    secrets: [s]\nsecrets:\n  s: {file: "a\\0b"}\n')},
        "sec", "sec/compose.yaml", 6, "secrets.s.file", "NUL",
    ),
    "nul_config_file": (
        {"cfg/compose.yaml": web('    configs: [c]\nconfigs:\n  c: {file: "a\\0b"}\n')},
        "cfg", "cfg/compose.yaml", 6, "configs.c.file", "NUL",
    ),
    "nul_build_context": (
        {"bld/compose.yaml": 'services:\n  web:\n    build: {context: "a\\0b"}\n'},
        "bld", "bld/compose.yaml", 3, "services.web.build.context", "NUL",
    ),
    "nul_dockerfile": (
        {"dkf/compose.yaml": 'services:\n  web:\n    build: {context: ., dockerfile: "a\\0b"}\n'},
        "dkf", "dkf/compose.yaml", 3, "services.web.build.dockerfile", "NUL",
    ),
    "nul_bind_source": (
        {"bnd/compose.yaml": web('    volumes: ["./a\\0b:/x"]\n')},
        "bnd", "bnd/compose.yaml", 4, "services.web.volumes[0]", "NUL",
    ),
    "nul_absolute_bind_source": (
        {"abs/compose.yaml": web('    volumes: [{type: bind, source: "/a\\0b", target: /x}]\n')},
        "abs", "abs/compose.yaml", 4, "services.web.volumes[0].source", "NUL",
    ),
    "nul_env_file_of_a_manifest": (
        {"mef.yaml": manifest('  envFile: "a\\0b"\n  compose: {services: {web: {image: a}}}\n')},
        "mef.yaml", "mef.yaml", 5, "spec.envFile", "NUL",
    ),
    "nul_compose_file_of_a_manifest": (
        {"mcf.yaml": manifest('  composeFile: "a\\0b"\n')},
        "mcf.yaml", "mcf.yaml", 5, "spec.composeFile", "NUL",
    ),
    "nested_interpolation": (
        {"nest/compose.yaml": web(f"    environment: {{X: '{NESTED}'}}\n")},
        "nest", "nest/compose.yaml", 4, "services.web.environment.X", "nested",
    ),
    "depends_on_chain": (
        {"chain/compose.yaml": chain(1500, cycle=False)},
        "chain", "chain/compose.yaml", 2, "services.s0.depends_on", "deep",
    ),
    "depends_on_cycle": (
        {"cycle/compose.yaml": chain(1501, cycle=True)},
        "cycle", "cycle/compose.yaml", 1502, "services.s1500.depends_on.s0", "cycle",
    ),
}  # fmt: skip


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_an_error_of_its_own_source(tmp_path: Path, case: str) -> None:
    files, source, file, line, path, word = HOSTILE[case]
    result = load_root(write(tmp_path, {**files, "good/compose.yaml": GOOD}))
    assert set(result.stacks) == {"good"}
    report = result.sources[source]
    assert report.errors, f"{case} was accepted"
    error = report.errors[0]
    assert error.file == file
    assert isinstance(error, ManifestError)
    assert (error.line, error.path) == (line, path), error.render()
    assert word.lower() in error.message.lower(), error.render()
    assert "internal error" not in error.message  # each is understood, not merely survived


def test_a_long_cycle_is_reported_once_and_briefly(tmp_path: Path) -> None:
    result = load_root(write(tmp_path, {"c/compose.yaml": chain(1501, cycle=True)}))
    [error] = result.errors
    assert error.message.startswith("dependency cycle of 1501 services: s0 -> s1 -> ")
    assert error.message.endswith(" -> s1500 -> s0") and len(error.message) < 200


def test_a_long_chain_under_the_limit_still_loads(tmp_path: Path) -> None:
    result = load_root(write(tmp_path, {"c/compose.yaml": chain(50, cycle=False)}))
    assert result.errors == [] and len(result.stacks["c"].compose.services) == 50


def test_nesting_under_the_limit_still_interpolates(tmp_path: Path) -> None:
    nested = "${A:-" * 20 + "x" + "}" * 20
    result = load_root(
        write(tmp_path, {"n/compose.yaml": web(f"    environment: {{X: '{nested}'}}\n")})
    )
    assert result.errors == []
    assert result.stacks["n"].compose.services["web"].environment == {"X": "x"}


def test_an_unexpected_exception_makes_only_its_source_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever a bug in the loader raises for one source, the others still load."""
    import controller.sources.loader.entries as loader

    real = loader.compile_stack

    def compile_or_fail(data, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("source") in ("bad", "worse.yaml"):
            raise KeyError("boom")
        return real(data, **kwargs)

    monkeypatch.setattr(loader, "compile_stack", compile_or_fail)
    root = write(
        tmp_path, {"bad/compose.yaml": GOOD, "worse.yaml": GOOD, "good/compose.yaml": GOOD}
    )
    with caplog.at_level(logging.ERROR, logger="stackctl.source"):
        result = load_root(root)
    assert set(result.stacks) == {"good"}
    for source, file in (("bad", "bad/compose.yaml"), ("worse.yaml", "worse.yaml")):
        [error] = result.sources[source].errors
        assert error.file == file
        assert error.message == "internal error while loading: KeyError: 'boom'"
    logged = [r for r in caplog.records if r.name == "stackctl.source"]
    assert len(logged) == 2 and all(r.exc_info for r in logged)
    assert result.invalid_names == set()  # no name could be read; the watcher keeps by source


def test_an_unexpected_exception_is_logged_once_while_the_files_do_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import controller.sources.loader.entries as loader
    from controller.sources.loader import LoadCache

    def fail(data, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    monkeypatch.setattr(loader, "compile_stack", fail)
    root = write(tmp_path, {"bad/compose.yaml": GOOD})
    cache: LoadCache = LoadCache()
    with caplog.at_level(logging.ERROR, logger="stackctl.source"):
        for _ in range(3):
            result = load_root(root, cache=cache)
    assert [e.message for e in result.errors] == ["internal error while loading: RuntimeError: bug"]
    assert len([r for r in caplog.records if r.name == "stackctl.source"]) == 1


def test_load_path_survives_an_unexpected_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import controller.sources.loader.entries as loader

    def fail(data, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("bug")

    monkeypatch.setattr(loader, "compile_stack", fail)
    write(tmp_path, {"app/compose.yaml": GOOD, "one.yaml": GOOD})
    for path, file in ((tmp_path / "app", "compose.yaml"), (tmp_path / "one.yaml", "one.yaml")):
        result = load_path(path)
        assert [e.message for e in result.errors] == [
            "internal error while loading: ValueError: bug"
        ]
        assert result.errors[0].file == file


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_validate_prints_no_traceback_and_exits_one(tmp_path: Path, case: str) -> None:
    files = HOSTILE[case][0]
    root = write(tmp_path / "m", files)
    result = CliRunner().invoke(app, ["validate", str(root)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"{root}/{HOSTILE[case][2]}" in result.stdout


def test_validate_turns_a_failing_walk_into_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond one source: a folder that cannot be listed (or any failure of the walk itself)
    is an error line for that PATH and exit 1, and the other PATHs are still validated."""
    import controller.sources.loader as source

    real = source.load_path

    def load_or_fail(path: Path, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, **kwargs)

    monkeypatch.setattr(source, "load_path", load_or_fail)
    locked = tmp_path / "locked"
    good = write(tmp_path / "good", {"a/compose.yaml": GOOD})
    locked.mkdir()
    for args in (["validate", str(locked), str(good)], ["validate", "-o", "json", str(locked)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert "Permission denied" in result.stdout
    text = CliRunner().invoke(app, ["validate", str(locked), str(good)]).stdout.splitlines()
    assert (
        text[0]
        == f"{locked}: cannot be loaded: PermissionError: [Errno 13] Permission denied: '{locked}'"
    )
    assert text[1].startswith("OK a ")
