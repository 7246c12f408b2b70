"""``load_root(root, cache=...)`` (the watcher's) gives what an uncached load gives after any
change to any file a source uses, and loads again only the entries whose files changed."""

from __future__ import annotations

import os
import random
import shutil
import textwrap
from pathlib import Path

import pytest

from controller.sources.loader import LoadCache, LoadResult, load_root

FILES = {
    # A manifest with an env file, a secret and a compose file in a folder it claims.
    "shop.yaml": """\
        apiVersion: stackctl/v1
        kind: Stack
        metadata: {name: shop}
        spec:
          composeFile: shop/compose.yaml
          envFile: shop/vars.env
    """,
    "shop/compose.yaml": """\
        services:
          web: {image: "busybox:${TAG}", secrets: [token]}
        secrets:
          token: {file: ./token.txt}
    """,
    "shop/vars.env": "TAG=1.36\n",
    "shop/token.txt": "s3cret-1\n",
    # A compose project folder with its .env, an env_file and a build context.
    "api/docker-compose.yml": """\
        services:
          app:
            image: api:${VERSION:-dev}
            build: {context: ./ctx}
            env_file: [app.env]
    """,
    "api/app.env": "LEVEL=info\n",
    "api/ctx/Dockerfile": "FROM scratch\n",
    # A plain compose file at the top, interpolated from the root's .env.
    "plain.yml": """\
        services:
          job: {image: "busybox:${PLAIN_TAG:-1}"}
    """,
    # An inline manifest.
    "cache.yaml": """\
        apiVersion: stackctl/v1
        kind: Stack
        metadata: {name: cache}
        spec:
          compose:
            services:
              redis: {image: "redis:7"}
    """,
}


def write(root: Path, rel: str, text: str, *, keep_mtime: bool = False) -> None:
    """Write ``text``; with ``keep_mtime`` put the old times back (an edit the clock missed)."""
    path = root / rel
    if path.parent.is_file():  # after "folder becomes a file of the same name"
        path.parent.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat() if keep_mtime and path.exists() else None
    path.write_text(textwrap.dedent(text))
    if before is not None:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "manifests"
    for rel, text in FILES.items():
        write(path, rel, text)
    return path


def summary(result: LoadResult) -> dict:
    """Everything the watcher acts on: stacks by digest, and each source's names and errors."""
    return {
        "stacks": {name: stack.digest for name, stack in result.stacks.items()},
        "sources": {
            source: (report.names, [e.render() for e in report.errors])
            for source, report in result.sources.items()
        },
        "warnings": sorted(w.message for w in result.warnings),
    }


def check(root: Path, cache: LoadCache) -> dict:
    cached, fresh = summary(load_root(root, cache=cache)), summary(load_root(root))
    assert cached == fresh
    return cached


def test_an_unchanged_root_loads_nothing_again(root: Path) -> None:
    cache = LoadCache()
    first = check(root, cache)
    assert set(first["stacks"]) == {"shop", "api", "plain", "cache"}
    assert cache.misses == 5  # shop/ too: loaded, then left out as the folder shop.yaml claims
    assert check(root, cache) == first
    assert (cache.hits, cache.misses) == (5, 5)


def test_only_the_entry_whose_file_changed_loads_again(root: Path) -> None:
    cache = LoadCache()
    first = check(root, cache)
    write(root, "shop/token.txt", "s3cret-2\n")  # a file the shop manifest references
    second = check(root, cache)
    assert second["stacks"]["shop"] != first["stacks"]["shop"]
    assert {k: v for k, v in second["stacks"].items() if k != "shop"} == {
        k: v for k, v in first["stacks"].items() if k != "shop"
    }
    assert cache.misses == 7  # five at first, then shop.yaml and shop/, which use the secret


# Each change is applied in turn to the same root; after each, cached == uncached.
CHANGES = {
    "env value, same size and mtime": lambda r: write(
        r, "shop/vars.env", "TAG=1.37\n", keep_mtime=True
    ),
    "secret, same size and mtime": lambda r: write(
        r, "shop/token.txt", "s3cret-9\n", keep_mtime=True
    ),
    "env file removed": lambda r: _remove(r / "shop/vars.env"),
    "env file back": lambda r: write(r, "shop/vars.env", "TAG=1.38\n"),
    "compose file of a manifest edited": lambda r: write(
        r, "shop/compose.yaml", FILES["shop/compose.yaml"].replace("web:", "www:")
    ),
    "compose.yaml shadows docker-compose.yml": lambda r: write(
        r, "api/compose.yaml", "services:\n  other: {image: busybox}\n"
    ),
    "compose.yaml removed": lambda r: _remove(r / "api/compose.yaml"),
    ".env appears beside a project": lambda r: write(r, "api/.env", "VERSION=2\n"),
    ".env of the root appears": lambda r: write(r, ".env", "PLAIN_TAG=7\n"),
    ".env of the root removed": lambda r: _remove(r / ".env"),
    "env_file edited": lambda r: write(r, "api/app.env", "LEVEL=debug\n"),
    "build context removed": lambda r: shutil.rmtree(r / "api/ctx", ignore_errors=True),
    "build context back": lambda r: write(r, "api/ctx/Dockerfile", "FROM scratch\n"),
    "secret becomes a symlink": lambda r: _symlink(r / "shop/token.txt", "other-token.txt"),
    "symlink points elsewhere": lambda r: _symlink(r / "shop/token.txt", "third-token.txt"),
    "symlink points outside the root": lambda r: _symlink(r / "shop/token.txt", "/etc/hostname"),
    "second stack named cache": lambda r: write(r, "dup.yaml", FILES["cache.yaml"]),
    "second stack gone": lambda r: _remove(r / "dup.yaml"),
    "manifest broken": lambda r: write(r, "cache.yaml", "kind: Stack\nmetadata: {name: cache\n"),
    "manifest fixed": lambda r: write(r, "cache.yaml", FILES["cache.yaml"]),
    "manifest renamed": lambda r: (r / "cache.yaml").exists()
    and (r / "cache.yaml").rename(r / "cache2.yaml"),
    "folder becomes a file of the same name": lambda r: (
        shutil.rmtree(r / "api", ignore_errors=True),
        write(r, "api", "not a source: no yaml suffix\n"),
    ),
}


def _remove(path: Path) -> None:
    """Remove a file if it is there (its folder may have become a file)."""
    if path.is_file() or path.is_symlink():
        path.unlink()


def _symlink(link: Path, target: str) -> None:
    if not target.startswith("/"):
        write(link.parent, target, f"{target}\n")
    _remove(link)
    link.symlink_to(target)


def test_every_kind_of_change_is_seen(root: Path) -> None:
    cache = LoadCache()
    seen = [check(root, cache)]
    for what, change in CHANGES.items():
        change(root)
        seen.append(check(root, cache))
        assert seen[-1] != seen[-2] or what in ("second stack gone",), what


@pytest.mark.parametrize("seed", range(8))
def test_random_sequences_of_changes_match_an_uncached_load(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    cache = LoadCache()
    check(root, cache)
    for _ in range(25):
        rng.choice(list(CHANGES.values()))(root)
        check(root, cache)


def test_a_root_that_resolves_elsewhere_starts_afresh(tmp_path: Path) -> None:
    for release in ("r1", "r2"):
        for rel, text in FILES.items():
            write(tmp_path / release, rel, text)
    write(tmp_path / "r2", "shop/token.txt", "s3cret-2\n")
    link = tmp_path / "manifests"
    link.symlink_to("r1")
    cache = LoadCache()
    first = check(link, cache)
    link.unlink()
    link.symlink_to("r2")
    assert check(link, cache)["stacks"]["shop"] != first["stacks"]["shop"]
