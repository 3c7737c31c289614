"""``analyze`` vs WeightWatcher's ``analyze()`` on the same model, for the metrics both compute.

Model: a 784-1024-512-256-10 ReLU MLP (an MNIST classifier, four ``nn.Linear`` weights).
Our default ``method="auto"`` takes the singular values of these rectangular layers from their
Gram matrices (each certified to a relative 1e-6); a layer whose smallest singular value is
below the Gram's resolution (a square or low-rank layer) goes through LAPACK's SVD, as
WeightWatcher does, and gains nothing.

Before timing, the shared metrics are checked to agree, minding WeightWatcher's conventions:
its ``norm`` is the squared Frobenius norm and its ``spectral_norm`` the largest eigenvalue of
W^T W, i.e. sigma_1^2; its ``stable_rank`` is ours. WeightWatcher is timed with its defaults
(which include its power-law fit: it has no switch to compute only these metrics); ours with
its defaults (p = 0.5, 1, 2).

Where the time goes (2 CPU cores): nearly all of ours is the float64 Gram products and LAPACK's
symmetric eigensolver (65-85 ms over runs; the first layer's 784 x 784 eigenproblem alone is
33-41 ms); WeightWatcher spends about 146 ms in float32 SVDs (``scipy.linalg.svd``) and the rest
of its 260-320 ms in its fits. On one core each, our Gram products and eigensolvers take about
108 ms (22 + 11 + 1 and 50 + 21 + 4 ms for the three large layers), so even a perfect split over
the two cores leaves 54 ms against WeightWatcher's 270 ms in the same session: a ratio of 5 at
best. Lower precision would lose the certified 1e-6 relative accuracy of the small singular
values.

WeightWatcher is an optional dependency: ``pip install rankbound[bench]``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import Timing, interleaved
from numerics.measures.analyze import analyze

NAME = "analyze"
WIDTHS = (784, 1024, 512, 256, 10)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence WeightWatcher's prints and log messages, which would break the one-line output."""
    logger = logging.getLogger("weightwatcher")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def _weightwatcher() -> Any:
    try:
        with _quiet():
            import weightwatcher
    except ImportError as error:
        raise RuntimeError("benchmark 'analyze' needs WeightWatcher: pip install rankbound[bench]") from error
    return weightwatcher


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    for fan_in, fan_out in zip(WIDTHS[:-1], WIDTHS[1:], strict=True):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def _check_shared_metrics(ours: Any, theirs: Any) -> None:
    rows = {row.name.removesuffix(".weight"): row for row in ours.layers}
    assert sorted(rows) == sorted(str(name) for name in theirs["name"]), (sorted(rows), list(theirs["name"]))
    for _, record in theirs.iterrows():
        row = rows[str(record["name"])]
        np.testing.assert_allclose(record["norm"], row.frobenius_norm**2, rtol=1e-5)
        np.testing.assert_allclose(record["spectral_norm"], row.spectral_norm**2, rtol=1e-5)
        np.testing.assert_allclose(record["stable_rank"], row.stable_rank, rtol=1e-5)


def run() -> Timing:
    weightwatcher = _weightwatcher()
    model = _model()

    def theirs() -> Any:
        with _quiet():
            return weightwatcher.WeightWatcher(model=model).analyze()

    _check_shared_metrics(analyze(model), theirs())
    return interleaved(theirs, lambda: analyze(model), 3, 3)


if __name__ == "__main__":
    print(run().line(NAME), flush=True)
