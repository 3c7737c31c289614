"""Run speed benchmarks: ``python benchmarks/run.py [NAME ...]``.

Each benchmark lives in ``benchmarks/bench_<name>.py`` and defines

* ``NAME``: the name used on the command line and in the output, and
* ``run() -> Timing``: times our implementation and its baseline *in the same run*,
  after checking that both compute the same thing.

One line per benchmark is printed, a contract other tools parse::

    NAME ratio=<ours speed-up over the baseline> baseline_s=<seconds> ours_s=<seconds>

Speed is only ever measured here, as ratios; the test suite has no timing assertions.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of the baseline and of our implementation on identical work."""

    baseline_s: float
    ours_s: float

    @property
    def ratio(self) -> float:
        return self.baseline_s / self.ours_s

    def line(self, name: str) -> str:
        return f"{name} ratio={self.ratio:.2f} baseline_s={self.baseline_s:.4f} ours_s={self.ours_s:.4f}"


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls of ``fn`` (the usual timeit convention)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def interleaved(baseline: Callable[[], object], ours: Callable[[], object], rounds: int, per_round: int = 1) -> Timing:
    """Each side's best wall time over ``rounds`` rounds of ``per_round`` calls, the sides alternating.

    Alternating spreads both sides over the same stretch of a shared machine whose speed
    drifts over seconds; both get the same number of calls. With ``per_round > 1`` the first
    call of a round, which can find the cores still held by the other side's spinning thread
    pools (torch's, OpenBLAS's), is not the only one that counts.
    """
    baseline_s = ours_s = float("inf")
    for _ in range(rounds):
        baseline_s = min(baseline_s, best_of(baseline, per_round))
        ours_s = min(ours_s, best_of(ours, per_round))
    return Timing(baseline_s, ours_s)


def available() -> dict[str, str]:
    """Benchmark name -> module name, discovered from ``bench_*.py`` files."""
    names = {}
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(f"benchmarks.{path.stem}")
        names[module.NAME] = f"benchmarks.{path.stem}"
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    registry = available()
    unknown = [name for name in args.names if name not in registry]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(registry)}")
    for name in args.names or list(registry):
        timing = importlib.import_module(registry[name]).run()
        print(timing.line(name), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
