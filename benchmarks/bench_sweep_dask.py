"""The tiny preset's sweep on a 2-worker Dask LocalCluster against the same sweep in one process.

Work: ``rankbound train --preset tests/presets/tiny.toml`` from an empty results store, in a
fresh process each time (8 groups of models in 4 experiments: Chen et al. on California, Oymak
et al. and a deep MLP on MNIST, at test sizes).

* baseline: ``--jobs 1``, the groups one after the other in the command's process;
* ours: ``--scheduler local --jobs 2``, the groups on a ``dask.distributed.LocalCluster`` of two
  single-threaded worker processes started by the command (startup, shipping the groups and
  the results back, and shutdown included).

Both sides are timed in alternation over :data:`ROUNDS` rounds; after the first round the two
stores must hold the same runs with bit-identical weights and histories. On 2 cores the ratio
is the parallel speed-up net of the cluster's overhead. The data sets are read from
``$RANKBOUND_DATA`` (or ``../shared/data`` beside the repository when it exists).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import Timing, interleaved
from numerics.store import RUNS, ResultStore

NAME = "sweep_dask"
ROOT = Path(__file__).resolve().parent.parent
PRESET = ROOT / "tests" / "presets" / "tiny.toml"
ROUNDS = 2
BASELINE = ("--jobs", "1")
OURS = ("--scheduler", "local", "--jobs", "2")


def _data_dir() -> str | None:
    configured = os.environ.get("RANKBOUND_DATA")
    if configured:
        return configured
    beside = ROOT.parent / "shared" / "data"
    return str(beside) if beside.is_dir() else None


def _train(store: Path, options: tuple[str, ...]) -> None:
    command = [sys.executable, "-m", "rankbound", "train", "--preset", str(PRESET), "--store", str(store), *options]
    data_dir = _data_dir()
    if data_dir:
        command += ["--data-dir", data_dir]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def check_same_runs(ours: Path, baseline: Path) -> None:
    """Both stores hold the same run keys, with bit-identical weights, histories and statuses."""
    a, b = ResultStore(ours), ResultStore(baseline)
    if a.keys(RUNS) != b.keys(RUNS) or not a.keys(RUNS):
        raise AssertionError(f"the sweeps stored different runs: {len(a.keys(RUNS))} and {len(b.keys(RUNS))}")
    for key in a.keys(RUNS):
        x, y = a.load(RUNS, key), b.load(RUNS, key)
        if x["status"] != y["status"] or x["config"] != y["config"]:
            raise AssertionError(f"run {key}: status or config differ")
        for part in ("weights", "history"):
            for name in x[part]:
                if x[part][name].tobytes() != y[part][name].tobytes() or x[part][name].dtype != y[part][name].dtype:
                    raise AssertionError(f"run {key}: {part}[{name!r}] differs (max |diff| {np.nanmax(np.abs(x[part][name] - y[part][name]))})")


def run() -> Timing:
    with tempfile.TemporaryDirectory(prefix="rankbound-bench-dask-") as scratch:
        stores = iter(Path(scratch) / f"store{index}" for index in range(2 * ROUNDS))
        baseline_stores: list[Path] = []
        our_stores: list[Path] = []

        def baseline() -> None:
            baseline_stores.append(next(stores))
            _train(baseline_stores[-1], BASELINE)

        def ours() -> None:
            our_stores.append(next(stores))
            _train(our_stores[-1], OURS)
            if len(our_stores) == 1:
                check_same_runs(our_stores[0], baseline_stores[0])

        return interleaved(baseline, ours, ROUNDS)


if __name__ == "__main__":
    print(run().line(NAME))
