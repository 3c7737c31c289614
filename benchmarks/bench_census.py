"""Gradient census of one epoch: closed form vs an autograd loop over the batches.

Work: ``||grad_V L_S + mu_V V||_F`` for every batch S of one epoch of Chen et al.'s California
setting (N = 1800 samples, n = 8 features, B = 16, so 113 batches, the last of 8 samples),
float64. Baseline: for each batch, a forward pass, ``torch.autograd.grad`` of the batch loss
w.r.t. V, the decay term and the norm. Ours: :func:`numerics.measures.census.batch_gradient_norms`.

``run()`` measures width :data:`WIDTH` = 512, where the baseline is dominated by per-batch
overhead; ``python benchmarks/bench_census.py`` also prints width 8192 (the paper's). Both
sides do the same two N x m x n products (pre-activations, then the masked per-batch sums);
ours fuses them with everything else into one compiled pass per batch that stays in cache
(:mod:`numerics.measures._census_kernel`), so at width 8192 the ratio is that of cache-resident
loops against the baseline's N x m temporaries.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import Timing, interleaved
from numerics.measures.census import batch_gradient_norms

NAME = "census"
WIDTH = 512
N, N_FEATURES, BATCH_SIZE, MU_V = 1800, 8, 16, 1e-2


def _problem(width: int) -> tuple[dict[str, torch.Tensor], list[torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)

    def draw(*shape: int, scale: float) -> torch.Tensor:
        return scale * torch.randn(*shape, generator=generator, dtype=torch.float64)

    net = {
        "a": draw(width, scale=width**-0.5),
        "V": draw(width, N_FEATURES, scale=N_FEATURES**-0.5),
        "b": draw(width, scale=0.1),
        "X": draw(N, N_FEATURES, scale=1.0),
        "y": draw(N, scale=1.0),
    }
    batches = list(torch.randperm(N, generator=generator).split(BATCH_SIZE))
    return net, batches


def _autograd_norms(net: dict[str, torch.Tensor], batches: list[torch.Tensor]) -> torch.Tensor:
    V = net["V"].clone().requires_grad_(True)
    norms = []
    for batch in batches:
        f = torch.relu(net["X"][batch] @ V.T + net["b"]) @ net["a"]
        loss = ((f - net["y"][batch]) ** 2).mean()
        (gradient,) = torch.autograd.grad(loss, V)
        norms.append(torch.linalg.matrix_norm(gradient + MU_V * net["V"]))
    return torch.stack(norms)


def run(width: int = WIDTH) -> Timing:
    net, batches = _problem(width)
    np.testing.assert_allclose(
        batch_gradient_norms(**net, batches=batches, mu_V=MU_V), _autograd_norms(net, batches).numpy(), rtol=1e-10
    )
    return interleaved(
        lambda: _autograd_norms(net, batches), lambda: batch_gradient_norms(**net, batches=batches, mu_V=MU_V), 9, 3
    )


if __name__ == "__main__":
    for width in (WIDTH, 8192):
        print(run(width).line(f"{NAME}[width={width}]"), flush=True)
