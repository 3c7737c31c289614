"""Training: batch order and schedule, identity with per-model reference loops, independence, configs."""

from __future__ import annotations

import dataclasses
import tomllib

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torch_tasks import chen_run, ledent_run, oymak_run

from numerics.data import DataSpec, load_split
from numerics.models import MLP, BatchedTwoLayerReLU
from numerics.training import load_preset, parse_preset
from numerics.training.decay import run_decay_resolutions
from numerics.training.experiments import plan_groups
from numerics.training.groups import plan_chen, plan_ledent, plan_oymak
from numerics.training.loop import Schedule, epoch_batches, train_group
from numerics.training.reference import train_two_layer_reference
from numerics.training.tensors import GroupTensors
from numerics.training.two_layer import TwoLayerSGD


def train(planner, runs):  # noqa: ANN001, ANN201 - planner of the runs' kind; returns (plan, outcomes)
    plan = planner(runs, [load_split(run.data) for run in runs], "cpu")
    return plan, train_group(plan.trainable, plan.schedule)


def test_epoch_batches_are_seeded_permutations_without_the_last_partial_batch() -> None:
    batches = epoch_batches(seed=7, epoch=3, rows=100, batch_size=16)
    assert batches.shape == (6, 16)
    assert len(np.unique(batches)) == 96 and batches.min() >= 0 and batches.max() < 100
    assert np.array_equal(batches, epoch_batches(7, 3, 100, 16))
    assert not np.array_equal(batches, epoch_batches(7, 4, 100, 16))
    assert not np.array_equal(batches, epoch_batches(8, 3, 100, 16))
    assert np.array_equal(epoch_batches(7, 3, 10, 5, shuffle=False), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])


def test_learning_rate_decays_every_so_many_epochs() -> None:
    schedule = Schedule(epochs=1000, batch_size=1, rows=1, seeds=(0, 1), lr=(1e-2, 1e-3), lr_decay=0.95, lr_decay_every=200)
    np.testing.assert_allclose(schedule.learning_rates(199, [0, 1]), [1e-2, 1e-3])
    np.testing.assert_allclose(schedule.learning_rates(200, [1]), [0.95e-3])
    np.testing.assert_allclose(schedule.learning_rates(999, [0]), [1e-2 * 0.95**4])


def test_batched_sweep_reproduces_the_per_model_reference_loop() -> None:
    runs = [
        chen_run(seed=0, mu_v=1e-3),
        chen_run(seed=1, mu_v=3e-2, mu_a=1e-4, mu_b=0.0),
        chen_run(seed=2, mu_v=0.1, lr=1e-2),
    ]
    plan, outcomes = train(plan_chen, runs)
    split = load_split(runs[0].data)
    for run, initial, outcome in zip(runs, plan.initial_weights, outcomes):
        weights, epoch_loss = train_two_layer_reference(
            initial, split.x_train, split.y_train, mu_v=run.mu_v, mu_a=run.mu_a, mu_b=run.mu_b, lr=run.lr,
            epochs=run.epochs, batch_size=run.batch_size, seed=run.seed, lr_decay=run.lr_decay, lr_decay_every=run.lr_decay_every,
        )
        assert outcome.status == "finished"
        for key in ("a", "V", "b"):
            scale = np.abs(weights[key]).max()
            assert np.abs(outcome.weights[key] - weights[key]).max() <= 1e-12 * scale, key
            assert np.abs(outcome.weights[key] - initial[key]).max() > 1e-6 * scale  # it did train
        np.testing.assert_allclose(outcome.history["epoch_loss"], epoch_loss, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_models_result_does_not_depend_on_its_group(dtype: str) -> None:
    runs = [chen_run(seed=seed, mu_v=mu, dtype=dtype) for seed, mu in [(0, 1e-3), (5, 1e-2), (2, 0.3)]]
    _, together = train(plan_chen, runs)
    _, alone = train(plan_chen, runs[1:2])
    for key in ("a", "V", "b"):
        assert np.array_equal(alone[0].weights[key], together[1].weights[key])
    assert np.array_equal(alone[0].history["test_mse"], together[1].history["test_mse"])


def test_history_and_final_epoch_batches() -> None:
    run = chen_run(epochs=5, eval_every=2)
    _, (outcome,) = train(plan_chen, [run])
    history = outcome.history
    assert history["eval_epoch"].tolist() == [0, 2, 4, 5]
    assert len(history["epoch_loss"]) == 5 and len(history["train_mse"]) == 4
    np.testing.assert_allclose(history["epoch_lr"], [2e-2, 2e-2, 1e-2, 1e-2, 5e-3])
    assert np.array_equal(outcome.final_epoch_batches, epoch_batches(run.seed, 4, 160, 16))
    # the recorded test MSE is the MSE of the final weights on the test split
    split = load_split(run.data)
    w = outcome.weights
    predictions = np.maximum(split.x_test @ w["V"].T + w["b"], 0) @ w["a"]
    assert history["test_mse"][-1] == pytest.approx(np.mean((predictions - split.y_test) ** 2), rel=1e-12)


def test_a_diverging_model_stops_and_the_others_are_unaffected() -> None:
    runs = [chen_run(seed=0), chen_run(seed=1, lr=50.0), chen_run(seed=2)]
    _, outcomes = train(plan_chen, runs)
    assert [o.status for o in outcomes] == ["finished", "diverged", "finished"]
    assert outcomes[1].epochs_run < runs[1].epochs
    _, alone = train(plan_chen, [runs[2]])
    assert np.array_equal(alone[0].weights["V"], outcomes[2].weights["V"])


def test_scalar_class_accuracy_rounds_to_the_nearest_class() -> None:
    spec = DataSpec("digits", 200, 100, target="scalar")
    split = load_split(spec)
    data = GroupTensors.from_splits([split, split], torch.float64, "cpu")
    # f(x) = a_0 relu(b_0) is a constant: 2.5 rounds (half to even) to 2; 11 is clipped to 9
    a = np.zeros((2, 4))
    a[:, 0] = [2.5, 11.0]
    hidden = np.zeros((2, 65, 4))
    hidden[:, 64, 0] = 1.0
    model = BatchedTwoLayerReLU(torch.as_tensor(a), torch.as_tensor(hidden))
    zero = torch.zeros(2, dtype=torch.float64)
    metrics = TwoLayerSGD(model, data, zero, zero, zero, classes=10).evaluate()
    expected = [np.mean(split.y_test == 2), np.mean(split.y_test == 9)]
    np.testing.assert_allclose(metrics["test"]["accuracy"].numpy(), expected)
    np.testing.assert_allclose(metrics["test"]["mse"].numpy(), [np.mean((2.5 - split.y_test) ** 2), np.mean((11 - split.y_test) ** 2)])


@pytest.mark.parametrize("loss", ["cross_entropy", "square"])
def test_deep_mlp_training_matches_torch_sgd(loss: str) -> None:
    runs = [ledent_run(seed=0, loss=loss), ledent_run(seed=1, loss=loss, weight_decay=0.0, lr=0.1)]
    plan, outcomes = train(plan_ledent, runs)
    split = load_split(runs[0].data)
    x, y = torch.as_tensor(split.x_train), torch.as_tensor(split.y_train)
    for run, initial, outcome in zip(runs, plan.initial_weights, outcomes):
        net = MLP([torch.as_tensor(initial[f"A{layer + 1}"]) for layer in range(run.depth)])
        optimizer = torch.optim.SGD(net.parameters(), lr=run.lr, weight_decay=run.weight_decay)
        for epoch in range(run.epochs):
            for batch in epoch_batches(run.seed, epoch, len(y), run.batch_size):
                optimizer.zero_grad()
                out = net(x[batch])
                if loss == "cross_entropy":
                    value = F.cross_entropy(out, y[batch])
                else:
                    value = (out - F.one_hot(y[batch], 10)).square().sum(dim=1).mean()
                value.backward()
                optimizer.step()
        for layer, weight in enumerate(net.layer_weights()):
            np.testing.assert_allclose(outcome.weights[f"A{layer + 1}"], weight.detach().numpy(), rtol=1e-12, atol=1e-14)
        assert outcome.history["train_accuracy"][-1] > outcome.history["train_accuracy"][0]


def test_oymak_gradient_descent_matches_the_closed_form_gradient() -> None:
    runs = [oymak_run(seed=0), oymak_run(seed=0, data=dataclasses.replace(oymak_run().data, label_noise=0.5))]
    plan, outcomes = train(plan_oymak, runs)
    for run, initial, outcome in zip(runs, plan.initial_weights, outcomes):
        split = load_split(run.data)
        X, Y = split.x_train, np.eye(10)[split.y_train]
        W, V = initial["W"].copy(), initial["V"]
        losses = []
        for _ in range(run.epochs):
            Z = X @ W.T
            R = np.log1p(np.exp(Z)) @ V.T - Y  # residual f(W) - y, sample-major
            losses.append(0.5 * np.sum(R**2))
            W -= run.lr * ((R @ V) / (1 + np.exp(-Z))).T @ X  # J(W)^T r with phi' = sigmoid
        np.testing.assert_allclose(outcome.weights["W"], W, rtol=1e-11, atol=1e-13)
        assert np.array_equal(outcome.weights["V"], V)  # fixed
        np.testing.assert_allclose(outcome.history["epoch_loss"], losses, rtol=1e-12)
    assert not np.array_equal(outcomes[0].weights["W"], outcomes[1].weights["W"])  # different labels


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"width": 0}, "width=0 violates width >= 1"),
        ({"batch_size": 1000}, "batch_size=1000 violates batch_size <= data.n_train = 160"),
        ({"mu_v": -1.0}, "mu_v=-1.0 violates mu_v >= 0"),
        ({"lr": 0}, "lr=0 violates lr > 0"),
        ({"lr_decay": 1.5}, "lr_decay=1.5 violates 0 < lr_decay <= 1"),
        ({"dtype": "float16"}, "dtype='float16' violates dtype in"),
        ({"epochs": 2.5}, "epochs=2.5 violates epochs >= 1"),
    ],
)
def test_run_spec_validation_names_key_value_and_condition(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        chen_run(**overrides)


def test_shipped_presets_describe_every_experiment() -> None:
    paper, quick = load_preset("paper"), load_preset("quick")
    expected = {"chen_california", "chen_mnist", "oymak", "ledent", "generalization_chen", "generalization_deep"}
    assert set(paper.experiments) == set(quick.experiments) == expected
    california = paper["chen_california"].runs
    assert {(r.width, r.data.n_train, r.data.n_test, r.lr_decay, r.lr_decay_every) for r in california} == {(8192, 1800, 600, 0.95, 200)}
    # equal epochs, and equal optimiser steps (epochs scaled by the steps per epoch, 1800 // B)
    steps = {(r.batch_size, r.epochs) for r in california if r.mu_v == 0.1}
    assert steps == {(B, 5000) for B in (8, 16, 32, 64, 128)} | {(8, 2489), (32, 10000), (64, 20000), (128, 40000)}
    assert all(r.dtype == "float64" and r.seed in (0, 1, 2) for r in california)
    assert sorted({r.mu_v for r in california if r.batch_size == 16}) == [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert sorted({r.batch_size for r in california}) == [8, 16, 32, 64, 128]
    mnist = paper["chen_mnist"].runs
    assert {(r.width, r.epochs, r.data.n_train, r.data.n_test) for r in mnist} == {(32768, 2000, 9000, 1000)}
    for name in ("chen_california", "chen_mnist", "oymak"):  # the claims are judged over three seeds
        assert {r.seed for r in paper[name].runs} == {r.seed for r in quick[name].runs} == {0, 1, 2}
    inert = [(name, r) for name in paper.experiments for r in paper[name].runs if any(d.inert for d in run_decay_resolutions(r))]
    assert inert == []  # every decay of the shipped presets is resolved by its dtype
    assert sorted({r.data.label_noise for r in paper["oymak"].runs}) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert {r.weight_decay > 0 for r in paper["ledent"].runs} == {False, True}
    for name in quick.experiments:  # quick keeps the protocol, reduces sizes
        assert {r.data.name for r in quick[name].runs} == {r.data.name for r in paper[name].runs}
        assert {getattr(r, "lr_decay") for r in quick[name].runs} == {getattr(r, "lr_decay") for r in paper[name].runs}


def test_sweeps_expand_as_products_and_deduplicate() -> None:
    document = tomllib.loads(
        """
        [e]
        kind = "chen"
        width = 8
        epochs = 1
        lr = 0.1
        data = { name = "diabetes", n_train = 100, n_test = 20 }
        [[e.sweep]]
        mu_v = [0.1, 0.2]
        batch_size = [10, 20]
        seed = [0, 1]
        [[e.sweep]]
        mu_v = [0.1]
        batch_size = [10, 50]
        """
    )
    runs = parse_preset(document, "doc")["e"].runs
    assert len(runs) == 8 + 1  # (0.1, 10, seed 0) is in both sweeps
    groups = plan_groups(list(runs), group_size=3)
    # batch sizes 10 and 20 hold 4 runs each (3 + 1 per group), 50 holds 1
    assert sorted(len(g) for g in groups) == [1, 1, 1, 3, 3]
    assert all(len({r.batch_size for r in g}) == 1 for g in groups)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[e]\nkind = "chen"\nwidth = 8\nepochs = 1\nlr = 0.1\nbatch_size = 4\nmu_v = 0.1\nwidht = 3\ndata = { name = "diabetes", n_train = 10, n_test = 5 }', r"\[e\] unknown key 'widht'"),
        ('[e]\nkind = "chen"\nwidth = 8\nepochs = 1\nlr = 0.1\nbatch_size = 4\ndata = { name = "diabetes", n_train = 10, n_test = 5 }\n[[e.sweep]]\nmu_v = 0.1', r"\[e\] sweep\[0\].mu_v=0.1 violates a non-empty list"),
        ('[e]\nkind = "chen"\nwidth = 8\nepochs = 1\nlr = 0.1\nbatch_size = 4\nmu_v = 0.1\ndata = { name = "diabetes", n_train = 10, n_test = 5, colour = 1 }', r"unknown key 'data.colour'"),
        ('[e]\nkind = "chen"\nwidth = -8\nepochs = 1\nlr = 0.1\nbatch_size = 4\nmu_v = 0.1\ndata = { name = "diabetes", n_train = 10, n_test = 5 }', r"\[e\] width=-8 violates width >= 1"),
        ('[e]\nkind = "resnet"', r"\[e\] kind='resnet' violates kind in"),
        ('[e]\nkind = "chen"\nwidth = 8\ndata = { name = "diabetes", n_train = 10, n_test = 5 }', r"incomplete run"),
    ],
)
def test_config_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_preset(tomllib.loads(text), "doc")


def test_preset_files_errors(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="a shipped preset"):
        load_preset("nonexistent")
    broken = tmp_path / "broken.toml"
    broken.write_text("[e\nkind=")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_preset(broken)


def test_equal_steps_sweep_scales_epochs_by_the_steps_per_epoch() -> None:
    def experiment(reference: int) -> dict:
        return {
            "kind": "chen", "width": 4, "epochs": 10, "lr": 1e-2, "data": {"name": "california", "n_train": 100, "n_test": 20},
            "sweep": [{"mu_v": [0.1], "batch_size": [5, 20, 40], "equal_steps_batch_size": reference}],
        }

    # B = 10 takes 100 // 10 = 10 steps per epoch, 100 in all; B = 5: 20 per epoch, 5 epochs; B = 20: 5, 20 epochs; B = 40: 2, 50 epochs
    preset = parse_preset({"e": experiment(10)}, "t")
    assert [(r.batch_size, r.epochs) for r in preset["e"].runs] == [(5, 5), (20, 20), (40, 50)]
    with pytest.raises(ValueError, match=r"sweep\[0\]\.equal_steps_batch_size=0 violates equal_steps_batch_size >= 1"):
        parse_preset({"e": experiment(0)}, "t")
