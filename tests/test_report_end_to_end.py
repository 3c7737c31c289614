"""``rankbound report`` end to end on the tiny preset: train, check, draw, compile, read back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from numerics import golden
from numerics.evaluation import evaluate
from rankbound.cli import cli

TINY = Path(__file__).with_name("presets") / "tiny.toml"


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None, reason="needs latexmk and pdftotext")
def test_report_command_builds_a_readable_pdf(tmp_path, tiny_store):
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", "--preset", str(TINY), "--out", str(out), "--store", str(tiny_store)])
    assert result.exit_code == 0, result.output
    assert (out / "report.tex").is_file() and (out / "report.pdf").is_file()
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert "chen_california_stable_rank.pdf" in figures and "oymak_projections.pdf" in figures
    text = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for section in ("Provenance", "How to read this report", "Statements", "Verdicts", "Figures", "The paper says / we measured", "Notes"):
        assert section in flat
    # a certified example value of the catalogue, exactly as the golden file's point gives it
    assert "schatten_ball.lemma_s1" in flat and "derived.schatten_network_cover" in flat
    point = golden.load()["chen2024.thm2_6"]["2B"][0]["params"]
    digits = evaluate("chen2024.thm2_6", point, dps=30, form="2B").digits(12)
    assert digits.split("e")[0] in flat
    # verdicts of the checks and the honesty rows
    assert "holds" in flat and "vacuous" in flat and "inconclusive" in flat
    assert "Ledent, Alves, Lei (2025)" in flat


def test_report_without_latex_writes_tex_and_says_how_to_compile(tmp_path, tiny_store, monkeypatch):
    import reports.build as build

    monkeypatch.setattr(build, "missing_latex_programs", lambda: ("latexmk",))
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", "--preset", str(TINY), "--out", str(out), "--store", str(tiny_store)])
    assert result.exit_code == 0, result.output
    assert (out / "report.tex").is_file() and not (out / "report.pdf").exists()
    assert "latexmk" in result.output
