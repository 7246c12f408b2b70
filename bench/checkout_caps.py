"""What the checkout caps cost and what they spare: a fetch of a commit of N small files (the
measuring pass, ``git ls-tree -r -l`` from the mirror, against the whole fetch), and a push of
a compressible big file refused before anything is written (pushed bytes, would-be checkout,
disk written under the state dir).

No engine needed. Run: ``.venv/bin/python bench/checkout_caps.py [--files N] [--mib M]``.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import statistics
import tempfile
import time

from helpers.git_servers import Pusher, bare_repo

from controller.desired.repository_spec import RepositorySpec
from controller.sources.git.fetcher import Fetcher
from controller.sources.git.runner import git_env
from controller.sources.git.sizing import CheckoutLimits, CheckoutTooBig, measure_tree

MIB = 1024 * 1024


def disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        origin = bare_repo(tmp, "many.git")
        pusher = Pusher(origin, work=tmp / "work")
        pusher.write({f"f/{i // 1000}/{i}.txt": f"{i}\n" for i in range(args.files)})
        pusher.commit("many")
        pusher.push()
        spec = RepositorySpec(name="many", url=str(origin))
        started = time.perf_counter()
        result = Fetcher(spec, state_dir=tmp / "state").fetch()
        whole = time.perf_counter() - started
        mirror = tmp / "state" / "many" / "mirror.git"
        env = git_env(spec, timeout_s=60, header=None)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            size = measure_tree(
                result.commit, mirror=mirror, env=env, cwd=mirror.parent, deadline=1e18
            )
            times.append(time.perf_counter() - started)
        print(
            f"caps: {size.files:,} files: measuring {statistics.median(times) * 1000:.0f} ms"
            f" (median of 5), the whole first fetch {whole * 1000:.0f} ms"
        )

        big = bare_repo(tmp, "big.git")
        pusher = Pusher(big, work=tmp / "work-big")
        pusher.write({"zeros.bin": b"\0" * (args.mib * MIB)}).commit("zeros")
        pusher.push()
        pushed = disk(big / "objects")
        state = tmp / "state-big"
        fetcher = Fetcher(
            RepositorySpec(name="big", url=str(big)),
            state_dir=state,
            limits=CheckoutLimits(max_bytes=64 * MIB),
        )
        started = time.perf_counter()
        try:
            fetcher.fetch()
        except CheckoutTooBig as e:
            refused = time.perf_counter() - started
            print(f"caps: refused in {refused * 1000:.0f} ms: {e.message}")
        checkouts = state / "big" / "checkouts"
        print(
            f"caps: pushed {pushed / MIB:.2f} MiB of objects for a {args.mib} MiB checkout;"
            f" written under checkouts/: {disk(checkouts)} bytes"
        )


if __name__ == "__main__":
    main()
