"""Interpolation, .env files, YAML scalars and units read the way Compose reads them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from controller.models.errors import ManifestError
from controller.sources.loader import load_root
from controller.sources.loader.dotenv import DotenvError, parse_dotenv
from controller.sources.loader.interpolation import InterpolationError, Interpolator
from controller.sources.loader.units import parse_bytes, parse_duration
from controller.sources.loader.yamlload import load_documents

VARS = {"SET": "value", "EMPTY": "", "NESTED": "inner"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain", "plain"),
        ("$SET", "value"),
        ("${SET}", "value"),
        ("pre-${SET}-post", "pre-value-post"),
        ("$SET$SET", "valuevalue"),
        ("${UNSET}", ""),
        ("${UNSET:-default}", "default"),
        ("${EMPTY:-default}", "default"),
        ("${UNSET-default}", "default"),
        ("${EMPTY-default}", ""),
        ("${SET:-default}", "value"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET+alt}", ""),
        ("${UNSET:-${NESTED}}", "inner"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("${UNSET:-a}${SET}", "avalue"),
        ("$$SET", "$SET"),
        ("$${SET}", "${SET}"),
        ("cost: 5$", "cost: 5$"),
        ("$1 and $ alone", "$1 and $ alone"),
        ("${SET:?never raised}", "value"),
        ("${UNSET:-${SET:?not evaluated}}", "value"),
        ("${EMPTY?fine when set}", ""),
        ("${UNSET:-with spaces and : colons}", "with spaces and : colons"),
    ],
)
def test_interpolation_table(template: str, expected: str) -> None:
    assert Interpolator(VARS).expand(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${UNSET:?please set it}", "required variable `UNSET` is missing a value: please set it"),
        ("${EMPTY:?}", "required variable `EMPTY` is missing a value"),
        ("${UNSET?x}", "required variable `UNSET` is missing a value: x"),
        ("${", "invalid interpolation format"),
        ("${1abc}", "invalid interpolation format"),
        ("${SET", "invalid interpolation format"),
        ("${SET:-unclosed", "unclosed"),
        ("${SET!x}", "invalid interpolation format"),
    ],
)
def test_interpolation_errors(template: str, message: str) -> None:
    with pytest.raises(InterpolationError) as caught:
        Interpolator(VARS).expand(template)
    assert message in caught.value.message


def test_unset_names_are_remembered_for_warnings() -> None:
    interp = Interpolator(VARS)
    interp.expand("$A ${B} ${C:-x} ${SET}")
    assert interp.unset == ["A", "B"]


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    return root


def test_values_are_interpolated_keys_are_not_and_warnings_are_collected(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/compose.yaml": """\
                services:
                  web:
                    image: "nginx${TAG}"
                    environment:
                      ${KEY}: $$literal
                      HOME_DIR: ${HOME_DIR:-/srv}
                      AGAIN: ${TAG}
            """,
        },
    )
    result = load_root(tmp_path)
    web = result.stacks["app"].compose.services["web"]
    assert web.image == "nginx"
    assert web.environment == {"${KEY}": "$literal", "AGAIN": "", "HOME_DIR": "/srv"}
    assert [(w.path, w.line) for w in result.warnings] == [("services.web.image", 3)]
    assert "`TAG` is not set" in result.warnings[0].message


def test_the_process_environment_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_SHELL", "leaked")
    write(tmp_path, {"app/compose.yaml": "services:\n  a: {image: 'x:${FROM_SHELL:-safe}'}\n"})
    assert load_root(tmp_path).stacks["app"].compose.services["a"].image == "x:safe"


def test_manifest_env_overrides_env_file_and_inline_compose_ignores_dotenv(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            ".env": "A=from-dotenv\n",
            "vars.env": "A=from-file\nB=from-file\nC=${B}-expanded\n",
            "m.yaml": """\
                apiVersion: stackctl/v1
                kind: Stack
                metadata: {name: m}
                spec:
                  envFile: vars.env
                  env: {A: from-spec, N: 5}
                  compose:
                    services:
                      a: {image: "x", command: ["$A", "$B", "$C", "$N"]}
                ---
                apiVersion: stackctl/v1
                kind: Stack
                metadata: {name: n}
                spec:
                  compose:
                    services:
                      a: {image: "x:${A:-none}"}
            """,
        },
    )
    stacks = load_root(tmp_path).stacks
    assert stacks["m"].compose.services["a"].command == [
        "from-spec",
        "from-file",
        "from-file-expanded",
        "5",
    ]
    assert stacks["n"].compose.services["a"].image == "x:none"


def test_missing_env_file_of_a_manifest_is_an_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "m.yaml": "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: m}\n"
            "spec: {envFile: nope.env, compose: {services: {a: {image: x}}}}\n"
        },
    )
    [error] = load_root(tmp_path).errors
    assert (error.path, error.line) == ("spec.envFile", 4) and "file not found" in error.message


def test_dotenv_format() -> None:
    text = textwrap.dedent(
        """\
        # comment
        A=1
        export B = ${A}x # trailing comment
        C='single $A # kept'
        D="double \\"$A\\" \\n \\$A"
        E="multi
        line"
        F
        G=a#b
        H=
        I=${UNSET:-dflt}
        """
    )
    parsed = parse_dotenv(text, lookup={})
    assert parsed.values == {
        "A": "1",
        "B": "1x",
        "C": "single $A # kept",
        "D": 'double "1" \n $A',
        "E": "multi\nline",
        "G": "a#b",
        "H": "",
        "I": "dflt",
    }
    assert parsed.bare == ["F"]
    raw = parse_dotenv("A='$x' # c\n", lookup={}, raw=True)
    assert raw.values == {"A": "'$x' # c"}


@pytest.mark.parametrize("text", ['A="open\n', "1BAD=x\n", "A=${X:?needed}\n"])
def test_dotenv_errors(text: str) -> None:
    with pytest.raises(DotenvError):
        parse_dotenv(text, lookup={})


def test_yaml_uses_the_core_schema_like_compose() -> None:
    doc = load_documents(
        "a: yes\nb: 22:22\nc: 0440\nd: on\ne: 1.5\nf: 08\ng: ~\nh: 0x1F\ni: true\n", file="f"
    )[0]
    assert dict(doc.data) == {
        "a": "yes",
        "b": "22:22",
        "c": 288,
        "d": "on",
        "e": 1.5,
        "f": "08",
        "g": None,
        "h": 31,
        "i": True,
    }


def test_yaml_marks_lines_of_keys_and_items_and_merge_keys() -> None:
    text = "base: &b\n  image: x\n  restart: always\nweb:\n  <<: *b\n  ports:\n    - 80\n    - 81\n"
    doc = load_documents(text, file="f")[0]
    assert doc.data["web"] == {"image": "x", "restart": "always", "ports": [80, 81]}
    assert doc.marks.line(("web", "ports", 1)) == 8
    assert doc.marks.line(("web", "image")) == 2  # merged keys point at their definition
    assert doc.marks.line(("web", "ports", 1, "deeper")) == 8


@pytest.mark.parametrize(
    "text",
    ["a: &a [*a]\n", "a: !!binary aGk=\n", "a: !reset []\n", "a: 1\na: 2\n", "[1, 2\n"],
)
def test_yaml_problems_are_manifest_errors(text: str) -> None:
    with pytest.raises(ManifestError) as caught:
        load_documents(text, file="f.yaml")
    assert caught.value.file == "f.yaml" and caught.value.line is not None


def test_yaml_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    with pytest.raises(ManifestError, match="expands to more than"):
        load_documents("\n".join(lines) + "\n", file="f")


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("1m30s", 90_000_000_000),
        ("10s", 10_000_000_000),
        ("1h", 3_600_000_000_000),
        ("500ms", 500_000_000),
        ("1.5s", 1_500_000_000),
        ("2us", 2_000),
        ("0", 0),
        ("1h2m3s4ms", 3_723_004_000_000),
    ],
)
def test_durations_are_nanoseconds(text: str, nanoseconds: int) -> None:
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize("value", ["10", 10, "1d", "abc", "-1s", "", True, 1.5])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("1.5G", 1610612736),
        ("512m", 536870912),
        ("1gb", 1073741824),
        ("100k", 102400),
        ("2KiB", 2048),
        ("64", 64),
        (1024, 1024),
        ("1 MB", 1048576),
    ],
)
def test_sizes_are_bytes(value: object, size: int) -> None:
    assert parse_bytes(value) == size


@pytest.mark.parametrize("value", ["lots", "1x", -1, "-5m", True, None])
def test_bad_sizes(value: object) -> None:
    with pytest.raises(ValueError):
        parse_bytes(value)


def test_pure_python_yaml_reads_the_same_as_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    from controller.sources.loader import yamlload

    text = "base: &b {image: x, n: 0o17}\nweb:\n  <<: *b\n  ports: [80, '81']\n  on: yes\n"
    fast = load_documents(text, file="f")[0]
    monkeypatch.setattr(yamlload, "_FastLoader", None)
    slow = load_documents(text, file="f")[0]
    assert (
        fast.data
        == slow.data
        == {
            "base": {"image": "x", "n": 15},
            "web": {"image": "x", "n": 15, "ports": [80, "81"], "on": "yes"},
        }
    )
    assert fast.marks.line(("web", "ports", 1)) == slow.marks.line(("web", "ports", 1)) == 4
