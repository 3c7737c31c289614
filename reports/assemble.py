"""Assemble a :class:`~reports.model.ReportData` from the checks of one run.

* statements: every catalogue declaration, rendered by :mod:`derivations.latex`, with a
  certified value of each form at its first golden point (only the certified digits);
* verdicts: every check record;
* figures: :mod:`reports.experiment_figures`;
* "the paper says / we measured": the experimental-claim records of the checks, with what
  the paper reports, plus the rows on vacuity and on Ledent et al.'s comparison, computed
  from the bound records;
* notes: what is vacuous and why, and the choices the papers left open.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

import derivations
from checks.context import CheckContext
from checks.generalization import generalization_table
from checks.registry import CheckReport
from checks.verdict import Verdict
from derivations.latex import statement_latex
from numerics import golden
from numerics.evaluation import evaluate
from numerics.evaluation.vacuity import vacuity
from reports.compression import compression_entries
from reports.experiment_figures import bound_figures, chen_figures, oymak_figures
from reports.model import ClaimRow, ExampleValue, Figure, Provenance, ReportData, StatementEntry, VerdictRow

CHEN = "Chen, Yi, Yang (2024)"
OYMAK = "Oymak et al. (2019)"
LEDENT = "Ledent, Alves, Lei (2025)"

#: what the papers report for each checked claim (notes-chen-oymak.md A.10, B.6; seeds)
PAPER_SAYS = {
    "chen.stable_rank": (CHEN, "the stable rank is about 1 only for large mu_V; for small mu_V V is almost full rank (Fig. 1; MNIST Figs. 4-7)"),
    "chen.mse": (CHEN, "larger mu_V raises the training MSE, but the best generalization error (test - train MSE) is at large mu_V (Fig. 2)"),
    "chen.gradients": (CHEN, "most batch-gradient norms are below 2 and the largest below 12, at every mu_V; a Gaussian matrix of V's size with variance 0.01 has norm about 26 (Fig. 3, reviewer 1)"),
    "chen.batch_size": (CHEN, "with strong weight decay the stable rank and the generalization error are roughly constant across batch sizes (Appendix A.2, Figs. 8-9)"),
    "chen.accuracy": (CHEN, "the generalization gap in accuracy tends to 0 as mu_V grows (MNIST)"),
    "jacobian.label_noise": (OYMAK, "||Pi_I(y)||/||y||: 0.38 at initialisation, 0.99 after training on clean CIFAR-10; 0.33 / 0.90 with 50% corruption; more corruption puts more label energy on the nuisance space (Tables 1-2, Fig. 7)"),
}
CLAIM_VERDICTS = {"holds": "supported", "violated": "not supported", "inconclusive": "inconclusive", "vacuous": "supported"}


def _fmt(value: float | None) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.4g}"


# ------------------------------------------------------------------ statements
def _example(statement, form) -> ExampleValue:
    point = golden.load()[statement.id][form.name][0]["params"]
    result = evaluate(statement, point, dps=30, form=form.name)
    params = {name: ",".join(value) if isinstance(value, list) else str(value) for name, value in point.items()}
    return ExampleValue(form=form.name, params=params, digits=result.digits(12), vacuous=vacuity(result))


def statement_entries() -> list[StatementEntry]:
    entries = []
    for statement in derivations.statements():
        pieces = statement_latex(statement)
        entries.append(
            StatementEntry(
                id=statement.id,
                title=statement.title,
                tag=statement.tag,
                tag_note=statement.tag_note,
                kind=statement.kind.value,
                source=str(statement.source),
                parameters=pieces.parameters,
                hypotheses=pieces.hypotheses,
                assumptions=statement.assumptions,
                forms=pieces.forms,
                claims=pieces.claims,
                conventions=dict(statement.conventions),
                examples=[_example(statement, form) for form in statement.forms],
            )
        )
    return entries


# ------------------------------------------------------------------ verdicts and claims
def verdict_rows(records: Sequence[Verdict]) -> list[VerdictRow]:
    return [
        VerdictRow(
            statement=r.statement,
            check=r.check,
            form=r.form,
            tag=r.tag,
            kind=r.kind,
            verdict=r.verdict,
            measured=_fmt(r.measured),
            bound=r.bound_digits or _fmt(r.bound_upper),
            ratio=_fmt(r.ratio),
            reason=r.reason,
            coverage=r.coverage,
        )
        for r in records
    ]


def claim_text(record: Verdict) -> tuple[str, str]:
    """(the claim, what was observed) of a claim record."""
    return str(record.details["claim"]), str(record.details["observed"])


def claim_rows(report: CheckReport, context: CheckContext) -> list[ClaimRow]:
    rows = []
    for record in report.records:
        if record.kind != "claim" or record.check not in PAPER_SAYS:
            continue
        source, says = PAPER_SAYS[record.check]
        claim, measured = claim_text(record)
        rows.append(ClaimRow(source, claim, says, measured, CLAIM_VERDICTS[record.verdict], record.statement))
    rows.extend(_bound_claims(report, context))
    return rows


def _bound_claims(report: CheckReport, context: CheckContext) -> list[ClaimRow]:
    """Rows computed from the bound records: Thm 2.6 against ||V||, vacuity, Ledent's comparison."""
    rows = []
    trained = [r for r in report.records if r.check == "lowrank.trained" and r.statement == "chen2024.thm2_6" and r.bound_lower]
    if trained:
        ratios = [r.bound_lower / r.details["frobenius_V"] for r in trained]
        rows.append(
            ClaimRow(
                f"{CHEN}, reviewer 3",
                "the Theorem 2.6 bound C eps is of the order of ||V*|| itself (C eps / ||V*|| ~ 2B)",
                "C eps / ||V*|| ~ 2B when ||V*|| ~ eps / mu_V",
                f"bound / ||V||_F from {min(ratios):.3g} to {max(ratios):.3g} on {len(trained)} trained nets (eps at the lower end of its bracket): "
                "the distance bound is met by the zero matrix, although the nets at large mu_V are numerically rank one",
                "supported" if min(ratios) >= 1 else "not supported",
                "chen2024.thm2_6",
            )
        )
    chen = [r for r in report.records if r.check == "generalization.chen" and r.form == "explicit" and r.statement == "chen2024.cor3_9"]
    if chen:
        rows.append(
            ClaimRow(
                "rankbound notes A.9",
                "every Section 3 bound of Chen et al. is vacuous at the paper's sample sizes",
                "Pdim bounds of about 3.2e6 (California, full class) and 5.5e6 (MNIST, rank 2) against N = 1800 and 9000",
                f"{sum(r.verdict == 'vacuous' for r in chen)} of {len(chen)} explicit Corollary 3.9 bounds vacuous; the smallest is "
                f"{min(r.bound_lower for r in chen):.3g} against a loss range of at most {max(r.details.get('trivial_above', 0) for r in chen):.3g}",
                "supported" if all(r.verdict == "vacuous" for r in chen) else "not supported",
                "chen2024.cor3_9",
            )
        )
    table = generalization_table(context)
    if not table.empty:
        deep = table[table["network"].str.startswith("mlp")]
        cover = deep[deep["statement"] == "derived.schatten_network_cover"].groupby(["network", "N"])["bound"].min()
        norm = deep[deep["statement"].isin(["bartlett2017.margin_bound_explicit", "neyshabur2018.thm1"])].groupby(["network", "N"])["bound"].min()
        if not cover.empty and not norm.empty:
            factor = (norm / cover).dropna()
            rows.append(
                ClaimRow(
                    LEDENT,
                    "the rank-based bound outperforms parameter counting and norm-based bounds in the overparametrized regime",
                    "abstract (OpenReview); the theorems themselves could not be obtained [N]",
                    f"the proved Schatten-p substitute (derived.schatten_network_cover, best p) is {factor.min():.3g} to {factor.max():.3g} times "
                    "smaller than the best of Bartlett et al. 2017 and Neyshabur et al. 2018 on the same nets, and still vacuous; this is not the paper's bound",
                    "inconclusive",
                    "derived.schatten_network_cover",
                )
            )
    return rows


# ------------------------------------------------------------------ notes
def notes(report: CheckReport, context: CheckContext) -> list[str]:
    counts = report.counts()
    theorems = [r for r in report.records if r.kind == "theorem"]
    vacuous = sorted({r.statement for r in theorems if r.verdict == "vacuous"})
    paragraphs = [
        f"{len(report.records)} records: " + ", ".join(f"{counts.get(v, 0)} {v}" for v in ("holds", "violated", "vacuous", "inconclusive")) + ". "
        f"Preset '{context.preset.name}' ({'reduced widths and epochs, same protocol as the papers' if context.preset.name == 'quick' else context.preset.origin}).",
        "Vacuous statements on these networks (true only because the bound exceeds the trivial range, or, for the distance bounds of "
        "Chen et al., because the zero matrix already meets them): " + (", ".join(vacuous) if vacuous else "none") + ".",
        "Ledent, Alves and Lei (2025): the full text could not be obtained. The report shows the abstract's claims [C], a third party's "
        "rendering of Theorems 3.6/3.7 [T] (constants and logs hidden, the margin absent), and a fully proved substitute, "
        "derived.schatten_network_cover [P]; none of these is the paper's theorem.",
        "Choices the papers left open, stated in the presets: the mu_V grid (a decade grid), the batch size (16, the reviewers' reading), "
        "Table 2's first lost header read as the learning rate, feature standardisation for California Housing, MNIST labels as the "
        "numbers 0-9 under the square loss, He-normal initialisation. The fixed-class risk bounds are evaluated at the trained nets' "
        "norms without the union bound over a grid, as is standard practice; every such record says so.",
    ]
    return paragraphs


def assemble(
    context: CheckContext, report: CheckReport, provenance: Provenance, figure_directory: Path, *, title: str = "rankbound verification report"
) -> ReportData:
    figures: list[Figure] = []
    for experiment in ("chen_california", "chen_mnist"):
        figures.extend(chen_figures(context, figure_directory, experiment))
    figures.extend(bound_figures(context, figure_directory))
    figures.extend(oymak_figures(context, figure_directory))
    return ReportData(
        title=title,
        subtitle=f"Low-rank structure and generalization: {len(derivations.ids())} statements, certified values, checks against trained networks (preset {context.preset.name})",
        provenance=provenance,
        statements=statement_entries(),
        verdicts=verdict_rows(report.records),
        figures=figures,
        claims=claim_rows(report, context),
        notes=notes(report, context),
        compression=compression_entries(report.records),
    )
