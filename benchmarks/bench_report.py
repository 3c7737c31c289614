"""The README's main job against its time budget: ``rankbound report --preset quick`` from nothing.

Work: ``rankbound report --preset quick`` in a fresh process with an empty results store and a
fresh output directory, so everything runs: training of every quick experiment, every check,
the figures, the statements and the LaTeX compilation (``--no-compile`` when ``latexmk`` is
missing, which the line then says on stderr).

* baseline: the budget the report issue sets, 5 minutes on 2 CPU cores (:data:`BUDGET_S`); it is
  a fixed number, not a measurement;
* ours: the measured wall time of the command.

So ``ratio >= 1`` means the quick report fits its budget. The data sets are read from
``$RANKBOUND_DATA`` (or ``../shared/data`` beside the repository when it exists).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import Timing

NAME = "report"
BUDGET_S = 300.0
ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> str | None:
    configured = os.environ.get("RANKBOUND_DATA")
    if configured:
        return configured
    beside = ROOT.parent / "shared" / "data"
    return str(beside) if beside.is_dir() else None


def run() -> Timing:
    with tempfile.TemporaryDirectory(prefix="rankbound-bench-report-") as scratch:
        command = [sys.executable, "-m", "rankbound", "report", "--preset", "quick",
                   "--store", str(Path(scratch) / "results"), "--out", str(Path(scratch) / "report")]
        data_dir = _data_dir()
        if data_dir:
            command += ["--data-dir", data_dir]
        if shutil.which("latexmk") is None:
            print("report: latexmk not found, timing without the LaTeX compilation", file=sys.stderr)
            command.append("--no-compile")
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ours = time.perf_counter() - start
        if not (Path(scratch) / "report" / "report.tex").is_file():
            raise RuntimeError("rankbound report finished without writing report.tex")
    return Timing(baseline_s=BUDGET_S, ours_s=ours)


if __name__ == "__main__":
    print(run().line(NAME))
