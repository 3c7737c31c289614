"""The report's figures, drawn from the checks layer's measurements.

Each function takes the :class:`~checks.context.CheckContext` of the run (whose cached
measurements the checks already computed) and a directory, and returns the
:class:`~reports.model.Figure` records it wrote; an experiment missing from the preset gives
no figure. The drawing itself is :mod:`reports.figures`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from checks.context import CheckContext
from checks.generalization import generalization_table
from checks.measurements import chen_table, main_batch_size, projection_table, projections
from numerics.evaluation import evaluate_float
from reports import figures
from reports.model import Figure


def _sweep_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The mu_V sweep (:func:`main_batch_size`), finished runs only."""
    return table[(table["batch_size"] == main_batch_size(table)) & (table["status"] == "finished")]


def _seed_band(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    grouped = rows.groupby("mu_v")[column]
    return pd.DataFrame({"mu_v": grouped.mean().index, column: grouped.mean().values, "low": grouped.min().values, "high": grouped.max().values})


def chen_figures(context: CheckContext, directory: Path, experiment: str) -> list[Figure]:
    """Stable rank, singular values, MSE and gap against mu_V, training curves, gradient
    histograms with the Gaussian comparator, and the batch-size ablation (Chen et al. Figs. 1-3, 8-9)."""
    if not context.has_experiment(experiment):
        return []
    table = chen_table(context, experiment)
    sweep = _sweep_rows(table)
    if sweep.empty:  # every run of the sweep diverged: nothing to draw
        return []
    label = experiment.replace("chen_", "").replace("california", "California Housing").replace("mnist", "MNIST").replace("_", " ")
    width = int(sweep["width"].iloc[0])
    batch = int(sweep["batch_size"].iloc[0])
    made = [
        figures.line_plot(
            _seed_band(sweep, "stable_rank"), "mu_v", "stable_rank", directory / f"{experiment}_stable_rank.pdf", lower="low", upper="high", logx=True,
            xlabel=r"weight decay $\mu_V$", ylabel=r"stable rank $\|V\|_F^2/\|V\|_2^2$",
            caption=f"{label}: stable rank of V against the weight decay mu_V (width {width}, B = {batch}; mean over seeds, band: min to max).",
        )
    ]
    smallest, largest = sweep.loc[sweep["mu_v"].idxmin()], sweep.loc[sweep["mu_v"].idxmax()]
    made.append(
        figures.spectra(
            {f"mu_V = {smallest.mu_v:g}": smallest.sigma, f"mu_V = {largest.mu_v:g}": largest.sigma}, directory / f"{experiment}_singular_values.pdf",
            caption=f"{label}: singular values of V for the smallest and the largest weight decay.",
        )
    )
    mse = sweep.groupby("mu_v")[["train_mse", "test_mse", "gap"]].mean().reset_index().melt("mu_v", var_name="quantity", value_name="value")
    made.append(
        figures.line_plot(
            mse, "mu_v", "value", directory / f"{experiment}_mse.pdf", hue="quantity", logx=True, xlabel=r"weight decay $\mu_V$", ylabel="MSE",
            caption=f"{label}: training MSE, test MSE and the generalization gap (test - train) against mu_V (mean over seeds).",
        )
    )
    curves = []
    for run in context.runs(experiment):
        if run.spec.batch_size != batch or run.spec.seed != sweep["seed"].min():
            continue
        history = run.history
        curves.append(pd.DataFrame({"epoch": history["eval_epoch"], "train": history["train_mse"], "gap": history["test_mse"] - history["train_mse"], "mu_V": f"{float(run.spec.mu_v):g}"}))
    made.append(
        figures.training_curves(
            pd.concat(curves), ["train", "gap"], directory / f"{experiment}_training.pdf", hue="mu_V", ylabel="MSE",
            caption=f"{label}: training MSE (solid) and generalization gap (dashed) during training, one colour per mu_V.",
        )
    )
    if "batch_norms" in sweep and sweep["batch_norms"].notna().all():
        chosen = sweep.drop_duplicates("mu_v").iloc[[0, len(sweep.drop_duplicates("mu_v")) // 2, -1]]
        comparator = float(sweep["comparator"].iloc[0])
        made.append(
            figures.histograms(
                {f"mu_V = {r.mu_v:g}": r.batch_norms for r in chosen.itertuples()}, directory / f"{experiment}_batch_gradients.pdf",
                reference_lines={f"Gaussian comparator ({comparator:.3g})": comparator, "2 (paper: most below)": 2.0}, logx=True,
                xlabel=r"$\|\nabla_V L_S\|_F$ over the batches of the final epoch",
                caption=f"{label}: Frobenius norms of every batch gradient of the final epoch, against the norm of a Gaussian matrix of V's size with variance 0.01 (Chen et al. Fig. 3).",
            )
        )
    strong = float(table.groupby("mu_v")["batch_size"].nunique().idxmax())
    ablation = table[(table["mu_v"] == strong) & (table["status"] == "finished")]
    if ablation["batch_size"].nunique() >= 3:
        rows = ablation.groupby("batch_size")[["stable_rank", "gap"]].mean().reset_index().melt("batch_size", var_name="quantity", value_name="value")
        made.append(
            figures.line_plot(
                rows, "batch_size", "value", directory / f"{experiment}_batch_size.pdf", hue="quantity", logx=True, xlabel="batch size B", ylabel="value",
                caption=f"{label}: stable rank and generalization gap against the batch size at mu_V = {strong:g} (Appendix A.2 ablation).",
            )
        )
    return made


DEEP_FAMILIES = {
    ("bartlett2017.margin_bound_explicit", "risk"): "Bartlett et al. 2017 (explicit) [R+]",
    ("neyshabur2018.thm1", "fixed_beta"): "Neyshabur et al. 2018 (fixed beta) [R+]",
}


def _deep_families(table: pd.DataFrame) -> pd.DataFrame:
    """Risk-bound rows of the deep nets that have a bound, with a family label (the cover once per p)."""
    deep = table[table["network"].str.startswith("mlp") & table["bound"].notna()].copy()
    labels = []
    for row in deep.itertuples():
        if row.statement == "derived.schatten_network_cover":
            labels.append(f"Schatten-p cover, p = {row.p:g} [P]")
        else:
            labels.append(DEEP_FAMILIES.get((row.statement, row.form)))
    deep["family"] = labels
    deep["depth"] = deep["network"].str.extract(r"L=(\d+)")[0].astype(float)
    return deep[deep["family"].notna()]


def bound_figures(context: CheckContext, directory: Path) -> list[Figure]:
    """Bound families side by side (log scale) against N, depth L, p and the rank r."""
    made = []
    table = generalization_table(context)
    deep = _deep_families(table) if not table.empty else pd.DataFrame()
    if not deep.empty:
        deepest = deep[deep["depth"] == deep["depth"].max()]
        wide = deepest.pivot_table(index="N", columns="family", values="bound", aggfunc="first").reset_index()
        wide["test error"] = deepest.groupby("N")["measured"].first().reindex(wide["N"]).values
        made.append(
            figures.bound_families(
                wide, "N", [c for c in wide.columns if c not in ("N", "test error")], directory / "bounds_against_N.pdf", measured="test error",
                trivial=1.0, trivial_label="risk 1 (vacuous above)", logx=True, xlabel="training set size N", ylabel="bound on the test error",
                caption=f"Risk bounds against N on the same deep nets (depth {int(deepest['depth'].iloc[0])}), with the measured test error; everything above the dashed line is vacuous.",
            )
        )
        largest = deep[deep["N"] == deep["N"].max()]
        if largest["depth"].nunique() > 1:
            by_depth = largest.pivot_table(index="depth", columns="family", values="bound", aggfunc="first").reset_index()
            made.append(
                figures.bound_families(
                    by_depth, "depth", [c for c in by_depth.columns if c != "depth"], directory / "bounds_against_depth.pdf", trivial=1.0,
                    trivial_label="risk 1", xlabel="depth L", ylabel="bound on the test error",
                    caption=f"Risk bounds against the depth at N = {int(largest['N'].iloc[0])}.",
                )
            )
        cover = largest[largest["statement"] == "derived.schatten_network_cover"]
        if cover["p"].nunique() > 1:
            by_p = cover.pivot_table(index="p", columns="network", values="bound", aggfunc="first").reset_index()
            made.append(
                figures.bound_families(
                    by_p, "p", [c for c in by_p.columns if c != "p"], directory / "bounds_against_p.pdf", trivial=1.0, trivial_label="risk 1",
                    xlabel="Schatten exponent p", ylabel="risk bound",
                    caption=f"The proved Schatten-p network bound (derived.schatten_network_cover) against p at N = {int(largest['N'].iloc[0])}, one line per network.",
                )
            )
    ranks = np.arange(1, 9)
    sizes = {"m": 8192, "n": 8, "N": 1800, "L": 5.0, "delta": 0.05}
    chen = pd.DataFrame(
        {
            "r": ranks,
            "Thm 3.11, rank r (explicit)": evaluate_float("chen2024.thm3_11", {**sizes, "r": ranks}, form="explicit"),
            "Cor 3.9, all of F_m,n (explicit)": np.full(ranks.shape, float(evaluate_float("chen2024.cor3_9", sizes, form="explicit"))),
        }
    )
    made.append(
        figures.bound_families(
            chen, "r", [c for c in chen.columns if c != "r"], directory / "bounds_against_rank.pdf", trivial=100.0, trivial_label="loss range (2L)^2",
            xlabel="rank r of V", ylabel="deviation bound",
            caption="Chen et al.'s explicit bounds at the California sizes (m = 8192, n = 8, N = 1800, L = 5, delta = 0.05) against the rank r: restricting to rank r gains a factor of about sqrt(mn / (r (m + n))), and both stay far above the loss range.",
        )
    )
    return made


def oymak_figures(context: CheckContext, directory: Path) -> list[Figure]:
    """Jacobian spectra and label projections for clean and corrupted labels (Oymak et al.);
    none when no run could be measured (all diverged)."""
    if not context.has_experiment("oymak") or not projections(context):
        return []
    first_seed = min(p.seed for p in projections(context))
    spectra = {
        f"{p.stage}, {p.corruption:.0%} corrupted": p.singular_values for p in projections(context) if p.corruption in (0.0, 0.5) and p.seed == first_seed
    }
    table = projection_table(context).groupby(["corruption", "stage"], as_index=False)[["info_y", "nuisance_y"]].mean()
    seeds = projection_table(context)["seed"].nunique()
    long = table.melt(["corruption", "stage"], ["info_y", "nuisance_y"], var_name="space", value_name="energy")
    long["group"] = (long["corruption"] * 100).round().astype(int).astype(str) + "% " + long["stage"]
    long["space"] = long["space"].map({"info_y": "||Pi_I y|| / ||y||", "nuisance_y": "||Pi_N y|| / ||y||"})
    return [
        figures.spectra(spectra, directory / "oymak_spectra.pdf", xlabel="index s", ylabel=r"$\lambda_s$ of $\mathcal{J}$",
                        caption=f"Singular values of the Jacobian at initialisation and after training, clean and 50% corrupted labels, seed {first_seed} (Oymak et al. Fig. 4 analogue)."),
        figures.grouped_bars(long, "group", "energy", "space", directory / "oymak_projections.pdf", ylabel="fraction of ||y||", ylim=(0.0, 1.05),
                             caption=f"Label energy on the information space (top singular vectors) and the nuisance space, by corruption and stage, means over {seeds} seeds (Oymak et al. Tables 1-2 analogue)."),
    ]
