"""The experimental claims of Chen et al. Section 4 as checks over a sweep (issue item 8).

Each claim is judged over seeds (:mod:`checks.over_seeds`: the effect with a seed-bootstrap
interval, at least three seeds) with the criterion that decides it stated, and the verdict is
``holds`` (the interval lies on the claimed side), ``violated`` (the data contradict the claim
beyond that uncertainty, on networks trained enough to test it) or ``inconclusive`` (they do not
decide it: too few seeds, an interval across the criterion, networks not trained enough), with
the numbers in the reason. Runs whose weight decay was below their dtype's resolution are left
out and counted. A claim the data do not support is reported as such, not tuned away. The
paper's figures lost their numbers (notes A.10); where the text gives numbers (Fig. 3: most
batch-gradient norms below 2, the largest below 12, at width 8192) the claim is judged at the
paper's width only, since no rescaling of those thresholds to another width is derived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import pandas as pd

from checks.context import CheckContext
from checks.measurements import chen_table, main_batch_size
from checks.over_seeds import MIN_SEEDS, decide, rank_trend, seed_bootstrap, undertrained
from checks.registry import Check
from checks.verdict import Verdict

#: "stable rank towards 1": the seed-averaged stable rank at the largest mu_V is at most this
NEAR_ONE = 1.5
#: "roughly constant across batch sizes": coefficient of variation of the stable rank at most this;
#: and the generalization gap's range across batch sizes at most this fraction of its range across mu_V
ROUGHLY_CONSTANT = 0.25
#: Fig. 3 [C]: most batch-gradient norms below 2, the largest below 12, at width 8192 on California
MOST_BELOW, LARGEST_BELOW, PAPER_WIDTH = 2.0, 12.0, 8192


def _claim(statement: str, check: str, claim: str, supported: bool | None, reason: str, measured: float | None, coverage: str, details: dict) -> Verdict:
    prefix = {True: "", False: "the data contradict the claim: ", None: "not decided: "}[supported]
    return Verdict(
        statement=statement,
        check=check,
        verdict={True: "holds", False: "violated", None: "inconclusive"}[supported],
        reason=f"{claim}: {prefix}{reason}",
        measured=measured,
        kind="claim",
        tag="C",
        coverage=coverage,
        details={**details, "claim": claim, "observed": reason},
    )


def _judged(supported: bool | None, note: str, untrained: str | None) -> tuple[bool | None, str]:
    """No verdict either way on networks not trained enough to test the claim (criterion stated)."""
    if untrained is not None:
        return None, f"{note}; the networks are not trained enough to test the claim: {untrained}"
    return supported, note


def _usable(table: pd.DataFrame) -> pd.DataFrame:
    """Finished runs whose weight decay was resolved by their dtype (numerics.training.decay)."""
    return table[(table["status"] == "finished") & ~table["decay_inert"]]


def _sweep(table: pd.DataFrame) -> pd.DataFrame:
    """The mu_V sweep: usable runs at the main batch size with the main sweep's epochs."""
    B = main_batch_size(table)
    rows = _usable(table)
    rows = rows[rows["batch_size"] == B]
    return rows[rows["epochs"] == rows["epochs"].mode().iloc[0]] if len(rows) else rows


def _by_mu(rows: pd.DataFrame, column: str) -> pd.Series:
    """Seed-averaged ``column`` against mu_V."""
    return rows.groupby("mu_v")[column].mean().sort_index()


def _coverage(table: pd.DataFrame, rows: pd.DataFrame, experiment: str) -> str:
    widths = sorted(set(table["width"]))
    inert = int(table["decay_inert"].sum())
    excluded = f"; {inert} runs left out: weight decay below the dtype's resolution" if inert else ""
    return (
        f"{experiment}: {len(rows)} of {len(table)} runs, seeds {sorted(set(rows['seed']))}, width {widths}, "
        f"mu_V in {sorted(set(rows['mu_v']))}, batch sizes {sorted(set(rows['batch_size']))}{excluded}"
    )


def _too_few(rows: pd.DataFrame, table: pd.DataFrame, needed: int = 2) -> str | None:
    """Why a trend over the mu_V values of ``rows`` cannot be judged (it needs ``needed`` values), or None."""
    values = rows["mu_v"].nunique()
    if values >= needed:
        return None
    unfinished = int((table["status"] != "finished").sum())
    return f"only {values} mu_V values with finished runs ({needed} needed; {unfinished} of {len(table)} runs did not finish)"


def _untrained(rows: pd.DataFrame) -> str | None:
    histories = [{"epoch_loss": row.epoch_loss, **({"test_accuracy": [row.test_accuracy]} if "test_accuracy" in rows else {})} for row in rows.itertuples()]
    return undertrained(histories, classes=10 if "test_accuracy" in rows else None)


def stable_rank_claims(context: CheckContext, experiment: str) -> list[Verdict]:
    table = chen_table(context, experiment)
    rows = _sweep(table)
    claim = f"the stable rank of V falls with mu_V towards 1 ({experiment})"
    problem = _too_few(rows, table)
    if problem:
        return [_claim("chen2024.thm2_6", "chen.stable_rank", claim, None, problem, None, _coverage(table, rows, experiment), {})]
    trend = rank_trend(rows, "mu_v", "stable_rank", context.seed)
    largest = rows[rows["mu_v"] == rows["mu_v"].max()]
    end = seed_bootstrap(largest, lambda r: float(r["stable_rank"].mean()), context.seed)
    falls = decide(trend, -1)
    if falls is True and end.upper <= NEAR_ONE:
        supported, note = True, f"it falls (Spearman {trend}) to {end} at mu_V = {largest['mu_v'].iloc[0]:g}, within {NEAR_ONE} of rank one"
    elif falls is False:
        supported, note = False, f"it rises with mu_V (Spearman {trend})"
    elif falls is True:
        supported, note = None, f"it falls (Spearman {trend}) but ends at {end}, not certainly within {NEAR_ONE}"
    else:
        supported, note = None, f"no trend beyond the seed-to-seed variation (Spearman {trend})"
    supported, note = _judged(supported, note, _untrained(rows))
    ranks = _by_mu(rows, "stable_rank")
    return [
        _claim(
            "chen2024.thm2_6",
            "chen.stable_rank",
            claim,
            supported,
            note + "; seed means by mu_V: " + ", ".join(f"{mu:g}: {value:.3f}" for mu, value in ranks.items()),
            end.value,
            _coverage(table, rows, experiment),
            {"stable_rank_by_mu": {float(k): float(v) for k, v in ranks.items()}, "spearman": asdict(trend), "final": asdict(end)},
        )
    ]


def _best_gap_in_upper_half(column: str, middle: float) -> Callable[[pd.DataFrame], float]:
    """1 when the seed-mean ``column`` is smallest in the upper half of the mu_V grid, else 0."""

    def statistic(rows: pd.DataFrame) -> float:
        return float(rows.groupby("mu_v")[column].mean().idxmin() >= middle)

    return statistic


def mse_claims(context: CheckContext, experiment: str) -> list[Verdict]:
    table = chen_table(context, experiment)
    rows = _sweep(table).assign(abs_gap=lambda r: r["gap"].abs())
    coverage = _coverage(table, rows, experiment)
    claims = (
        f"larger mu_V raises the training MSE ({experiment}, Fig. 2)",
        f"the best generalization error (test - train MSE) is at large mu_V ({experiment}, Fig. 2)",
    )
    problem = _too_few(rows, table)
    if problem:
        return [_claim("chen2024.thm3_11", "chen.mse", claim, None, problem, None, coverage, {}) for claim in claims]
    untrained = _untrained(rows)
    trend = rank_trend(rows, "mu_v", "train_mse", context.seed)
    rises, rise_note = _judged(decide(trend, +1), f"Spearman(mu_V, train MSE) = {trend}", untrained)
    train, gap = _by_mu(rows, "train_mse"), _by_mu(rows, "gap")
    middle = float(np.median(gap.index))
    # "best generalization error" is ambiguous: the smallest signed gap, or the smallest |gap|; both must agree
    readings = [seed_bootstrap(rows, _best_gap_in_upper_half(column, middle), context.seed) for column in ("gap", "abs_gap")]
    sides = {reading.side(0.5) for reading in readings}
    large = None if len(sides) != 1 or 0 in sides else sides.pop() > 0
    large, gap_note = _judged(
        large,
        f"share of seed resamples whose smallest mean gap lies in the upper half of the grid (mu_V >= {middle:g}): "
        f"signed gap {readings[0]}, |gap| {readings[1]}",
        untrained,
    )
    return [
        _claim(
            "chen2024.thm3_11",
            "chen.mse",
            claims[0],
            rises,
            rise_note + "; seed means: " + ", ".join(f"{mu:g}: {v:.4f}" for mu, v in train.items()),
            float(train.iloc[-1]),
            coverage,
            {"train_mse_by_mu": {float(k): float(v) for k, v in train.items()}, "spearman": asdict(trend)},
        ),
        _claim(
            "chen2024.thm3_11",
            "chen.mse",
            claims[1],
            large,
            gap_note + "; seed means: " + ", ".join(f"{mu:g}: {v:+.4f}" for mu, v in gap.items()),
            float(gap.min()),
            coverage,
            {"gap_by_mu": {float(k): float(v) for k, v in gap.items()}, "upper_half_signed": asdict(readings[0]), "upper_half_absolute": asdict(readings[1])},
        ),
    ]


def gradient_claims(context: CheckContext, experiment: str) -> list[Verdict]:
    table = chen_table(context, experiment)
    rows = _sweep(table)
    rows = rows[rows["batch_norms"].notna()] if "batch_norms" in rows else rows.iloc[0:0]
    coverage = _coverage(table, rows, experiment) + "; every batch of the final epoch"
    claim = f"most batch-gradient norms are below {MOST_BELOW:g} and the largest below {LARGEST_BELOW:g} at every mu_V ({experiment}, Fig. 3, width {PAPER_WIDTH})"
    if rows.empty:
        problem = _too_few(rows, table, needed=1) or "no run with a gradient census"
        return [_claim("chen2024.thm2_6", "chen.gradients", claim, None, problem, None, coverage, {})]
    widths = sorted(set(rows["width"]))
    per_run = rows.assign(
        most_below=[float(np.mean(norms < MOST_BELOW)) for norms in rows["batch_norms"]],
    ).assign(meets=lambda r: (r["most_below"] > 0.5) & (r["batch_norm_max"] < LARGEST_BELOW))
    by_mu = per_run.groupby("mu_v")["meets"].agg(["sum", "count"])
    seeds = per_run["seed"].nunique()
    observed = "runs meeting it by mu_V: " + ", ".join(f"{mu:g}: {int(r['sum'])}/{int(r['count'])}" for mu, r in by_mu.iterrows())
    observed += f"; largest norm {per_run['batch_norm_max'].max():.3g}, smallest share below {MOST_BELOW:g}: {per_run['most_below'].min():.2f}"
    if widths != [PAPER_WIDTH]:
        supported = None
        observed = (
            f"the paper's statement is absolute at width {PAPER_WIDTH}; these runs have width {widths}, and no rescaling of its "
            f"thresholds to another width is derived, so it is not judged here ({observed})"
        )
    elif seeds < MIN_SEEDS:
        supported, observed = None, f"{seeds} seed(s), fewer than {MIN_SEEDS}: {observed}"
    elif by_mu["sum"].eq(by_mu["count"]).all():
        supported = True
    elif by_mu["sum"].eq(0).any():
        supported = False  # at some mu_V every seed fails
    else:
        supported = None
    supported, observed = _judged(supported, observed, _untrained(rows))
    return [
        _claim(
            "chen2024.thm2_6",
            "chen.gradients",
            claim,
            supported,
            observed,
            float(per_run["batch_norm_max"].max()),
            coverage,
            {"runs_meeting_by_mu": {float(mu): [int(r["sum"]), int(r["count"])] for mu, r in by_mu.iterrows()}, "widths": widths},
        )
    ]


def _variation(column: str) -> Callable[[pd.DataFrame], float]:
    """Coefficient of variation across batch sizes of the seed-mean ``column``."""

    def statistic(rows: pd.DataFrame) -> float:
        means = rows.groupby("batch_size")[column].mean()
        return float(means.std() / means.mean())

    return statistic


def _gap_spread(sweep_mus: set[float]) -> Callable[[pd.DataFrame], float]:
    """Range of the mean gap across batch sizes over its range across mu_V (the decay's own effect)."""

    def statistic(rows: pd.DataFrame) -> float:
        ablation = rows[rows["role"] == "ablation"].groupby("batch_size")["gap"].mean()
        sweep = rows[(rows["role"] == "sweep") & rows["mu_v"].isin(sweep_mus)].groupby("mu_v")["gap"].mean()
        effect = float(sweep.max() - sweep.min())
        return float(ablation.max() - ablation.min()) / effect if effect > 0 else float("nan")

    return statistic


def batch_size_claims(context: CheckContext, experiment: str) -> list[Verdict]:
    """Appendix A.2 under both protocols: equal epochs (larger batches take fewer steps) and equal optimiser steps."""
    table = chen_table(context, experiment)
    usable = _usable(table)
    strong = float(usable.groupby("mu_v")["batch_size"].nunique().idxmax()) if len(usable) else float("nan")
    at_strong = usable[usable["mu_v"] == strong]
    if at_strong["batch_size"].nunique() < 3:
        return []
    B0 = main_batch_size(table)
    sweep = _sweep(table)
    reference = at_strong[(at_strong["batch_size"] == B0) & (at_strong["epochs"] == sweep["epochs"].mode().iloc[0])]
    base_epochs, base_steps = int(reference["epochs"].iloc[0]), int(reference["steps"].iloc[0])
    epoch_steps = at_strong["steps"] // at_strong["epochs"]
    protocols = {
        "equal epochs": at_strong[at_strong["epochs"] == base_epochs],
        "equal optimiser steps": at_strong[(at_strong["steps"] - base_steps).abs() <= epoch_steps],
    }
    strength = seed_bootstrap(reference, lambda r: float(r["stable_rank"].mean()), context.seed)
    records = []
    for protocol, rows in protocols.items():
        if rows["batch_size"].nunique() < 3:
            continue
        coverage = _coverage(table, rows, experiment) + f"; protocol: {protocol}"
        untrained = _untrained(rows)
        rank = seed_bootstrap(rows, _variation("stable_rank"), context.seed)
        combined = pd.concat([rows.assign(role="ablation"), sweep.assign(role="sweep")])
        gap = seed_bootstrap(combined, _gap_spread(set(sweep["mu_v"])), context.seed)
        weak = None if strength.value <= NEAR_ONE else f"mu_V = {strong:g} is not strong here: the stable rank at B = {B0} is {strength}, above {NEAR_ONE}"
        by_batch = rows.groupby("batch_size")[["stable_rank", "gap", "steps"]].mean()
        listing = "; by B (seed means): " + ", ".join(f"{B}: rank {r.stable_rank:.3f}, gap {r.gap:+.4f}, {int(r.steps)} steps" for B, r in by_batch.iterrows())
        for half, estimate, what in (
            ("stable rank", rank, f"coefficient of variation of the stable rank across B = {rank} (criterion <= {ROUGHLY_CONSTANT})"),
            ("generalization gap", gap, f"range of the gap across B over its range across mu_V = {gap} (criterion <= {ROUGHLY_CONSTANT})"),
        ):
            supported = decide(estimate, -1, null=ROUGHLY_CONSTANT)
            note = what
            if weak is not None:
                supported, note = None, f"{weak}; {what}"
            supported, note = _judged(supported, note, untrained)
            records.append(
                _claim(
                    "chen2024.thm2_6",
                    "chen.batch_size",
                    f"at a strong mu_V ({strong:g}) the {half} is roughly the same across batch sizes, {protocol} ({experiment}, Appendix A.2)",
                    supported,
                    note + listing,
                    estimate.value,
                    coverage,
                    {"protocol": protocol, "estimate": asdict(estimate), "by_batch": {int(B): {k: float(v) for k, v in r.items()} for B, r in by_batch.iterrows()}},
                )
            )
    return records


def accuracy_claims(context: CheckContext, experiment: str) -> list[Verdict]:
    table = chen_table(context, experiment)
    if "test_accuracy" not in table:
        return []
    rows = _sweep(table).assign(accuracy_gap=lambda r: (r["train_accuracy"] - r["test_accuracy"]).abs())
    claim = f"the accuracy gap shrinks towards 0 as mu_V grows ({experiment}, Figs. 4-7)"
    problem = _too_few(rows, table)
    if problem:
        return [_claim("chen2024.thm3_11", "chen.accuracy", claim, None, problem, None, _coverage(table, rows, experiment), {})]
    trend = rank_trend(rows, "mu_v", "accuracy_gap", context.seed)
    supported, note = _judged(decide(trend, -1), f"Spearman(mu_V, |train - test accuracy|) = {trend}", _untrained(rows))
    gap = _by_mu(rows, "accuracy_gap")
    return [
        _claim(
            "chen2024.thm3_11",
            "chen.accuracy",
            claim,
            supported,
            note + "; seed means: " + ", ".join(f"{mu:g}: {v:.4f}" for mu, v in gap.items()),
            float(gap.iloc[-1]),
            _coverage(table, rows, experiment),
            {"accuracy_gap_by_mu": {float(k): float(v) for k, v in gap.items()}, "spearman": asdict(trend)},
        )
    ]


MNIST = ("chen_mnist", "chen_mnist_lr1e-4")  # the Chen MNIST experiments of the presets

# check name -> (statements, experiments it applies to, claims, description)
CLAIMS = {
    "chen.stable_rank": (("chen2024.thm2_6",), ("chen_california", *MNIST), stable_rank_claims, "stable rank against mu_V"),
    "chen.mse": (("chen2024.thm3_11",), ("chen_california", *MNIST), mse_claims, "training MSE and gap against mu_V"),
    "chen.gradients": (("chen2024.thm2_6",), ("chen_california",), gradient_claims, "batch-gradient norms against the Gaussian comparator"),
    "chen.batch_size": (("chen2024.thm2_6",), ("chen_california", *MNIST), batch_size_claims, "batch-size ablation"),
    "chen.accuracy": (("chen2024.thm3_11",), MNIST, accuracy_claims, "MNIST accuracy gap against mu_V"),
}


def experiment_claims(context: CheckContext, experiment: str) -> list[Verdict]:
    """Every claim that applies to one experiment, checked on that experiment's runs only."""
    return [record for _, experiments, claim, _ in CLAIMS.values() if experiment in experiments for record in claim(context, experiment)]


def _for(experiments: tuple[str, ...], claim):
    def run(context: CheckContext) -> list[Verdict]:
        return [record for experiment in experiments if context.has_experiment(experiment) for record in claim(context, experiment)]

    return run


CHECKS = tuple(
    Check(name, statements, _for(experiments, claim), description) for name, (statements, experiments, claim, description) in CLAIMS.items()
)
