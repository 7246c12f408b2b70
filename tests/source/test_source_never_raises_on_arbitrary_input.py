"""Property test: whatever the files hold, loading returns errors as data and never raises."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.desired.compose import Service
from controller.sources.loader import load_root

# Every canonical field name, plus the Compose spellings and nested keys the loader folds.
FOLDED = "deploy scale mem_limit cpus profiles x-a context target source type condition test"
NESTED = "interval resources limits memory aliases path required file external name driver"
MORE = "ipam config subnet published protocol bind volume size mode"
KEYS = sorted({*Service.model_fields, *f"{FOLDED} {NESTED} {MORE}".split()})
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(
        [
            "",
            "a",
            "80",
            "80:80",
            "./x",
            "/y",
            "x:/y",
            "${A}",
            "$$",
            "${A:?e}",
            "1s",
            "512m",
            "a=b",
            "service:a",
            "tcp",
            "bind",
            "volume",
            "CMD",
            "default",
            "a b 'c",
            "../..",
        ]
    ),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from([*KEYS, "a", "b", "default"]), inner, max_size=5),
    ),
    max_leaves=25,
)
SERVICES = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.one_of(VALUES, st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6)),
    max_size=3,
)
COMPOSE = st.fixed_dictionaries(
    {"services": SERVICES},
    optional={k: VALUES for k in ("networks", "volumes", "secrets", "configs", "name", "x-y")},
)
MANIFEST = st.fixed_dictionaries(
    {"apiVersion": st.just("stackctl/v1"), "kind": st.just("Stack")},
    optional={
        "metadata": st.one_of(VALUES, st.fixed_dictionaries({"name": st.sampled_from(["a", "B"])})),
        "spec": st.one_of(
            VALUES,
            st.fixed_dictionaries(
                {}, optional={"compose": COMPOSE, "composeFile": VALUES, "env": VALUES}
            ),
        ),
    },
)
TEXT = st.text(alphabet=st.sampled_from(list("ab:- \n{}[]'\"#&*!|>%@`,?$~\t\x00é")), max_size=60)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(COMPOSE, st.lists(st.one_of(MANIFEST, VALUES), min_size=1, max_size=3), TEXT)
def test_loading_never_raises(compose: object, manifests: list[object], text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "p").mkdir()
        (root / "p" / "compose.yaml").write_text(json.dumps(compose))
        (root / "m.yaml").write_text("\n---\n".join(json.dumps(m) for m in manifests))
        (root / "t.yaml").write_text(text)
        result = load_root(root)
    for error in result.errors:
        assert error.file and error.message
    for source in result.sources.values():
        assert source.valid == all(name in result.stacks for name in source.names) or source.errors
