"""``rankbound reproduce``: per-experiment folders with summaries, tables and figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from checks.context import CheckContext
from checks.measurements import chen_table, projection_table
from rankbound.cli import cli

TINY = Path(__file__).with_name("presets") / "tiny.toml"


def test_reproduce_writes_summaries_tables_and_figures(tmp_path, tiny_store):
    out = tmp_path / "reproductions"
    result = CliRunner().invoke(cli, ["reproduce", "--preset", str(TINY), "--out", str(out), "--store", str(tiny_store)])
    assert result.exit_code == 0, result.output
    # the tiny preset has the Chen California and Oymak experiments only
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["chen_california", "oymak"]
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
