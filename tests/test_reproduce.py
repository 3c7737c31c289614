"""``rankbound reproduce``: per-experiment folders with summaries, tables and figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from checks.context import CheckContext
from checks.generalization import generalization_table
from checks.measurements import chen_table, projection_table
from rankbound.cli import cli

TINY = Path(__file__).with_name("presets") / "tiny.toml"


def test_reproduce_writes_summaries_tables_and_figures(tmp_path, tiny_store):
    out = tmp_path / "reproductions"
    result = CliRunner().invoke(cli, ["reproduce", "--preset", str(TINY), "--out", str(out), "--store", str(tiny_store)])
    assert result.exit_code == 0, result.output
    # the tiny preset has the Chen California, Oymak and generalization experiments only
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["chen_california", "generalization", "oymak"]
    california = out / "chen_california"
    summary = (california / "summary.md").read_text()
    for heading in ("## Setup", "## The paper says / we measured", "## Statements checked on these networks", "## Tables", "## Figures", "## What differs from the paper"):
        assert heading in summary
    runs = pd.read_csv(california / "runs.csv")
    context = CheckContext.from_preset(TINY, store=tiny_store, scale="paper")  # reproduce measures at paper scale
    expected = chen_table(context)
    assert list(runs["stable_rank"]) == list(expected["stable_rank"])  # the table is the checks' measurement
    assert (california / "chen_california_stable_rank.pdf").stat().st_size > 1000
    claims = json.loads((california / "claims.json").read_text())
    assert claims and {c["verdict"] for c in claims} <= {"holds", "violated", "inconclusive"}
    projections = pd.read_csv(out / "oymak" / "projections.csv")
    assert projections["info_y"].tolist() == projection_table(context)["info_y"].tolist()
    assert (out / "oymak" / "paper_tables_1_2_cifar10.csv").is_file()
    bounds = pd.read_csv(out / "generalization" / "bounds.csv")
    expected_bounds = generalization_table(context)
    assert len(bounds) == len(expected_bounds) and set(bounds["N"]) == {100, 300, 900}
    assert bounds["bound"].tolist() == expected_bounds["bound"].tolist()
    verdicts = pd.read_csv(out / "generalization" / "verdicts.csv")
    assert set(verdicts["verdict"]) <= {"holds", "violated", "vacuous", "inconclusive"} and len(verdicts) == len(bounds)


def test_reproduce_replaces_a_folder_atomically_and_rejects_unknown_names(tmp_path, tiny_store):
    out = tmp_path / "reproductions"
    (out / "chen_california").mkdir(parents=True)
    (out / "chen_california" / "stale.txt").write_text("old")
    runner = CliRunner()
    result = runner.invoke(cli, ["reproduce", "--preset", str(TINY), "--out", str(out), "--store", str(tiny_store), "--only", "chen_california"])
    assert result.exit_code == 0, result.output
    assert not (out / "chen_california" / "stale.txt").exists() and (out / "chen_california" / "summary.md").exists()
    bad = runner.invoke(cli, ["reproduce", "--preset", str(TINY), "--out", str(out), "--store", str(tiny_store), "--only", "nothing"])
    assert bad.exit_code == 2 and "no reproduction named nothing" in bad.output


def test_bound_figures_leave_out_networks_without_a_bound():
    """A net whose margin is not positive has no risk bound (NaN): it is left out of the figures, not plotted."""
    from reports.experiment_figures import _deep_families

    table = pd.DataFrame(
        {
            "network": ["mlp mnist L=2 w=32 wd=0 seed=0"] * 3,
            "statement": ["bartlett2017.margin_bound_explicit", "neyshabur2018.thm1", "derived.schatten_network_cover"],
            "form": ["risk", "fixed_beta", "risk"],
            "p": [float("nan"), float("nan"), 0.5],
            "bound": [float("nan"), 3.0, float("nan")],
        }
    )
    families = _deep_families(table)
    assert families["family"].tolist() == ["Neyshabur et al. 2018 (fixed beta) [R+]"]
