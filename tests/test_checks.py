"""The checks layer: verdict logic, property runner, and the checks on constructed and trained nets."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import strategies as st

from checks import experiments, jacobian, lowrank, schatten
from checks.context import CheckContext
from checks.measurements import chen_table, projection_table
from checks.strategies import matrix_pairs, run_property
from checks.verdict import Verdict, compare_to_bound
from numerics.measures.spectral import schatten_quasinorm

TINY = Path(__file__).with_name("presets") / "tiny.toml"
CONTRACT_KEYS = {"statement", "verdict", "measured", "bound_lower", "bound_upper", "ratio", "reason"}


@pytest.fixture(scope="module")
def tiny(tiny_store) -> CheckContext:
    """The tiny preset's runs (trained once per test session)."""
    return CheckContext.from_preset(TINY, store=tiny_store)


# ------------------------------------------------------------------ verdict logic
@pytest.mark.parametrize(
    "measured, lower, upper, error, direction, vacuous, expected",
    [
        (1.0, 2.0, 2.1, 0.0, "upper", False, "holds"),
        (3.0, 2.0, 2.1, 0.0, "upper", False, "violated"),
        (2.05, 2.0, 2.1, 0.0, "upper", False, "inconclusive"),  # inside the enclosure
        (1.99, 2.0, 2.1, 0.05, "upper", False, "inconclusive"),  # within the measurement error
        (1.0, 2.0, 2.1, 0.0, "upper", True, "vacuous"),
        (3.0, 2.0, 2.1, 0.0, "lower", False, "holds"),
        (1.0, 2.0, 2.1, 0.0, "lower", False, "violated"),
        (float("nan"), 2.0, 2.1, 0.0, "upper", False, "inconclusive"),
    ],
)
def test_compare_to_bound(measured, lower, upper, error, direction, vacuous, expected):
    assert compare_to_bound(measured, lower, upper, measured_error=error, direction=direction, vacuous=vacuous)[0] == expected


def test_verdict_json_has_the_contract_keys_and_ratio():
    record = Verdict("chen2024.prop_p1", "x", "holds", "r", measured=1.0, bound_lower=3.9, bound_upper=4.0)
    data = record.to_json()
    assert CONTRACT_KEYS <= set(data) and data["ratio"] == 0.25
    json.dumps(data)
    with pytest.raises(ValueError, match="verdict"):
        Verdict("x", "y", "fine", "r")


def test_property_runner_finds_counterexamples():
    """The p-triangle inequality fails for p > 1: the runner must find it (checks can fail)."""
    outcome = run_property(
        st.tuples(matrix_pairs(), st.floats(min_value=1.5, max_value=3.0)),
        lambda e: schatten_quasinorm(e[0][0] + e[0][1], e[1]) ** e[1] / (schatten_quasinorm(e[0][0], e[1]) ** e[1] + schatten_quasinorm(e[0][1], e[1]) ** e[1]),
        threshold=1.0,
        max_examples=200,
    )
    assert not outcome.held and "measured" in outcome.counterexample


# ------------------------------------------------------------------ Schatten facts
@pytest.mark.parametrize("check", schatten.CHECKS, ids=lambda c: c.name)
def test_schatten_facts_hold(check, tiny):
    records = check.run(tiny)
    assert records and all(r.verdict == "holds" for r in records), [r.reason for r in records]
    assert all(r.measured <= r.bound_upper * (1 + 1e-9) for r in records)


# ------------------------------------------------------------------ Chen, constructed points
def _enumerated_epsilon(point) -> float:
    """eps by brute force: every B-subset's mean of h_j, from an explicit per-sample gradient."""
    a, V, b, X, y, mu = point.a, point.V, point.b, point.X, point.y, point.mu
    pre = X @ V.T + b
    residual = np.maximum(pre, 0) @ a - y
    h = [2 * residual[j] * np.outer(a * (pre[j] > 0), X[j]) + mu * V for j in range(len(y))]
    return max(np.linalg.norm(sum(h[j] for j in subset) / point.batch_size) for subset in combinations(range(len(y)), point.batch_size))


def test_constructed_points_have_exact_epsilon(tiny):
    for point in lowrank.constructed_points(tiny):
        assert point.epsilon_method == "enumeration"
        assert point.epsilon == pytest.approx(_enumerated_epsilon(point), rel=1e-10)


def test_constructed_verdicts(tiny):
    records = lowrank.constructed(tiny)
    by_form = {}
    for record in records:
        by_form.setdefault((record.statement, record.form), []).append(record)
    # P1's per-sample bound and the Eckart-Young form hold at every point
    assert all(r.verdict == "holds" for r in by_form[("chen2024.prop_p1", "h_norm")])
    # distance bounds: vacuous exactly when the bound reaches ||V||_F, else they hold
    for key in (("chen2024.prop_p1", "distance"), ("chen2024.thm2_6", "2B"), ("chen2024.thm2_6", "2B+1")):
        for record in by_form[key]:
            if record.verdict == "vacuous":
                assert record.bound_lower >= record.details["frobenius_V"]
            else:
                assert record.verdict == "holds"
    assert any(r.verdict == "holds" for r in by_form[("chen2024.thm2_6", "2B")]), "the clustered case must give a non-vacuous bound"
    assert [r.verdict for r in by_form[("chen2024.thm2_4", "")]] == ["inconclusive"]


def test_lemma2_2_holds(tiny):
    (record,) = lowrank.lemma2_2(tiny)
    assert record.verdict == "holds" and record.measured < 1e-12


def test_trained_points_bracket_epsilon(tiny):
    records = [r for r in lowrank.trained(tiny) if "epsilon" in r.details]
    assert records
    for record in records:
        details = record.details
        assert details["epsilon_method"] == "bracket" and details["epsilon"] <= details["epsilon_upper"]
        if record.form == "h_norm":  # max_j ||h_j|| = eps_upper <= (2B - 1) eps_upper always; informative at eps_lower
            assert record.verdict in ("holds", "inconclusive")


# ------------------------------------------------------------------ Oymak
def test_information_split_identities(tiny):
    records = jacobian.split_identities(tiny)
    assert records and all(r.verdict == "holds" for r in records)
    table = projection_table(tiny)
    assert np.allclose(table["info_y"] ** 2 + table["nuisance_y"] ** 2, 1.0, atol=1e-12)


def test_ntk_identity_holds_and_detects_a_wrong_scale(tiny, monkeypatch):
    (record,) = jacobian.ntk_identity(tiny)
    assert record.verdict == "holds"
    import checks.jacobian as module

    real = module.evaluate
    monkeypatch.setattr(module, "evaluate", lambda *a, **k: type("E", (), {"value": str(2 * float(real(*a, **k).value))})())
    (wrong,) = jacobian.ntk_identity(tiny)
    assert wrong.verdict == "violated"


# ------------------------------------------------------------------ Chen claims
def _fake_table(stable_rank, train_mse, gap, seeds=(0, 1, 2), still_falling=False) -> pd.DataFrame:
    """A mu_V sweep at B = 16 with the given seed means; seed s adds s * 1e-3 (a small seed-to-seed spread)."""
    mus = [1e-4, 1e-3, 1e-2, 1e-1, 1.0][: len(stable_rank)]
    loss = np.linspace(1.0, 0.5, 100) if still_falling else np.full(100, 0.5)
    rows = [
        {
            "experiment": "chen_california", "mu_v": mu, "batch_size": 16, "seed": seed, "width": 64, "status": "finished",
            "epochs": 100, "steps": 2500, "decay_inert": False, "epoch_loss": loss,
            "stable_rank": rank + seed * 1e-3, "train_mse": mse + seed * 1e-3, "gap": g + seed * 1e-3,
        }
        for seed in seeds
        for mu, rank, mse, g in zip(mus, stable_rank, train_mse, gap)
    ]
    return pd.DataFrame(rows)


def _claims(table: pd.DataFrame, claims):  # noqa: ANN001, ANN202
    context = CheckContext.from_preset(TINY)
    context.memo(("chen_table", "chen_california"), lambda: table)
    return claims(context, "chen_california")


@pytest.mark.parametrize(
    "ranks, expected",
    [([6.0, 5.0, 3.0, 1.8, 1.1], "holds"), ([3.0, 3.5, 4.0, 4.5, 5.0], "violated"), ([6.0, 5.5, 5.0, 4.0, 3.0], "inconclusive")],
)
def test_stable_rank_claim_logic(ranks, expected):
    (record,) = _claims(_fake_table(ranks, [0.1, 0.2, 0.3, 0.4, 0.5], [0.0] * 5), experiments.stable_rank_claims)
    assert record.verdict == expected and record.kind == "claim"
    assert "95% seed bootstrap, 3 seeds" in record.reason


def test_one_seed_decides_no_claim():
    (record,) = _claims(_fake_table([3.0, 3.5, 4.0, 4.5, 5.0], [0.1] * 5, [0.0] * 5, seeds=(0,)), experiments.stable_rank_claims)
    assert record.verdict == "inconclusive" and "1 seeds" in record.reason


def test_a_contradiction_needs_trained_networks():
    table = _fake_table([3.0, 3.5, 4.0, 4.5, 5.0], [0.1] * 5, [0.0] * 5, still_falling=True)
    (record,) = _claims(table, experiments.stable_rank_claims)
    assert record.verdict == "inconclusive" and "not trained enough" in record.reason and "last tenth" in record.reason


def test_inert_decays_are_left_out_and_counted():
    table = _fake_table([6.0, 5.0, 3.0, 1.8, 1.1], [0.1, 0.2, 0.3, 0.4, 0.5], [0.0] * 5)
    table.loc[table["mu_v"] == 1e-4, "decay_inert"] = True
    (record,) = _claims(table, experiments.stable_rank_claims)
    assert record.verdict == "holds" and "3 runs left out: weight decay below the dtype's resolution" in record.coverage
    assert 1e-4 not in record.details["stable_rank_by_mu"]


def test_ambiguous_best_gap_is_inconclusive():
    table = _fake_table([5, 4, 3, 2, 1], [0.1, 0.2, 0.3, 0.4, 0.5], [0.05, 0.0, 0.03, 0.02, -0.04])
    rises, best = _claims(table, experiments.mse_claims)
    assert rises.verdict == "holds" and best.verdict == "inconclusive"


def test_batch_size_claim_under_both_protocols():
    sweep = _fake_table([5, 4, 3, 2, 1.01], [0.1, 0.2, 0.3, 0.4, 0.5], [0.05, 0.04, 0.03, 0.02, 0.01])
    rows = []
    for seed in (0, 1, 2):
        for B, epochs, steps, rank in [(8, 100, 5000, 1.0), (32, 100, 1200, 2.0), (64, 100, 600, 4.0), (8, 50, 2500, 1.0), (32, 200, 2500, 1.01), (64, 400, 2500, 1.02)]:
            rows.append({**sweep.iloc[0].to_dict(), "mu_v": 1.0, "batch_size": B, "seed": seed, "epochs": epochs, "steps": steps, "stable_rank": rank + seed * 1e-3, "gap": 0.01})
    table = pd.concat([sweep, pd.DataFrame(rows)], ignore_index=True)
    records = _claims(table, experiments.batch_size_claims)
    verdicts = {(r.details["protocol"], "stable rank" in r.reason.split(":")[0]): r.verdict for r in records}
    assert verdicts == {
        ("equal epochs", True): "violated",
        ("equal epochs", False): "holds",
        ("equal optimiser steps", True): "holds",
        ("equal optimiser steps", False): "holds",
    }


def test_claims_on_tiny_runs_are_decided_from_the_table(tiny):
    table = chen_table(tiny)
    assert set(table["mu_v"]) == {1e-4, 1e-2, 1.0} and (table["stable_rank"] >= 1).all()
    for record in experiments.stable_rank_claims(tiny, "chen_california"):
        end = table[(table["batch_size"] == 16)].groupby("mu_v")["stable_rank"].mean().iloc[-1]
        assert record.measured == pytest.approx(end)


# ------------------------------------------------------------------ CLI
def test_check_command_json_and_exit_codes(monkeypatch, tmp_path):
    from rankbound.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["check", "--preset", str(TINY), "--store", str(tmp_path), "--only", "schatten.p_triangle", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert records and all(CONTRACT_KEYS <= set(r) for r in records) and {r["verdict"] for r in records} == {"holds"}
    # the p-triangle inequality is [M]; its quasi-triangle-constant form is proved, [P]
    assert {(r["form"], r["tag"]) for r in records} == {("", "M"), ("quasi_triangle_constant", "P")}

    bad = runner.invoke(cli, ["check", "--preset", str(TINY), "--store", str(tmp_path), "--only", "no.such"])
    assert bad.exit_code == 2 and "no check selected by no.such" in bad.output

    import checks.registry as registry

    violated = registry.CheckReport([Verdict("chen2024.prop_p1", "x", "violated", "made up")])
    monkeypatch.setattr(registry, "run_checks", lambda *a, **k: violated)
    assert runner.invoke(cli, ["check", "--preset", str(TINY), "--store", str(tmp_path)]).exit_code == 1


def test_unknown_preset_is_a_usage_error(tmp_path):
    from rankbound.cli import cli

    result = CliRunner().invoke(cli, ["check", "--preset", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "Error" in result.output


# ------------------------------------------------------------------ judging over seeds
def test_seed_bootstrap_interval_brackets_the_estimate_and_needs_three_seeds():
    from checks.over_seeds import decide, rank_trend

    rng = np.random.default_rng(1)
    rows = pd.DataFrame([{"seed": s, "x": x, "y": x + rng.normal(scale=0.5)} for s in range(6) for x in range(5)])
    trend = rank_trend(rows, "x", "y")
    assert trend.lower <= trend.value <= trend.upper and trend.seeds == 6 and trend.lower > 0
    assert decide(trend, +1) is True and decide(trend, -1) is False
    noise = rows.assign(y=rng.normal(size=len(rows)))
    assert decide(rank_trend(noise, "x", "y"), +1) is None
    two = rank_trend(rows[rows["seed"] < 2], "x", "y")
    assert np.isnan(two.lower) and decide(two, +1) is None


def test_undertraining_criteria():
    from checks.over_seeds import loss_still_falling, undertrained

    loss = np.linspace(2.0, 1.0, 100)  # last tenth: 10 epochs, windows of 2
    start, end = loss[90:92].mean(), loss[98:].mean()
    assert loss_still_falling(loss) == pytest.approx((start - end) / start, rel=1e-12)
    assert loss_still_falling(np.full(50, 0.3)) == 0.0
    flat = {"epoch_loss": np.full(50, 0.3), "test_accuracy": [0.9]}
    assert undertrained([flat, flat]) is None
    assert "still lose" in undertrained([{"epoch_loss": np.linspace(2.0, 1.0, 100)}] * 2)
    assert "near chance" in undertrained([{**flat, "test_accuracy": [0.2]}] * 3, classes=10)
    assert undertrained([{**flat, "test_accuracy": [0.5]}] * 3, classes=10) is None
