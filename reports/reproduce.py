"""Publish the reproductions of the seeds' experiments from the results store (issue 6).

For each experiment, a folder ``OUT/<experiment>/`` with ``summary.md`` (setup, what the paper
says against what we measured, the verdicts, the figures, what differs from the paper), the
small result tables as CSV and JSON, and the figures (PDF, with PNG previews when poppler's
``pdftoppm`` is available). Everything is computed by the checks layer from the trained runs of
the preset (trained or reused through the results store); each folder is written aside and
moved into place, so a failed run leaves the previous version intact.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from checks import experiments as chen_claims
from checks import compression as compression_check
from checks import jacobian, lowrank
from checks.context import CheckContext
from checks.generalization import check_chen, check_deep, deep_records, side_by_side
from checks.measurements import chen_table, main_batch_size, projection_table
from checks.verdict import Verdict
from numerics.measures.layers import layer_norms
from numerics.measures.spectral import numerical_rank, stable_rank
from reports.assemble import CLAIM_VERDICTS, PAPER_SAYS, claim_text
from reports.experiment_figures import bound_figures, chen_figures, oymak_figures
from reports.model import Figure
from reports.outputs import clean_after_kill, make_staging, move_into_place

SCHATTEN_TABLE_P = (0.5, 1.0, 2.0)
REPOSITORY = Path(__file__).resolve().parents[1]
MEASURED_NUMBER = re.compile(r"(?<!Theorem )(?<!Thm )\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+|\d{3,}")  # measured values in a reason, not its small constants


@dataclass
class Reproduction:
    """What one experiment's folder holds."""

    title: str
    setup: list[str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    claims: list[Verdict] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)


#: what changed since the previously published version of the reproductions, and why
TRAINER_CORRECTION = (
    "retrained with training code version 2: every trainer now updates as torch.optim.SGD(weight_decay=mu) does in the "
    "parameters' dtype (decay folded into the gradient). Version 1 multiplied the weights by 1 - lr mu formed in the dtype, "
    "which is exactly 1 in float32 when lr mu < 2^-25 (3e-8): at lr 1e-4, mu_V = 1e-5 and 1e-4 gave bit-identical networks, and at "
    "lr 1e-6 on MNIST mu_V = 1e-5 ... 1e-2 all gave the same stable rank. Runs record each decay against their dtype's unit "
    "roundoff; a decay below it is reported as inert and left out of the claims and the gradient census"
)
SEEDS_CORRECTION = (
    "every experimental claim is judged over three seeds, with its criterion and a 95% seed-bootstrap interval "
    "(checks.over_seeds); 'not supported' only when the interval contradicts the claim on networks trained enough to test it, "
    "'inconclusive' otherwise (the criterion is stated). The previous version decided claims on one seed"
)
PUBLISHED_PRESET = "reports/reproductions/cpu.toml"  #: the preset of the published folders, which carry the corrections
CORRECTIONS = {
    "chen_california": [
        TRAINER_CORRECTION,
        SEEDS_CORRECTION,
        "the previous Table-2-scale runs (width 8192, 5000 epochs, lr 1e-4, float32, where mu_V = 1e-5 and 1e-4 were never applied) "
        "are withdrawn and replaced by width 1024 / 500 epochs / learning rate 1e-3 in float64 with three seeds; Table 2 scale was not "
        "re-run on this CPU (the paper preset holds it, with three seeds, in float64)",
        "the batch-size ablation is run under two protocols: equal epochs (the previous one: larger batches take fewer steps, so "
        "weight decay reaches less) and equal optimiser steps; both halves of the claim (stable rank, generalization gap) are judged",
        "Fig. 3's gradient-norm statement is absolute at width 8192 and is judged only at that width; the previous rescaled "
        "comparator was not derived",
    ],
    "chen_mnist_lr1e-4": [TRAINER_CORRECTION, SEEDS_CORRECTION, "width 128, 400 epochs, three mu_V values, float64"],
    "oymak": [TRAINER_CORRECTION, SEEDS_CORRECTION, "1000 gradient-descent iterations (previously 2000)"],
    "ledent": [TRAINER_CORRECTION + " (at lr 0.05 and weight decay 5e-4 version 1 applied the decay with a rounding error of up to 0.2% per step)"],
    "generalization": [TRAINER_CORRECTION, "generalization_chen in float64 (mu_V = 1e-4 at lr 1e-4 is below float32's resolution)"],
}


def _cost(runs) -> tuple[float, float]:
    """(total wall seconds of the groups that trained the runs, seconds per model-epoch)."""
    groups = {}
    for run in runs:
        group = run.metadata.get("group", {})
        key = tuple(group.get("members", [run.key]))
        groups[key] = (group.get("wall_s", float("nan")), len(key), run.metadata.get("epochs_run", run.spec.epochs))
    total = sum(wall for wall, _, _ in groups.values())
    model_epochs = sum(members * epochs for _, members, epochs in groups.values())
    return total, total / model_epochs if model_epochs else float("nan")


def _shown(origin: str) -> str:
    """A preset's file relative to the repository when it lies inside it (published folders carry no local paths)."""
    try:
        return str(Path(origin).resolve().relative_to(REPOSITORY))
    except ValueError:
        return origin


def _sizes(runs) -> str:
    sizes = sorted({run.spec.data.n_train for run in runs})
    return str(sizes[0]) if len(sizes) == 1 else "N in {" + ", ".join(map(str, sizes)) + "}"


def _setup(context: CheckContext, experiment: str) -> list[str]:
    runs = context.runs(experiment)
    spec = runs[0].spec
    total, per_epoch = _cost(runs)
    data = spec.data
    return [
        f"preset `{context.preset.name}` ({_shown(context.preset.origin)}), experiment `{experiment}`: {len(runs)} runs",
        f"data: {data.name}, {_sizes(runs)} training / {data.n_test} test rows, seed {data.seed}",
        f"training wall time {total / 60:.1f} min on {runs[0].metadata.get('device', 'cpu')} "
        f"(torch {runs[0].metadata.get('torch', '?')}); {per_epoch:.3g} s per model-epoch",
    ]


def _decay_reach(runs, main: int) -> str:
    """How far weight decay could act in each run of the mu_V sweep at batch size ``main``, and how far V moved.

    Weight decay alone multiplies V by ``prod_t (1 - lr_t mu_V)`` over the steps t, so
    ``sum_t lr_t mu_V`` (the schedule's learning rates times the steps per epoch) says whether a
    mu_V had room to shape V at all; ``||V - V_0||_F / ||V_0||_F`` says how far V went.
    """
    rows, inert = {}, set()
    for run in (r for r in runs if r.spec.batch_size == main and r.status == "finished"):
        spec = run.spec
        if any(resolution.parameter == "mu_v" for resolution in run.inert_decays):
            inert.add(spec.mu_v)
        steps = spec.data.n_train // spec.batch_size
        reach = spec.mu_v * steps * sum(spec.lr * spec.lr_decay ** (e // spec.lr_decay_every) for e in range(spec.epochs))
        V, V0 = (np.asarray(w["V"], dtype=np.float64) for w in (run.weights, run.initial_weights))
        rows.setdefault(spec.mu_v, []).append((reach, np.linalg.norm(V - V0) / np.linalg.norm(V0)))
    text = "; ".join(
        f"{mu:g}: " + ("inert in the dtype (lr mu_V below its unit roundoff), not reliably applied" if mu in inert else f"{np.mean([r for r, _ in v]):.3g}")
        + f" / {np.mean([c for _, c in v]):.3g}"
        for mu, v in sorted(rows.items())
    )
    return (
        f"reach of the weight decay, sum over steps of lr_t mu_V (decay alone shrinks V by about exp(-reach)), and the relative "
        f"change of V from its initialisation ||V - V_0||_F / ||V_0||_F, by mu_V (B = {main}): {text}"
    )


LR_READING = "Table 2's first lost header read as the learning rate"


def chen(context: CheckContext, experiment: str, directory: Path, lr_note: str = LR_READING) -> Reproduction:
    runs = context.runs(experiment)
    table = chen_table(context, experiment)
    spec = runs[0].spec
    per_epoch = _cost(runs)[1]
    summary = table.drop(columns=["sigma", "batch_norms"], errors="ignore")
    columns = [c for c in ("mu_v", "batch_size", "seed", "stable_rank", "numerical_rank", "train_mse", "test_mse", "gap", "train_accuracy", "test_accuracy", "batch_norm_median", "batch_norm_max", "comparator", "epsilon_lower", "epsilon_upper") if c in summary]
    singular = pd.DataFrame({f"mu_V={r.mu_v:g} B={r.batch_size} seed={r.seed}": pd.Series(r.sigma) for r in table.itertuples()})
    claims = [r for r in chen_claims.experiment_claims(context, experiment) if r.details is not None]
    points = lowrank.chen_points(context, experiment)
    verdicts = [v for point in points for v in lowrank.point_verdicts(point, "lowrank.trained")]
    differences = [
        f"width {spec.width}, {spec.epochs} epochs, learning rate {spec.lr:g} ({lr_note}), "
        "mu_V on a decade grid and batch size 16 (the values were lost)"
        + ("; California features standardised with training statistics" if spec.data.name == "california" else ""),
        _decay_reach(runs, main_batch_size(table)),
    ]
    if spec.data.name == "mnist" and spec.width != 32768:
        differences.append(
            f"width {spec.width} instead of the paper's 32768: a CPU reproduction. Measured cost here: {per_epoch:.3g} s per model-epoch at "
            f"width {spec.width}; one model-epoch at width 32768 measured 91 s on this CPU, so the paper's sweep (2000 epochs, 6 mu_V values) "
            f"needs about {2000 * 6 * 91 / 3600:.0f} CPU-hours, or a GPU (the same code runs with --device cuda)"
        )
    return Reproduction(
        title=f"Chen, Yi, Yang (2024): {'California Housing' if 'california' in experiment else 'MNIST'} at {'Table 2 scale' if spec.width in (8192, 32768) else f'width {spec.width}'}, learning rate {spec.lr:g}",
        setup=_setup(context, experiment),
        tables={"runs": summary[columns], "singular_values": singular},
        claims=claims,
        verdicts=verdicts,
        figures=chen_figures(context, directory, experiment),
        differences=differences,
    )


def _oymak_regime(table: pd.DataFrame) -> str:
    """What moved during training on clean labels: the residual's projection, and the labels' (the Jacobian's top space)."""
    if table.empty:
        return "no Oymak net could be measured: every run diverged (see the verdicts)"
    clean = table[table["corruption"] == table["corruption"].min()].set_index("stage")
    return (
        f"clean labels: the residual's energy on the information space goes {clean.at['init', 'info_r']:.3f} -> {clean.at['final', 'info_r']:.3f} "
        "(gradient descent fits the information-space part first, as the theory says), while the labels' own projection goes "
        f"{clean.at['init', 'info_y']:.3f} -> {clean.at['final', 'info_y']:.3f}: the Jacobian's top space barely moved in this "
        "network and step count, unlike the paper's ResNet20"
    )


def oymak(context: CheckContext, directory: Path) -> Reproduction:
    table = projection_table(context)
    paper = pd.DataFrame(
        [
            {"labels": "clean", "stage": "init", "info_y": 0.38081, "nuisance_y": 0.92465, "info_r": 0.37114, "nuisance_r": 0.92858},
            {"labels": "clean", "stage": "final", "info_y": 0.9869, "nuisance_y": 0.16131, "info_r": 0.98669, "nuisance_r": 0.1626},
            {"labels": "50% corrupted", "stage": "init", "info_y": 0.32762, "nuisance_y": 0.94481, "info_r": 0.32152, "nuisance_r": 0.9469},
            {"labels": "50% corrupted", "stage": "final", "info_y": 0.8956, "nuisance_y": 0.44487, "info_r": 0.89597, "nuisance_r": 0.44412},
        ]
    )
    records = [r for check in jacobian.CHECKS for r in check.run(context)]
    spec = context.runs("oymak")[0].spec
    return Reproduction(
        title="Oymak, Fabian, Li, Soltanolkotabi (2019): label energy on the information and nuisance spaces",
        setup=_setup(context, "oymak"),
        tables={"projections": table, "paper_tables_1_2_cifar10": paper},
        claims=[r for r in records if r.kind == "claim"],
        verdicts=[r for r in records if r.kind == "theorem"],
        figures=oymak_figures(context, directory),
        differences=[
            f"MNIST (n = {spec.data.n_train}, unit-norm inputs) and a two-layer softplus net V phi(W x) with {spec.hidden} hidden units and "
            f"fixed V, trained by full-batch gradient descent for {spec.epochs} steps; the paper's tables are CIFAR-10 with ResNet20 "
            "(Appendix C's MNIST runs were not available [N])",
            "information space: the top 50 singular vectors of the Jacobian (as the paper's top 50), computed on the first training "
            "samples (stated in the projections table's provenance); r_0 = f(W_0) - y for the residual columns",
            _oymak_regime(table),
        ],
    )


def _layer_table(context: CheckContext, experiment: str) -> pd.DataFrame:
    rows = []
    for run in context.runs(experiment):
        spec = run.spec
        weights = [np.asarray(run.weights[f"A{i}"], dtype=np.float64) for i in range(1, spec.depth + 1)]
        initial = [np.asarray(run.initial_weights[f"A{i}"], dtype=np.float64) for i in range(1, spec.depth + 1)]
        norms = layer_norms(weights, initial, p=SCHATTEN_TABLE_P)
        for index, (A, layer) in enumerate(zip(weights, norms), 1):
            row = {"depth": spec.depth, "width": spec.width, "weight_decay": spec.weight_decay, "layer": index, "shape": f"{A.shape[0]}x{A.shape[1]}",
                   "stable_rank": float(stable_rank(A)), "numerical_rank": numerical_rank(A).rank}
            row.update({f"S_{p:g}(A)": layer.schatten[p] for p in SCHATTEN_TABLE_P})
            row.update({f"S_{p:g}(A-A0)": layer.schatten_distance[p] for p in SCHATTEN_TABLE_P})
            rows.append(row)
    return pd.DataFrame(rows)


ACROSS_P = {
    "derived.schatten_network_cover": "Schatten-p cover [P]",
    "ledent2025.thm3_6_repro": "Ledent Thm 3.6 dominant term [T]",
    "ledent2025.thm3_7_repro": "Ledent Thm 3.7 dominant term [T]",
}
CONSTANT_IN_P = {"bartlett2017.margin_bound_explicit": "Bartlett et al. 2017 [R+]", "neyshabur2018.thm1": "Neyshabur et al. 2018 [R+]"}


def _bounds_across_p(table: pd.DataFrame, directory: Path) -> list[Figure]:
    """The bounds against p on the deepest, widest network trained with weight decay."""
    from reports import figures

    deep = table[table["network"].str.contains("wd=0.0005")] if table["network"].str.contains("wd=0.0005").any() else table
    network = max(deep["network"].unique(), key=lambda name: (int(name.split("L=")[1].split()[0]), int(name.split("w=")[1].split()[0])))
    rows = table[table["network"] == network]
    by_p = rows[rows["statement"].isin(ACROSS_P)].pivot_table(index="p", columns="statement", values="bound", aggfunc="first").rename(columns=ACROSS_P)
    for statement, label in CONSTANT_IN_P.items():
        value = rows.loc[rows["statement"] == statement, "bound"]
        if not value.empty:
            by_p[label] = float(value.iloc[0])
    by_p["test error"] = float(rows.loc[rows["statement"] == "bartlett2017.margin_bound_explicit", "measured"].iloc[0])
    frame = by_p.reset_index()
    return [
        figures.bound_families(
            frame, "p", [c for c in frame.columns if c not in ("p", "test error")], directory / "ledent_bounds_across_p.pdf", measured="test error",
            trivial=1.0, trivial_label="risk 1", xlabel="Schatten exponent p", ylabel="bound",
            caption=f"Bounds against p on {network}: the proved Schatten-p cover and the third party's dominant terms of Ledent et al. "
            "(constants and logs hidden: only their shape in p is meaningful), next to the p-independent norm-based bounds and the test error.",
        )
    ]


def _rank_vs_norm_finding(winner: pd.DataFrame, rank_based: str, norm_based: str) -> str:
    """Where the rank-based bound wins, by how much, and whether either says anything (a risk bound above 1 does not)."""
    factor = winner[norm_based] / winner[rank_based]
    vacuous = int(((winner[rank_based] >= 1) & (winner[norm_based] >= 1)).sum())
    return (
        f"the {rank_based} bound is below the {norm_based} bound on {int(winner['rank-based wins'].sum())} of {len(winner)} networks "
        f"(norm-based / rank-based from {factor.min():.3g} to {factor.max():.3g}); both are above 1, so vacuous as risk bounds, on "
        f"{vacuous} of {len(winner)} networks"
    )


def ledent(context: CheckContext, directory: Path) -> Reproduction:
    records = [r for run in context.runs("ledent") for r in deep_records(run, context.data_dir)]
    table = side_by_side(records)
    explicit = table[table["statement"].isin(["bartlett2017.margin_bound_explicit", "neyshabur2018.thm1", "derived.schatten_network_cover"])]
    rank_based, norm_based = "rank-based (Schatten-p cover, best p)", "norm-based (best of B17, Ney18)"
    best = explicit.assign(family=np.where(explicit["statement"] == "derived.schatten_network_cover", rank_based, norm_based))
    winner = best.groupby(["network", "family"])["bound"].min().unstack()
    winner["rank-based wins"] = winner[rank_based] < winner[norm_based] if {rank_based, norm_based} <= set(winner.columns) else False
    return Reproduction(
        title="Ledent, Alves, Lei (2025): Schatten-p quasi-norms of deep ReLU nets and bounds across p",
        setup=_setup(context, "ledent"),
        tables={"layers": _layer_table(context, "ledent"), "bounds": table, "rank_vs_norm": winner.reset_index()},
        verdicts=records,
        figures=_bounds_across_p(table, directory),
        findings=[_rank_vs_norm_finding(winner, rank_based, norm_based)],
        differences=[
            "the paper's theorems could not be obtained [N]: the bounds are a third party's dominant terms (Theorems 3.6/3.7 [T], "
            "constants and logs hidden, so they are only listed) and the proved substitute derived.schatten_network_cover [P], "
            "compared with Bartlett et al. 2017 (explicit [R+]) and Neyshabur et al. 2018 (fixed beta [R+]) on the same networks",
            "MNIST multilayer perceptrons, bias-free, cross-entropy; the paper's CIFAR-10 CNN protocol (Fig. D.3 per the reproduction "
            "script) is not available",
        ],
    )


def _tightest(records: Sequence[Verdict]) -> str:
    """How many records say something (hold non-vacuously), and each explicit family's smallest margin ratio."""
    counts = pd.Series([r.verdict for r in records]).value_counts()
    decided = [{"family": f"{r.statement} [{r.form}]", "ratio": r.ratio} for r in records if r.verdict in ("holds", "vacuous", "violated")]
    ratios = pd.DataFrame(decided, columns=["family", "ratio"])  # no rows when every run diverged
    best = ratios.groupby("family")["ratio"].max().sort_values(ascending=False)
    return (
        f"{counts.get('holds', 0)} of {len(records)} records hold non-vacuously, {counts.get('vacuous', 0)} hold only vacuously, "
        f"{counts.get('violated', 0)} are violated and {counts.get('inconclusive', 0)} are inconclusive (rates with an unspecified constant, "
        "order statements, Thm 3.11 outside its rank-2 hypothesis); the largest measured / bound by family: "
        + ", ".join(f"{family} {ratio:.3g}" for family, ratio in best.items())
    )


def generalization(context: CheckContext, directory: Path) -> Reproduction:
    records = check_chen(context) + check_deep(context)
    return Reproduction(
        title="Generalization bounds side by side on the same networks, against the training set size",
        setup=_setup(context, "generalization_chen") + _setup(context, "generalization_deep"),
        tables={"bounds": side_by_side(records)},
        verdicts=records,
        figures=bound_figures(context, directory),
        findings=[_tightest(records)],
        differences=[
            "not an experiment of the seeds: issue 4's check 5, run at CPU sizes. Chen et al.'s Cor 3.9 and Thm 3.11 on two-layer "
            "California nets (|test - train MSE|), and Bartlett et al. 2017, Neyshabur et al. 2018, the proved Schatten-p cover and "
            "the third party's Ledent dominant terms on deep MNIST MLPs (test error), each at several N",
        ],
    )


def _verdict_overview(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """One row per statement, form and check: verdict counts and the range of measured / bound."""
    frame = pd.DataFrame(
        {
            "statement": f"{r.statement} [{r.form}]" if r.form else r.statement,
            "check": MEASURED_NUMBER.sub("…", r.reason.split(":")[0]),
            "verdict": r.verdict,
            "ratio": r.ratio,
        }
        for r in verdicts
    )
    counts = pd.crosstab([frame["statement"], frame["check"]], frame["verdict"])
    ratios = frame.groupby(["statement", "check"])["ratio"].agg(["min", "max"]).rename(columns={"min": "ratio min", "max": "ratio max"})
    return counts.join(ratios).reset_index().rename(columns={"check": "what is compared"})


def _markdown(reproduction: Reproduction, figure_names: Sequence[str], previews: set[str]) -> str:
    lines = [f"# {reproduction.title}", "", "## Setup", ""] + [f"- {line}" for line in reproduction.setup]
    if reproduction.corrections:
        lines += ["", "## Corrections", "", "What changed since the previous published version, and why:", ""]
        lines += [f"- {line}" for line in reproduction.corrections]
    if reproduction.findings:
        lines += ["", "## Findings", ""] + [f"- {line}" for line in reproduction.findings]
    if reproduction.claims:
        lines += ["", "## The paper says / we measured", ""]
        rows = []
        for record in reproduction.claims:
            claim, measured = claim_text(record)
            says = PAPER_SAYS.get(record.check, ("", ""))[1]
            rows.append({"claim": claim, "paper says": says, "we measured": measured, "verdict": CLAIM_VERDICTS[record.verdict]})
        lines.append(pd.DataFrame(rows).to_markdown(index=False))
    if reproduction.verdicts:
        counts = pd.Series([r.verdict for r in reproduction.verdicts]).value_counts()
        lines += ["", "## Statements checked on these networks", "", ", ".join(f"{n} {v}" for v, n in counts.items()), ""]
        lines.append(_verdict_overview(reproduction.verdicts).to_markdown(index=False))
        lines.append("\nEvery network and form, with parameters, enclosures and reasons: [`verdicts.csv`](verdicts.csv).")
    lines += ["", "## Tables", ""] + [f"- [`{name}.csv`]({name}.csv) / [`{name}.json`]({name}.json)" for name in reproduction.tables]
    if figure_names:
        lines += ["", "## Figures", ""]
        for figure in reproduction.figures:
            if figure.name in previews:
                lines.append(f"![{figure.caption}]({figure.name}.png)")
            lines.append(f"[{figure.name}.pdf]({figure.name}.pdf): {figure.caption}\n")
    lines += ["", "## What differs from the paper", ""] + [f"- {line}" for line in reproduction.differences]
    return "\n".join(lines) + "\n"


def _write(reproduction: Reproduction, folder: Path) -> None:
    for name, table in reproduction.tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
        table.to_json(folder / f"{name}.json", orient="records", indent=1, default_handler=str)
    if reproduction.verdicts:
        pd.DataFrame([r.to_json() for r in reproduction.verdicts]).to_csv(folder / "verdicts.csv", index=False)
    (folder / "claims.json").write_text(json.dumps([r.to_json() for r in reproduction.claims], indent=1, default=str))
    previews = set()
    for figure in reproduction.figures:
        shutil.copyfile(figure.path, folder / f"{figure.name}.pdf")
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-png", "-r", "90", "-singlefile", str(folder / f"{figure.name}.pdf"), str(folder / figure.name)], check=True)
            previews.add(figure.name)
    (folder / "summary.md").write_text(_markdown(reproduction, [f.name for f in reproduction.figures], previews))


def compression(context: CheckContext, directory: Path) -> Reproduction:
    from reports.compression import compression_reproduction  # imports this module

    return compression_reproduction(context)


# reproduction -> (the experiments it reads, its builder)
BUILDERS: dict[str, tuple[tuple[str, ...], Callable[[CheckContext, Path], Reproduction]]] = {
    "chen_california": (("chen_california",), lambda context, directory: chen(context, "chen_california", directory)),
    "chen_mnist": (("chen_mnist",), lambda context, directory: chen(context, "chen_mnist", directory)),
    "chen_mnist_lr1e-4": (
        ("chen_mnist_lr1e-4",),
        lambda context, directory: chen(
            context, "chen_mnist_lr1e-4", directory,
            lr_note="a deviation from our reading 1e-6 of the lost header: at width 128 the 1e-6 runs (chen_mnist) leave V within 8% of "
            "its initialisation below mu_V = 0.1, so this sweep gives the weight decay room to act",
        ),
    ),
    "oymak": (("oymak",), oymak),
    "ledent": (("ledent",), ledent),
    "generalization": (("generalization_chen", "generalization_deep"), generalization),
    "compression": ((), compression),
}
#: reproductions built without --only only when the preset warrants them (the compression
#: reproduction of a test preset would be the small ``ci`` network, nine times over)
WANTED: dict[str, Callable[[CheckContext], bool]] = {
    "compression": lambda context: compression_check.compression_preset(context) != compression_check.SMALL_PRESET,
}


def reproduce(context: CheckContext, out_dir: Path, only: Sequence[str] = ()) -> list[Path]:
    """Write ``out_dir/<experiment>/`` for every experiment of the preset (or those in ``only``).

    Each folder is built in a staging directory next to it and moved into place when complete
    (:mod:`reports.outputs`), so a failure or a kill never leaves a half folder.
    """
    unknown = sorted(set(only) - set(BUILDERS))
    if unknown:
        raise KeyError(f"no reproduction named {', '.join(unknown)}; choose from {', '.join(BUILDERS)}")
    written = []
    for name, (experiments, build) in BUILDERS.items():
        if (only and name not in only) or not all(context.has_experiment(e) for e in experiments):
            continue
        if not only and not WANTED.get(name, lambda context: True)(context):
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / name
        clean_after_kill(target)
        staging = make_staging(target)
        try:
            folder = staging / name
            folder.mkdir()
            reproduction = build(context, staging)
            if _shown(context.preset.origin) == PUBLISHED_PRESET:
                reproduction.corrections = CORRECTIONS.get(name, [])
            _write(reproduction, folder)
            move_into_place(folder, target, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        written.append(target)
    return written
