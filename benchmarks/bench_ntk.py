"""Jacobian Gram of Chen et al.'s two-layer net: closed form vs materialising J with torch.func.jacrev.

Work: ``K = J J^T`` w.r.t. all parameters (a, V, b) of ``f(x) = a relu(V x + b)`` on N = 256
inputs of dimension 8, width 1024 (J is 256 x 10240), float64. Baseline: ``torch.func.jacrev``
of the N outputs w.r.t. the three parameter blocks, concatenated, then ``J @ J.T``. Ours:
:func:`numerics.measures.ntk.two_layer_gram`, which never forms J.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch.func import jacrev

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import Timing, interleaved
from numerics.measures.ntk import two_layer_gram

NAME = "ntk"
N, N_FEATURES, WIDTH = 256, 8, 1024


def _problem() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)

    def draw(*shape: int, scale: float) -> torch.Tensor:
        return scale * torch.randn(*shape, generator=generator, dtype=torch.float64)

    return {
        "a": draw(WIDTH, scale=WIDTH**-0.5),
        "V": draw(WIDTH, N_FEATURES, scale=N_FEATURES**-0.5),
        "b": draw(WIDTH, scale=0.1),
        "X": draw(N, N_FEATURES, scale=1.0),
    }


def _jacrev_gram(a: torch.Tensor, V: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    def outputs(a: torch.Tensor, V: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.relu(X @ V.T + b) @ a

    blocks = jacrev(outputs, argnums=(0, 1, 2))(a, V, b)
    J = torch.cat([block.reshape(X.shape[0], -1) for block in blocks], dim=1)
    return J @ J.T


def run() -> Timing:
    problem = _problem()
    np.testing.assert_allclose(two_layer_gram(**problem), _jacrev_gram(**problem).numpy(), rtol=1e-10, atol=1e-10)
    return interleaved(lambda: _jacrev_gram(**problem), lambda: two_layer_gram(**problem), 2, 3)


if __name__ == "__main__":
    print(run().line(NAME), flush=True)
