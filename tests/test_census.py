"""Gradient census (Chen et al. Assumption 2.5): closed forms against torch autograd and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats

from numerics.measures._census_kernel import QUAD, ROWS, TILE
from numerics.measures.census import (
    batch_gradient_norms,
    gaussian_comparator,
    gradient_census,
    per_sample_gradient_norms,
)


def make_net(N: int, n: int, m: int, seed: int, models: tuple[int, ...] = ()) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape: int, scale: float = 1.0) -> torch.Tensor:
        return scale * torch.randn(*shape, generator=generator, dtype=torch.float64)

    return {
        "a": draw(*models, m, scale=1 / math.sqrt(m)),
        "V": draw(*models, m, n, scale=1 / math.sqrt(n)),
        "b": draw(*models, m, scale=0.3),
        "X": draw(N, n),
        "y": draw(N),
    }


def autograd_gradient(net: dict[str, torch.Tensor], index, mu_V: float, loss_scale: float = 1.0) -> torch.Tensor:
    """grad_V of the batch loss plus mu_V V, by torch autograd (the reference implementation)."""
    V = net["V"].clone().requires_grad_(True)
    rows = torch.as_tensor(np.asarray(index))
    f = torch.relu(net["X"][rows] @ V.T + net["b"]) @ net["a"]
    loss = loss_scale * ((f - net["y"][rows]) ** 2).mean()
    (gradient,) = torch.autograd.grad(loss, V)
    return gradient + mu_V * net["V"]


def autograd_norm(net: dict[str, torch.Tensor], index, mu_V: float, loss_scale: float = 1.0) -> float:
    return float(torch.linalg.matrix_norm(autograd_gradient(net, index, mu_V, loss_scale)))


def epoch(N: int, B: int, seed: int) -> list[np.ndarray]:
    return np.array_split(np.random.default_rng(seed).permutation(N), range(B, N, B))


@pytest.mark.parametrize("loss_scale", [1.0, 0.5])
@pytest.mark.parametrize("mu_V", [0.0, 0.3])
def test_batch_norms_match_autograd(mu_V: float, loss_scale: float) -> None:
    net = make_net(N=53, n=5, m=17, seed=1)
    batches = epoch(53, 8, seed=2)  # six batches of 8 and a ragged batch of 5
    ours = batch_gradient_norms(**net, batches=batches, mu_V=mu_V, loss_scale=loss_scale)
    reference = [autograd_norm(net, batch, mu_V, loss_scale) for batch in batches]
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("mu_V", [0.0, 0.3])
def test_per_sample_norms_match_autograd(mu_V: float) -> None:
    net = make_net(N=40, n=4, m=23, seed=3)
    ours = per_sample_gradient_norms(**net, mu_V=mu_V)
    reference = [autograd_norm(net, [j], mu_V) for j in range(40)]
    np.testing.assert_allclose(ours, reference, rtol=1e-11, atol=1e-13)


def test_per_sample_gradients_have_rank_at_most_one() -> None:
    """Lemma 2.2: grad_V l_j = u_j x_j^T, so its Frobenius and spectral norms coincide."""
    net = make_net(N=30, n=6, m=12, seed=4)
    ours = per_sample_gradient_norms(**net, mu_V=0.0)
    for j in range(30):
        gradient = autograd_gradient(net, [j], mu_V=0.0)
        assert int(torch.linalg.matrix_rank(gradient)) <= 1
        assert ours[j] == pytest.approx(float(torch.linalg.matrix_norm(gradient, ord=2)), rel=1e-12, abs=1e-14)


def test_census_agrees_with_the_separate_passes() -> None:
    net = make_net(N=50, n=3, m=9, seed=5)
    batches = epoch(50, 7, seed=6)[:5]  # leaves samples out: they still get per-sample norms
    census = gradient_census(**net, batches=batches, mu_V=0.2)
    np.testing.assert_allclose(census.batch_norms, batch_gradient_norms(**net, batches=batches, mu_V=0.2), rtol=1e-13)
    per_sample = per_sample_gradient_norms(**net, mu_V=0.2)
    np.testing.assert_allclose(census.per_sample_norms, per_sample, rtol=1e-13)
    assert census.max_per_sample == pytest.approx(per_sample.max()) and census.min_per_sample == pytest.approx(per_sample.min())
    assert census.epsilon.method == "bracket" and census.epsilon.sampled_batches == 5


def brute_force_epsilon(net: dict[str, torch.Tensor], B: int, mu_V: float) -> float:
    N = net["X"].shape[0]
    return max(autograd_norm(net, list(subset), mu_V) for subset in itertools.combinations(range(N), B))


@pytest.mark.parametrize(("N", "B", "seed"), [(8, 3, 0), (9, 4, 1), (7, 6, 2), (6, 6, 3), (10, 2, 4), (9, 8, 5), (10, 7, 6), (11, 5, 7)])
def test_exact_epsilon_equals_brute_force_and_lies_in_the_bracket(N: int, B: int, seed: int) -> None:
    net = make_net(N=N, n=3, m=7, seed=seed)
    batches = epoch(N, B, seed=seed)
    census = gradient_census(**net, batches=batches, batch_size=B, mu_V=0.4, extra_batches=3, seed=seed)
    bracket = census.epsilon
    assert bracket.method == "enumeration"
    assert float(bracket.exact) == pytest.approx(brute_force_epsilon(net, B, 0.4), rel=1e-12)
    assert float(bracket.lower) <= float(bracket.exact) * (1 + 1e-12)
    assert float(bracket.exact) <= float(bracket.upper) * (1 + 1e-12)


def test_batch_size_one_gives_epsilon_exactly() -> None:
    net = make_net(N=12, n=2, m=5, seed=7)
    census = gradient_census(**net, batches=[[0], [5]], mu_V=0.1, enumeration_limit=0)
    assert census.epsilon.method == "batch_size_one"
    assert float(census.epsilon.exact) == pytest.approx(max(autograd_norm(net, [j], 0.1) for j in range(12)), rel=1e-12)


def test_without_enumeration_only_the_bracket_is_reported() -> None:
    net = make_net(N=30, n=3, m=6, seed=8)
    census = gradient_census(**net, batches=epoch(30, 5, seed=9), mu_V=0.1, enumeration_limit=10)
    bracket = census.epsilon
    assert bracket.method == "bracket" and bracket.exact is None
    assert bracket.batch_size == 5 and bracket.sampled_batches == 6
    assert float(bracket.lower) == pytest.approx(census.batch_norms.max())
    assert float(bracket.lower) <= float(bracket.upper)


def test_extra_random_batches_are_seeded_and_only_raise_the_lower_end() -> None:
    net = make_net(N=40, n=3, m=6, seed=10)
    batches = epoch(40, 4, seed=11)
    base = gradient_census(**net, batches=batches, mu_V=0.1, enumeration_limit=0)
    first = gradient_census(**net, batches=batches, mu_V=0.1, enumeration_limit=0, extra_batches=200, seed=3)
    again = gradient_census(**net, batches=batches, mu_V=0.1, enumeration_limit=0, extra_batches=200, seed=3)
    assert float(first.epsilon.lower) == float(again.epsilon.lower) >= float(base.epsilon.lower)
    assert first.epsilon.extra_batches == 200


def test_leading_model_dimension_matches_one_model_at_a_time() -> None:
    nets = make_net(N=31, n=4, m=10, seed=12, models=(3,))
    mu = torch.tensor([0.0, 0.1, 1.0], dtype=torch.float64)
    batches = epoch(31, 6, seed=13)
    census = gradient_census(**nets, batches=batches, mu_V=mu, extra_batches=5)
    assert census.batch_norms.shape == (3, len(batches)) and census.per_sample_norms.shape == (3, 31)
    for i in range(3):
        single = {"a": nets["a"][i], "V": nets["V"][i], "b": nets["b"][i], "X": nets["X"], "y": nets["y"]}
        one = gradient_census(**single, batches=batches, mu_V=float(mu[i]), extra_batches=5)
        np.testing.assert_allclose(census.batch_norms[i], one.batch_norms, rtol=1e-13)
        np.testing.assert_allclose(census.per_sample_norms[i], one.per_sample_norms, rtol=1e-13)
        assert census.epsilon.lower[i] == pytest.approx(float(one.epsilon.lower), rel=1e-13)


def test_row_vector_a_as_stored_by_nn_linear_is_accepted() -> None:
    net = make_net(N=10, n=3, m=4, seed=14)
    as_row = dict(net, a=net["a"][None, :])
    np.testing.assert_allclose(per_sample_gradient_norms(**as_row, mu_V=0.1), per_sample_gradient_norms(**net, mu_V=0.1))


def test_near_zero_pre_activations_are_counted() -> None:
    net = make_net(N=6, n=3, m=5, seed=15)
    net["b"][2] = -float(net["V"][2] @ net["X"][4])  # unit 2 sits exactly on its kink at sample 4
    net["b"][3] = -float(net["V"][3] @ net["X"][1]) + 1e-12
    census = gradient_census(**net, batches=[range(6)], mu_V=0.0, zero_tol=1e-9)
    pre_activations = (net["X"] @ net["V"].T + net["b"]).numpy()
    np.testing.assert_array_equal(census.near_zero_counts, (np.abs(pre_activations) < 1e-9).sum(axis=1))
    assert census.near_zero_counts[4] >= 1 and census.near_zero_counts[1] >= 1 and census.zero_tol == 1e-9


def test_gaussian_comparator_matches_the_reviewers_number() -> None:
    comparator = gaussian_comparator((8192, 8), std=0.1, seed=0)
    assert comparator.root_mean_square == pytest.approx(25.6, rel=1e-12)
    assert comparator.expected == pytest.approx(0.1 * stats.chi(8192 * 8).mean(), rel=1e-10)
    spread = 0.1 * stats.chi(8192 * 8).std()
    assert abs(comparator.sampled - comparator.expected) < 5 * spread
    assert gaussian_comparator((8192, 8), std=0.1, seed=0).sampled == comparator.sampled


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"b": torch.zeros(3)}, "b: expected shape"),
        ({"X": torch.zeros(5, 2)}, "X: expected 4 columns"),
        ({"y": torch.zeros(4)}, "y: expected 5 targets"),
        ({"V": torch.full((6, 4), float("nan"))}, "V: must be finite"),
    ],
)
def test_bad_shapes_raise_value_errors(change: dict[str, torch.Tensor], message: str) -> None:
    net = dict(make_net(N=5, n=4, m=6, seed=16), **change)
    with pytest.raises(ValueError, match=message):
        per_sample_gradient_norms(**net, mu_V=0.1)


def test_bad_batches_and_decay_raise_value_errors() -> None:
    net = make_net(N=5, n=2, m=3, seed=17)
    with pytest.raises(ValueError, match=r"batches: indices must lie in \[0, 5\)"):
        batch_gradient_norms(**net, batches=[[0, 5]], mu_V=0.1)
    with pytest.raises(ValueError, match="batches: must be a non-empty sequence"):
        batch_gradient_norms(**net, batches=[], mu_V=0.1)
    with pytest.raises(ValueError, match="batches: indices must be integers, got dtype bool"):
        batch_gradient_norms(**net, batches=[torch.tensor([0, 1]), torch.tensor([True, False])], mu_V=0.1)
    with pytest.raises(ValueError, match="batches: indices must be integers, got dtype float64"):
        batch_gradient_norms(**net, batches=[[0, 1], np.array([2.0])], mu_V=0.1)
    with pytest.raises(ValueError, match="mu_V: expected a scalar"):
        batch_gradient_norms(**net, batches=[[0]], mu_V=[0.1, 0.2])
    with pytest.raises(ValueError, match="batch_size: must be <= N"):
        gradient_census(**net, batches=[[0]], mu_V=0.1, batch_size=9)


def test_batches_of_any_integer_kind_give_the_same_norms() -> None:
    """Lists, NumPy arrays and tensors of mixed integer dtypes (joined by NumPy) and tensors of one dtype (torch.cat)."""
    net = make_net(N=9, n=3, m=5, seed=20)
    reference = batch_gradient_norms(**net, batches=[np.array([0, 4, 8]), np.array([1, 2]), np.array([3, 5, 6, 7])], mu_V=0.1)
    mixed = [[0, 4, 8], np.array([1, 2], dtype=np.int32), torch.tensor([3, 5, 6, 7], dtype=torch.uint64)]
    uniform = [torch.tensor(batch, dtype=torch.int16) for batch in ([0, 4, 8], [1, 2], [3, 5, 6, 7])]
    np.testing.assert_array_equal(batch_gradient_norms(**net, batches=mixed, mu_V=0.1), reference)
    np.testing.assert_array_equal(batch_gradient_norms(**net, batches=uniform, mu_V=0.1), reference)


def test_overflowing_terms_give_inf_not_nan() -> None:
    """With the loss derivative c_t beyond float64, the norm is inf, and no padding turns it into NaN."""
    net = {"a": np.full(5, 1e200), "V": np.ones((5, 3)), "b": np.zeros(5), "X": np.full((4, 3), 1e150), "y": np.zeros(4)}
    norms = batch_gradient_norms(**net, batches=[[0, 1], [2]], mu_V=0.1)
    assert np.all(np.isposinf(norms))


def census_at_scale(N: int, n: int, m: int, B: int, checked: int) -> None:
    """The census of a whole epoch against autograd on the first ``checked`` batches."""
    net = make_net(N=N, n=n, m=m, seed=18)
    batches = epoch(N, B, seed=19)
    census = gradient_census(**net, batches=batches, mu_V=1e-2)
    reference = [autograd_norm(net, batch, 1e-2) for batch in batches[:checked]]
    np.testing.assert_allclose(census.batch_norms[:checked], reference, rtol=1e-11)
    assert census.batch_norms.shape == (len(batches),)


def test_census_of_a_small_epoch() -> None:
    census_at_scale(N=200, n=8, m=64, B=16, checked=13)


@pytest.mark.parametrize(
    ("n", "m", "B"),
    [
        (3, TILE + 3, 9),
        (2, 2 * TILE, 16),
        (11, TILE - 1, 5),
        (1, 1, 1),
        (ROWS + 1, 3 * TILE + ROWS, ROWS + 1),
        (ROWS + QUAD, TILE, ROWS + 2),
    ],
)
def test_census_across_tile_and_block_edges(n: int, m: int, B: int) -> None:
    """Widths across the kernel's tile boundary; feature counts and batch sizes off its padding to QUAD."""
    census_at_scale(N=4 * B + 1, n=n, m=m, B=B, checked=5)


@pytest.mark.slow
def test_census_of_a_california_sized_epoch() -> None:
    """N = 1800, n = 8, width 8192, B = 16 (notes A.10)."""
    census_at_scale(N=1800, n=8, m=8192, B=16, checked=113)
