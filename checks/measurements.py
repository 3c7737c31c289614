"""Measurements of the trained runs shared by several checks and by the report.

Each is computed once per :class:`~checks.context.CheckContext` (``context.memo``):

* :func:`chen_points`: the Chen runs as near-critical points of Proposition P1, with the
  gradient census of their final epoch (eps bracket, per-sample and batch gradient norms);
* :func:`chen_table`: one row per Chen run (mu_V, B, seed, stable rank, ranks, MSEs, gap,
  batch-gradient statistics, Gaussian comparator), for the claims and the figures;
* :func:`projections` / :func:`projection_table`: the Oymak nets' label energies on the
  information and nuisance spaces of their Jacobian, at initialisation and after training.

A run whose training diverged (or whose final weights are not finite) cannot be measured:
:func:`training_problem` says why, the measurements leave it out (``chen_table`` keeps its row
with its status and NaN for the weight measures), and the checks report it ``inconclusive``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from checks.context import CheckContext
from numerics.measures.census import GradientCensus, gradient_census
from numerics.training.experiments import RunResult
from numerics.training.loop import DIVERGENCE_WEIGHT_LIMIT
from numerics.measures.ntk import JacobianSpectrum, oymak_gram
from numerics.measures.spectral import numerical_rank, singular_values, stable_rank

#: the information space: the top INFORMATION_RANK left singular vectors (the paper: top 50)
INFORMATION_RANK = 50
#: the Jacobian is taken on this many training samples (n K rows)
JACOBIAN_SAMPLES = {"quick": 100, "paper": 400}
#: random B-subsets added to the final epoch's batches for the lower end of the eps bracket
EXTRA_BATCHES = {"quick": 200, "paper": 5000}


@dataclass(frozen=True)
class CriticalPoint:
    """A two-layer net and its data, with what Proposition P1 talks about measured."""

    label: str
    a: np.ndarray
    V: np.ndarray
    b: np.ndarray
    X: np.ndarray
    y: np.ndarray
    mu: float
    batch_size: int
    epsilon: float  #: exact when ``epsilon_method`` is enumeration, else the lower end
    epsilon_upper: float
    epsilon_method: str
    h_norms: np.ndarray  #: ||h_j||_F for every sample
    coverage: str
    census: GradientCensus | None = None
    run_key: str = ""  #: results-store key of the trained run it comes from, if any

    @property
    def sigma(self) -> np.ndarray:
        return singular_values(self.V)

    def tail(self, rank: int) -> float:
        """Eckart-Young distance of V to the best rank-``rank`` matrix."""
        return float(np.sqrt(np.sum(self.sigma[rank:] ** 2)))


def training_problem(run: RunResult) -> str | None:
    """Why the final weights of a trained run cannot be measured, or None.

    Training diverged; or the weights break the loop's divergence rule (non-finite, or above
    :data:`~numerics.training.loop.DIVERGENCE_WEIGHT_LIMIT`) in a run an older version recorded
    as finished.
    """
    if run.status != "finished":
        return f"training {run.status} after {run.metadata.get('epochs_run')} epochs"
    largest = max(float(np.max(np.abs(weights), initial=0.0)) for weights in run.weights.values())
    if not largest <= DIVERGENCE_WEIGHT_LIMIT:
        return f"training diverged: a final weight is {largest:.3g}, beyond the divergence limit {DIVERGENCE_WEIGHT_LIMIT:g}"
    return None


def chen_points(context: CheckContext, experiment: str = "chen_california") -> list[CriticalPoint]:
    """The finished runs of a Chen experiment as near-critical points (cached)."""
    return context.memo(("chen_points", experiment), lambda: _chen_points(context, experiment))


def _chen_points(context: CheckContext, experiment: str) -> list[CriticalPoint]:
    """Near-critical points from the trained Chen runs, eps bracketed over the final epoch."""
    points = []
    extra = EXTRA_BATCHES[context.scale]
    for run in context.runs(experiment):
        if training_problem(run) or run.inert_decays:
            continue  # unusable weights, or an inert decay (the census needs the mu_V actually applied)
        split = run.split(context.data_dir)
        a, V, b = (np.asarray(run.weights[k], dtype=np.float64) for k in ("a", "V", "b"))
        B, mu = run.spec.batch_size, float(run.spec.mu_v)
        batches = [np.asarray(batch) for batch in run.final_epoch_batches]
        census = gradient_census(a, V, b, split.x_train, split.y_train, batches, mu_V=mu, batch_size=B, extra_batches=extra, seed=context.seed)
        epsilon = census.epsilon
        exact = epsilon.exact is not None
        points.append(
            CriticalPoint(
                label=f"{experiment}: width {run.spec.width}, mu_V={mu:g}, B={B}, seed {run.spec.seed}",
                a=a,
                V=V,
                b=b,
                X=split.x_train,
                y=split.y_train,
                mu=mu,
                batch_size=B,
                epsilon=float(epsilon.exact if exact else epsilon.lower),
                epsilon_upper=float(epsilon.exact if exact else epsilon.upper),
                epsilon_method="enumeration" if exact else "bracket",
                h_norms=np.asarray(census.per_sample_norms, dtype=float),
                coverage=f"eps bracket from the {epsilon.sampled_batches} batches of the final epoch and {epsilon.extra_batches} random ones",
                census=census,
                run_key=run.key,
            )
        )
    return points


def chen_table(context: CheckContext, experiment: str = "chen_california") -> pd.DataFrame:
    """One row per run of a Chen experiment (cached): what the claims and figures need."""
    return context.memo(("chen_table", experiment), lambda: _chen_table(context, experiment))


def main_batch_size(table: pd.DataFrame) -> int:
    """The batch size of a Chen table's mu_V sweep: the one with the most mu_V values."""
    return int(table.groupby("batch_size")["mu_v"].nunique().idxmax())


def _chen_table(context: CheckContext, experiment: str) -> pd.DataFrame:
    rows = []
    points = {point.run_key: point for point in chen_points(context, experiment)}
    for run in context.runs(experiment):
        V = np.asarray(run.weights["V"], dtype=np.float64)
        history = run.history
        measurable = training_problem(run) is None
        row = {
            "experiment": experiment,
            "mu_v": float(run.spec.mu_v),
            "batch_size": run.spec.batch_size,
            "seed": run.spec.seed,
            "width": run.spec.width,
            "status": run.status if measurable else "diverged",
            "epochs": run.spec.epochs,
            "steps": run.spec.epochs * (run.spec.data.n_train // run.spec.batch_size),
            "decay_inert": bool(run.inert_decays),
            "epoch_loss": np.asarray(history["epoch_loss"], dtype=float),
            "stable_rank": float(stable_rank(V)) if measurable else np.nan,
            "numerical_rank": numerical_rank(V).rank if measurable else np.nan,
            "sigma": singular_values(V) if measurable else np.full(min(V.shape), np.nan),
            "train_mse": float(history["train_mse"][-1]),
            "test_mse": float(history["test_mse"][-1]),
        }
        row["gap"] = row["test_mse"] - row["train_mse"]
        if "train_accuracy" in history:
            row["train_accuracy"] = float(history["train_accuracy"][-1])
            row["test_accuracy"] = float(history["test_accuracy"][-1])
        point = points.get(run.key)
        if point is not None and point.census is not None:
            norms = np.asarray(point.census.batch_norms, dtype=float)
            row.update(
                batch_norms=norms,
                batch_norm_max=float(norms.max()),
                batch_norm_median=float(np.median(norms)),
                comparator=float(point.census.comparator.root_mean_square),
                epsilon_lower=point.epsilon,
                epsilon_upper=point.epsilon_upper,
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels.astype(int)]


def _outputs(W: np.ndarray, V: np.ndarray, X: np.ndarray, activation: str) -> np.ndarray:
    pre = torch.as_tensor(X @ W.T)
    hidden = torch.nn.functional.softplus(pre) if activation == "softplus" else torch.relu(pre)
    return hidden.numpy() @ V.T


def _cutoff(singular_values: np.ndarray) -> float:
    """alpha between the INFORMATION_RANK-th and the next singular value (strict > convention)."""
    rank = min(INFORMATION_RANK, singular_values.size - 1)
    return float((singular_values[rank - 1] + singular_values[rank]) / 2)


@dataclass(frozen=True)
class Projection:
    """Label energies of one net's Jacobian at one time (``stage``: init / final)."""

    corruption: float
    seed: int
    stage: str
    information: float  #: ||Pi_I y|| / ||y||
    nuisance: float  #: ||Pi_N y|| / ||y||
    residual_information: float  #: ||Pi_I r|| / ||r||, r = f(W) - y
    residual_nuisance: float
    singular_values: np.ndarray
    split: object  #: the InformationSplit of y at the rank cutoff


def projections(context: CheckContext) -> list[Projection]:
    """Label energies at initialisation and after training for every corruption level (cached);
    runs with a :func:`training_problem` are left out (see :func:`unmeasured_oymak_runs`)."""
    return context.memo(("projections",), lambda: _projections(context))


def unmeasured_oymak_runs(context: CheckContext) -> list[tuple[RunResult, str]]:
    """The Oymak runs :func:`projections` leaves out, with the reason."""
    return [(run, problem) for run in context.runs("oymak") if (problem := training_problem(run))]


def _projections(context: CheckContext) -> list[Projection]:
    samples = JACOBIAN_SAMPLES[context.scale]
    result = []
    for run in context.runs("oymak"):
        if training_problem(run):
            continue
        split = run.split(context.data_dir)
        X = split.x_train[:samples]
        classes = run.weights["V"].shape[0]
        y = _one_hot(split.y_train[:samples], classes)
        for stage, weights in (("init", run.initial_weights), ("final", run.weights)):
            W, V = (np.asarray(weights[k], dtype=np.float64) for k in ("W", "V"))
            spectrum = JacobianSpectrum.of(oymak_gram(W, V, X, run.spec.activation))
            alpha = _cutoff(spectrum.singular_values.numpy())
            of_labels = spectrum.split(y, alpha)
            of_residual = spectrum.split(_outputs(W, V, X, run.spec.activation) - y, alpha)
            result.append(
                Projection(
                    corruption=float(run.spec.data.label_noise),
                    seed=int(run.spec.seed),
                    stage=stage,
                    information=of_labels.norm_information / of_labels.norm_y,
                    nuisance=of_labels.norm_nuisance / of_labels.norm_y,
                    residual_information=of_residual.norm_information / of_residual.norm_y,
                    residual_nuisance=of_residual.norm_nuisance / of_residual.norm_y,
                    singular_values=of_labels.singular_values,
                    split=of_labels,
                )
            )
    return result


def projection_table(context: CheckContext) -> pd.DataFrame:
    """The Tables 1-2 analogue: one row per (corruption, seed, stage)."""
    columns = ["corruption", "seed", "stage", "info_y", "nuisance_y", "info_r", "nuisance_r"]
    return pd.DataFrame(
        [
            {
                "corruption": p.corruption,
                "seed": p.seed,
                "stage": p.stage,
                "info_y": p.information,
                "nuisance_y": p.nuisance,
                "info_r": p.residual_information,
                "nuisance_r": p.residual_nuisance,
            }
            for p in projections(context)
        ],
        columns=columns,
    )


