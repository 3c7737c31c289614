"""Judging a paper's experimental claim over seeds: effect sizes with intervals, and training adequacy.

A claim about a trend ("the stable rank falls as mu_V grows") is decided on every run of a sweep,
seeds pooled, never on one seed:

* the effect is a statistic of the pooled runs (e.g. Spearman's rho between mu_V and the stable
  rank over all (seed, mu_V) runs);
* its uncertainty is a **seed bootstrap**: the seeds are resampled with replacement
  (:data:`RESAMPLES` times, every run of a drawn seed kept together), the statistic recomputed,
  and the central :data:`CONFIDENCE` percentile interval reported;
* a claim is *supported* when the interval lies on the claimed side of the null value,
  *contradicted* when it lies on the other side, and *undecided* when it contains it, or when
  fewer than :data:`MIN_SEEDS` seeds were trained (one or two seeds give no honest interval).

A contradiction also needs networks trained enough to test the claim (:func:`undertrained`);
otherwise the verdict is ``inconclusive`` with that criterion stated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

MIN_SEEDS = 3
RESAMPLES = 2000
CONFIDENCE = 0.95
#: "still training": the mean epoch loss fell by more than this fraction over the last tenth of the epochs
STILL_FALLING = 0.02
#: "near chance": test accuracy below chance + this fraction of the distance from chance to 1
NEAR_CHANCE = 0.25


@dataclass(frozen=True)
class Estimate:
    """A statistic over pooled runs with its seed-bootstrap interval (``lower``, ``upper``)."""

    value: float
    lower: float
    upper: float
    seeds: int

    def side(self, null: float = 0.0) -> int:
        """+1 when the interval lies above ``null``, -1 below, 0 when it contains it or is undefined."""
        if self.seeds < MIN_SEEDS or not np.isfinite([self.lower, self.upper]).all():
            return 0
        return 1 if self.lower > null else -1 if self.upper < null else 0

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.lower:.4g}, {self.upper:.4g}] ({CONFIDENCE:.0%} seed bootstrap, {self.seeds} seeds)"


def seed_bootstrap(rows: pd.DataFrame, statistic: Callable[[pd.DataFrame], float], seed: int = 0) -> Estimate:
    """``statistic`` of ``rows`` with a percentile interval from resampling the ``seed`` column's values."""
    seeds = np.unique(rows["seed"].to_numpy())
    value = float(statistic(rows))
    if len(seeds) < MIN_SEEDS:
        return Estimate(value, float("nan"), float("nan"), len(seeds))
    groups = {s: rows[rows["seed"] == s] for s in seeds}
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(RESAMPLES):
        sample = pd.concat([groups[s] for s in rng.choice(seeds, size=len(seeds), replace=True)])
        draws.append(statistic(sample))
    finite = np.asarray(draws, dtype=float)
    finite = finite[np.isfinite(finite)]
    tail = (1 - CONFIDENCE) / 2 * 100
    lower, upper = np.percentile(finite, [tail, 100 - tail]) if finite.size else (float("nan"), float("nan"))
    return Estimate(value, float(lower), float(upper), len(seeds))


def spearman(x: str, y: str) -> Callable[[pd.DataFrame], float]:
    """Spearman's rho between two columns (NaN when either is constant)."""

    def statistic(rows: pd.DataFrame) -> float:
        if rows[x].nunique() < 2 or rows[y].nunique() < 2:
            return float("nan")
        return float(spearmanr(rows[x], rows[y]).statistic)

    return statistic


def rank_trend(rows: pd.DataFrame, x: str, y: str, seed: int = 0) -> Estimate:
    """Spearman's rho between ``x`` and ``y`` over all runs, seeds pooled, with its seed-bootstrap interval."""
    return seed_bootstrap(rows, spearman(x, y), seed)


def decide(estimate: Estimate, claimed_sign: int, null: float = 0.0) -> bool | None:
    """True when the interval lies on the claimed side of ``null``, False on the other, None otherwise."""
    side = estimate.side(null)
    return None if side == 0 else side == claimed_sign


def loss_still_falling(epoch_loss: np.ndarray) -> float:
    """Relative fall of the mean epoch loss from the first to the last window of the last tenth of the epochs."""
    epochs = len(epoch_loss)
    tail = epoch_loss[-max(2, epochs // 10) :]
    window = max(1, len(tail) // 5)
    start, end = float(np.mean(tail[:window])), float(np.mean(tail[-window:]))
    return (start - end) / abs(start) if start != 0 else 0.0


def undertrained(histories: Sequence[dict[str, np.ndarray]], classes: int | None = None) -> str | None:
    """Why the runs are not trained enough to test a claim, or None.

    Criteria: the majority of runs still lose more than :data:`STILL_FALLING` of their epoch
    loss over the last tenth of the epochs; or, for a classifier of ``classes`` classes, the
    mean test accuracy is below chance + :data:`NEAR_CHANCE` * (1 - chance).
    """
    falling = [loss_still_falling(np.asarray(h["epoch_loss"])) for h in histories if len(h.get("epoch_loss", ())) >= 2]
    still = sum(f > STILL_FALLING for f in falling)
    if falling and still > len(falling) / 2:
        return (
            f"{still} of {len(falling)} runs still lose more than {STILL_FALLING:.0%} of their epoch loss over the last tenth "
            f"of the epochs (median {np.median(falling):.1%})"
        )
    if classes is not None:
        accuracy = float(np.mean([h["test_accuracy"][-1] for h in histories if "test_accuracy" in h]))
        chance = 1 / classes
        threshold = chance + NEAR_CHANCE * (1 - chance)
        if accuracy < threshold:
            return f"mean test accuracy {accuracy:.3f} is near chance ({chance:.2f}; criterion < {threshold:.3f})"
    return None
