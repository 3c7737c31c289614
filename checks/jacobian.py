"""Checks of Oymak et al.'s low-rank Jacobian view (issue item 7).

* ``jacobian.split``: ``||Pi_I y||^2 + ||Pi_N y||^2 = ||y||^2`` and
  ``||J_I^+ y|| <= ||Pi_I y|| / alpha`` (the certified value of ``oymak2019.info_nuisance``)
  on the Jacobians of the trained Oymak nets, at initialisation and after training, at
  several cutoffs [C/P];
* ``jacobian.ntk``: ``E[J(W_0) J(W_0)^T] = k sigma_V^2 Sigma(X)`` — a Monte Carlo average of
  Jacobian Grams over random (W_0, V) against the multiclass NTK by quadrature [P];
* ``jacobian.label_noise`` (the paper's experimental claims, Tables 1-2 and Fig. 7): after
  training, the labels' energy moves into the information space; corrupted labels keep
  more energy in the nuisance space, the more so the higher the corruption.

The information space is spanned by the top ``INFORMATION_RANK`` left singular vectors of J,
as in the paper's experiments (top 50); the Jacobian is taken on the first
``JACOBIAN_SAMPLES`` training samples (nK rows), stated in every record.

A run whose training diverged gives ``inconclusive`` records with the reason, and so does a
net whose Jacobian leaves the statement's domain (alpha = 0 when it has rank below 51, as for
a net whose weights blew up and saturated the activation); the label-noise claims are
decided on the runs that can be measured, and say which were left out.
"""

from __future__ import annotations

import math
from dataclasses import asdict
import numpy as np

import derivations
from checks.context import CheckContext
from checks.over_seeds import decide, rank_trend, seed_bootstrap
from checks.registry import Check
from checks.verdict import Verdict, bound_floats, compare_to_bound
from numerics.evaluation import evaluate
from checks.measurements import INFORMATION_RANK, JACOBIAN_SAMPLES, projection_table, projections, unmeasured_oymak_runs
from numerics.evaluation import ParameterError
from numerics.measures.ntk import multiclass_ntk, ntk_base_kernel, oymak_gram, sample_major_permutation


def _run_label(corruption: float, seed: int) -> str:
    return f"corruption {corruption:.0%}, seed {seed}"

def split_identities(context: CheckContext) -> list[Verdict]:
    statement = derivations.get("oymak2019.info_nuisance")
    records = [
        Verdict(
            statement=statement.id, check="jacobian.split", verdict="inconclusive", tag=statement.tag,
            reason=f"the Oymak net ({_run_label(run.spec.data.label_noise, run.spec.seed)}) cannot be measured: {problem}",
            coverage="no Jacobian: the run is left out", details={"run_key": run.key},
        )
        for run, problem in unmeasured_oymak_runs(context)
    ]
    for projection in projections(context):
        split = projection.split
        coverage = f"Jacobian of the Oymak net ({projection.stage}, corruption {projection.corruption:.0%}) on {JACOBIAN_SAMPLES[context.scale]} samples"
        pythagoras = abs(split.norm_information**2 + split.norm_nuisance**2 - split.norm_y**2) / split.norm_y**2
        verdict, reason = compare_to_bound(pythagoras, 1e-12, 1e-12)
        records.append(
            Verdict(
                statement=statement.id, check="jacobian.split", verdict=verdict, reason=f"relative Pythagoras defect {pythagoras:.2e}: {reason}",
                measured=pythagoras, bound_lower=1e-12, bound_upper=1e-12, bound_digits="1e-12", tag=statement.tag, coverage=coverage,
                details={"alpha": split.alpha, "rank": split.rank},
            )
        )
        params = {"alpha": split.alpha, "info_norm": split.norm_information}
        conventions = {"r(alpha)": split.convention, "information space": f"top {INFORMATION_RANK} singular vectors"}
        try:
            bound = evaluate(statement, params, dps=30, form="pinv_bound")
        except ParameterError as error:
            records.append(
                Verdict(
                    statement=statement.id, check="jacobian.split", verdict="inconclusive",
                    reason=f"||J_I^+ y|| <= ||Pi_I y|| / alpha: the measured parameters leave the statement's domain: {error}",
                    form="pinv_bound", tag=statement.tag_of("pinv_bound"), coverage=coverage, params=params, conventions=conventions,
                )
            )
            continue
        lower, upper = bound_floats(bound)
        measured = split.pinv_information_norm
        verdict, reason = compare_to_bound(measured, lower, upper, measured_error=1e-10 * max(measured, 1e-300))
        records.append(
            Verdict(
                statement=statement.id, check="jacobian.split", verdict=verdict, reason=f"||J_I^+ y|| <= ||Pi_I y|| / alpha: {reason}",
                measured=measured, measured_error=1e-10 * measured, bound_lower=lower, bound_upper=upper, bound_digits=bound.digits(12),
                form="pinv_bound", tag=statement.tag_of("pinv_bound"), coverage=coverage, params=params, conventions=conventions,
            )
        )
    return records


def ntk_identity(context: CheckContext) -> list[Verdict]:
    """Monte Carlo E[J J^T] over (W_0, V) vs k sigma_V^2 Sigma(X) with Sigma by quadrature."""
    n, d, k, K = 6, 5, 64, 3
    draws = 200 if context.scale == "quick" else 2000
    rng = np.random.default_rng(context.seed)
    X = rng.normal(size=(n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    sigma_V = 1 / math.sqrt(k * K)  # the Rademacher scale of Theorem 2.3
    grams = []
    for _ in range(draws):
        W0 = rng.normal(size=(k, d))
        V = rng.choice([-sigma_V, sigma_V], size=(K, k))
        grams.append(oymak_gram(W0, V, X, "softplus"))
    stack = np.stack(grams)
    mean, standard_error = stack.mean(axis=0), stack.std(axis=0, ddof=1) / math.sqrt(draws)
    statement = derivations.get("oymak2019.ntk_identity")
    scale = float(evaluate(statement, {"k": k, "sigma_V": sigma_V}, dps=30).value)  # k sigma_V^2, from the declaration
    order = sample_major_permutation(n, K)
    expected = scale * multiclass_ntk(ntk_base_kernel(X, "softplus", method="quadrature"), K)[np.ix_(order, order)]
    z = np.abs(mean - expected) / np.maximum(standard_error, 1e-300)
    on_diagonal_blocks = expected != 0
    worst = float(z[on_diagonal_blocks].max())
    off_blocks = float(np.abs(mean[~on_diagonal_blocks]).max() / np.abs(expected).max())
    verdict = "holds" if worst <= 5 else "violated"
    return [
        Verdict(
            statement=statement.id,
            check="jacobian.ntk",
            verdict=verdict,
            reason=(
                f"Monte Carlo mean of {draws} Jacobian Grams within {worst:.2f} standard errors of k sigma_V^2 Sigma(X) "
                f"(5 allowed); cross-class blocks vanish in expectation (largest mean {off_blocks:.2e} of the scale)"
            ),
            measured=worst,
            bound_lower=5.0,
            bound_upper=5.0,
            bound_digits="5 standard errors",
            form="scale",
            tag=statement.tag_of("scale"),
            params={"k": k, "sigma_V": sigma_V, "n": n, "d": d, "K": K, "draws": draws},
            coverage=f"n = {n} unit-norm inputs in R^{d}, softplus, Rademacher V, {draws} draws; Sigma by Gauss-Hermite quadrature",
            conventions={"ordering": "Sigma(X) = I_K (x) ... is class-major, permuted to the sample-major Gram", "test": "statistical: |mean - expected| / standard error"},
        )
    ]


#: "concentrates on the information space": the paper reports 0.99 (clean) and 0.90 (50%)
CONCENTRATED = 0.9


def _claim(claim: str, supported: bool | None, measured: float | None, reason: str, details: dict) -> Verdict:
    """A paper claim: holds (supported), violated (the data contradict it), inconclusive."""
    prefix = {True: "", False: "the data do not support the claim: ", None: "not decided: "}[supported]
    return Verdict(
        statement="oymak2019.info_nuisance",
        check="jacobian.label_noise",
        verdict={True: "holds", False: "violated", None: "inconclusive"}[supported],
        reason=f"{claim}: {prefix}{reason}",
        measured=measured,
        kind="claim",
        tag="C",
        coverage=f"Oymak nets on MNIST, information space = top {INFORMATION_RANK} singular vectors",
        details={**details, "claim": claim, "observed": reason},
    )


#: the label-noise claims, in the order :func:`label_noise` returns them
LABEL_NOISE_CLAIMS = (
    "after training on clean labels the labels' energy concentrates on the information space (paper, CIFAR-10: 0.38 -> 0.99)",
    "more label corruption leaves more label energy on the nuisance space after training (paper, Fig. 7)",
)


def label_noise(context: CheckContext) -> list[Verdict]:
    """The paper's label-noise claims, judged over seeds (:mod:`checks.over_seeds`); unmeasurable runs are left out and named."""
    left_out = [f"{_run_label(run.spec.data.label_noise, run.spec.seed)}: {problem}" for run, problem in unmeasured_oymak_runs(context)]
    note = f" (left out: {'; '.join(left_out)})" if left_out else ""
    table = projection_table(context)
    final = table[table["stage"] == "final"]
    clean_level = min(float(run.spec.data.label_noise) for run in context.runs("oymak"))
    if clean_level not in set(table["corruption"]):
        reason = f"the runs with the least corrupted labels ({clean_level:.0%}) cannot be measured{note}"
        return [_claim(claim, None, None, reason, {"left_out": left_out}) for claim in LABEL_NOISE_CLAIMS]
    clean = table[table["corruption"] == clean_level].pivot(index="seed", columns="stage", values="info_y").dropna().reset_index()
    rise = seed_bootstrap(clean, lambda r: float((r["final"] - r["init"]).mean()), context.seed)
    level = seed_bootstrap(clean, lambda r: float(r["final"].mean()), context.seed)
    increases = decide(rise, +1)
    if increases is False:
        concentration, reading = False, f"the energy on the information space falls in training (change {rise})"
    elif increases is True and level.lower >= CONCENTRATED:
        concentration, reading = True, f"it rises ({rise}) and reaches {level}, at least {CONCENTRATED}"
    elif increases is True:
        concentration, reading = None, (
            f"it rises ({rise}) but ends at {level}, not certainly {CONCENTRATED} or more: the Jacobian of this net barely moves "
            "in training (the lazy regime of a wide two-layer net), unlike the paper's ResNet20 on CIFAR-10"
        )
    else:
        concentration, reading = None, f"no change beyond the seed-to-seed variation ({rise})"
    trend = rank_trend(final, "corruption", "nuisance_y", context.seed)
    nuisance = final.groupby("corruption")["nuisance_y"].mean()
    records = [
        _claim(
            LABEL_NOISE_CLAIMS[0],
            concentration,
            level.value,
            f"||Pi_I y||/||y|| at the end: {reading}{note}",
            {"rise": asdict(rise), "final": asdict(level), "threshold": CONCENTRATED, "left_out": left_out},
        ),
        _claim(
            LABEL_NOISE_CLAIMS[1],
            decide(trend, +1),
            float(nuisance.iloc[-1]),
            f"Spearman(corruption, final ||Pi_N y||/||y||) = {trend}; seed means by corruption "
            + ", ".join(f"{c:.0%}: {v:.3f}" for c, v in nuisance.items())
            + note,
            {"spearman": asdict(trend), "final_nuisance": {float(c): float(v) for c, v in nuisance.items()}, "left_out": left_out},
        ),
    ]
    if 0.5 in set(final["corruption"]):
        pairs = final[final["corruption"].isin([clean_level, 0.5])].pivot(index="seed", columns="corruption", values="info_y").dropna().reset_index()
        drop = seed_bootstrap(pairs, lambda r: float((r[clean_level] - r[0.5]).mean()), context.seed)
        records.append(
            _claim(
                "with 50% corruption less energy reaches the information space than with clean labels (paper: 0.90 vs 0.99)",
                decide(drop, +1),
                float(pairs[0.5].mean()) if len(pairs) else None,
                f"final ||Pi_I y||/||y||, clean minus 50% corruption: {drop}{note}",
                {"difference": asdict(drop)},
            )
        )
    return records


CHECKS = (
    Check("jacobian.split", ("oymak2019.info_nuisance",), split_identities, "Pythagoras and the pseudo-inverse bound on trained nets"),
    Check("jacobian.ntk", ("oymak2019.ntk_identity",), ntk_identity, "E[J J^T] = k sigma_V^2 Sigma(X), Monte Carlo vs quadrature"),
    Check("jacobian.label_noise", ("oymak2019.info_nuisance",), label_noise, "the paper's label-noise claims"),
)
