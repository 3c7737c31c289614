"""The compression bound in the checks, the report and the reproduction folder (small real runs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from checks.compression import CHECK, check_compression, compression_preset
from checks.context import CheckContext
from checks.registry import all_checks
from reports import build
from reports.compression import DZIUGAITE_ROY, compression_entries
from reports.model import ReportData
from reports.render import render_report
from tests.test_reports_build import PROVENANCE

TINY = Path(__file__).with_name("presets") / "tiny.toml"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_mnist = pytest.mark.skipif(not (DATA / "mnist" / "train-images-idx3-ubyte.gz").exists(), reason="MNIST is not beside the checkout")


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> CheckContext:
    return CheckContext.from_preset(TINY, store=tmp_path_factory.mktemp("compression-store"), data_dir=DATA)


@pytest.fixture(scope="module")
def records(context):
    return check_compression(context)


def test_the_check_is_registered_for_the_statement():
    (check,) = [c for c in all_checks() if c.name == CHECK]
    assert check.statements == ("langford2005.occam_kl",) and check.selected_by("langford2005.occam_kl")


@needs_mnist
def test_check_compares_the_test_error_with_the_certified_bound(context, records):
    assert compression_preset(context) == "ci"
    (record,) = records
    assert record.statement == "langford2005.occam_kl" and record.form == "kl" and record.tag == "M"
    assert record.verdict == "holds"  # the test error is far below this (small) bound
    assert record.measured + record.measured_error <= record.bound_lower <= record.bound_upper < 1
    assert record.params["bits"] == sum(record.details["bits_per_part"].values())
    assert 0 <= record.params["errors"] <= record.params["n"] == 3000
    json.dumps(record.to_json())


@needs_mnist
def test_report_section_renders_and_compiles(records, tmp_path):
    entries = compression_entries(records)
    data = ReportData(title="compression", subtitle="section test", provenance=PROVENANCE, compression=entries)
    text = render_report(data)
    assert r"\section{A certified non-vacuous bound from low rank}" in text
    assert r"\texttt{layer1.\allowbreak{}U}" in text and entries[0].bound in text
    assert "arXiv:1703.11008" in text and DZIUGAITE_ROY[:40] in entries[0].comparison
    assert r"\section{A certified" not in render_report(ReportData(title="t", subtitle="s", provenance=PROVENANCE))
    if build.missing_latex_programs() or shutil.which("pdftotext") is None:
        pytest.skip("latexmk, pdflatex or pdftotext not on PATH")
    result = build.build_report(data, tmp_path / "out")
    assert result.compiled
    pdf_text = subprocess.run(["pdftotext", "-layout", str(result.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "A certified non-vacuous bound from low rank" in pdf_text and entries[0].bits in pdf_text


@needs_mnist
def test_reproduction_folder_has_the_table_and_the_published_number(context, tmp_path, monkeypatch):
    from reports import compression as compression_report
    from reports.reproduce import reproduce

    weight_decay_zero = [v for v in compression_report.VARIATIONS if v[0] == "weight decay 0"]
    monkeypatch.setattr(compression_report, "VARIATIONS", tuple(weight_decay_zero))
    (folder,) = reproduce(context, tmp_path, only=["compression"])
    table = pd.read_csv(folder / "table.csv")
    assert list(table["variation"]) == ["ci", "weight decay 0"]
    assert {"ranks", "bits", "weight_decay", "bound", "test_error"} <= set(table.columns)
    assert (table["bound"] < 1).all() and (table["bound"] > table["train_error"]).all()
    published = json.loads((folder / "published.json").read_text())
    assert published[0]["bound"] == "0.16-0.17" and "1703.11008" in published[0]["source"]
    summary = (folder / "summary.md").read_text()
    assert "Dziugaite & Roy (2017)" in summary and "langford2005.occam_kl" in summary
