"""The command-line contracts of list, show, eval, derive, regress and golden."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

import derivations
from rankbound.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_list_json_has_exactly_the_contract_keys(run):
    result = run("list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [row["id"] for row in rows] == list(derivations.ids())
    assert all(set(row) == {"id", "title", "source", "tag"} for row in rows)
    assert {row["id"]: row["tag"] for row in rows}["chen2024.thm3_11"] == "R~"


def test_list_text_shows_every_id_with_its_tag(run):
    output = run("list").output
    for statement in derivations.statements():
        assert statement.id in output and f"[{statement.tag}]" in output


def test_show_prints_hypotheses_source_and_tag(run):
    output = run("show", "chen2024.thm2_6").output
    assert "Theorem 2.6" in output and "[R~]" in output and "2B+1" in output and "N >= B + 1" in output
    latex = run("show", "chen2024.thm2_6", "--latex").output
    assert r"\begin{equation*}" in latex and r"\mu_{V}" in latex


def test_eval_json_contract(run):
    result = run("eval", "schatten_ball.lemma_s1", "m=100", "n=50", "p=0.5", "R=1", "eps=0.1", "--json")
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert {"id", "params", "dps", "value", "lower", "upper", "certified"} <= set(payload)
    assert payload["dps"] == 50 and payload["certified"] is True
    assert payload["params"] == {"m": "100", "n": "50", "p": "0.5", "R": "1", "eps": "0.1"}
    lower, upper, value = (float(payload[k]) for k in ("lower", "upper", "value"))
    assert lower <= value <= upper and (upper - lower) / value < 1e-49


def test_eval_selects_a_variant_and_reports_vacuity(run):
    payload = json.loads(run("eval", "chen2024.thm2_6", "B=16", "eps=1", "mu=0.1", "variant=2B+1", "--json").output)
    assert payload["form"] == "2B+1" and payload["value"] == "330.0"
    vacuous = json.loads(run("eval", "chen2024.prop3_6", "d=100", "N=1000", "eps=0.5", "--json").output)
    assert vacuous["vacuous"] is True


def test_eval_shows_the_confidence_of_the_evaluated_form(run):
    """thm2_6 is [R~]; its nonconstant_g variant was read as [R+]: both the JSON and the text say the form's tag."""
    default = json.loads(run("eval", "chen2024.thm2_6", "B=16", "eps=1", "mu=0.1", "--json").output)
    assert default["tag"] == "R~"
    args = ["chen2024.thm2_6", "B=16", "eps=1", "mu=0.1", "variant=nonconstant_g", "g_gap=1"]
    assert json.loads(run("eval", *args, "--json").output)["tag"] == "R+"
    assert run("eval", *args).output.splitlines()[0].endswith("[R+]")


@pytest.mark.parametrize(
    "args, message",
    [
        (("eval", "no.such_id", "x=1"), "unknown statement id"),
        (("eval", "schatten_ball.lemma_s1", "m=100", "n=50", "p=3", "R=1", "eps=0.1"), "p=3: must be < 2"),
        (("eval", "schatten_ball.lemma_s1", "m=100", "n=50", "p=0.5", "R=1"), "missing parameter(s) eps"),
        (("eval", "schatten_ball.lemma_s1", "m=1.5", "n=50", "p=0.5", "R=1", "eps=0.1"), "m=1.5: must be an integer"),
        (("eval", "schatten_ball.lemma_s1", "m=100", "n=50", "p=nan", "R=1", "eps=0.1"), "p='nan': not a number"),
        (("eval", "schatten_ball.lemma_s1", "m"), "name=value"),
        (("eval", "chen2024.thm2_6", "B=16", "eps=1", "mu=0.1", "variant=3B"), "no variant '3B'"),
        (("eval", "chen2024.lemma2_2"), "identity"),
        (("show", "nothing"), "unknown statement id"),
        (("derive", "nothing"), "unknown statement id"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0]


def test_derive_prints_verified_steps(run):
    output = run("derive", "chen2024.prop_p1").output
    assert "Proposition P1" in output and "[verified]" in output and "FAILED" not in output
    assert "No symbolic derivations" in run("derive", "zhang2002.thm3").output


def test_regress_exit_codes(run, tmp_path, monkeypatch):
    (tmp_path / "userbounds.py").write_text(
        textwrap.dedent(
            """
            def good(B, eps, mu):
                return 2 * B * eps / mu

            def bad(B, eps, mu):
                return (2 * B + 1) * eps / mu
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    good = runner.invoke(cli, ["regress", "chen2024.thm2_6", "userbounds:good", "--variant", "2B", "--points", "20"])
    assert good.exit_code == 0 and "OK" in good.output
    bad = runner.invoke(cli, ["regress", "chen2024.thm2_6", "userbounds:bad", "--variant", "2B", "--points", "20", "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.output)
    assert report["ok"] is False and len(report["failures"]) == 20 and report["failures"][0]["status"] == "above"
    assert runner.invoke(cli, ["regress", "chen2024.thm2_6", "userbounds:missing"]).exit_code == 2
    assert runner.invoke(cli, ["regress", "chen2024.thm2_6", "nomodule:f"]).exit_code == 2
    assert runner.invoke(cli, ["regress", "no.such", "userbounds:good"]).exit_code == 2


def test_golden_check_passes(run):
    result = run("golden")
    assert result.exit_code == 0 and "0 change(s)" in result.output
