"""Generalization (issue item 5): measured gaps against every bound, on the same networks, at several N.

Two checks, each on the trained runs of one preset experiment:

* ``generalization.chen`` (experiment ``generalization_chen``): Chen et al.'s two-layer nets
  f = a relu(Vx + b) on California Housing at several n_train, a weak and a strong mu_V.
  Measured: the generalization error of the paper, |test MSE - train MSE| (notes-chen-oymak
  A.1, A.10). Bounds: ``chen2024.cor3_9`` [R~] form ``explicit`` (Proposition 3.6 with the
  pseudo-dimension of BHLM Theorem 6: the parameter-counting bound) and ``rate`` (unspecified
  C); ``chen2024.thm3_11`` [R~] (exactly rank-r V only, reviewer 1) at the paper's r = 2 on
  the trained net, and at r = the numerical rank k of V on the factorized truncation
  f_k = a relu(P(Qx) + b), P Q = V_k, which lies in F_{m,n,k} exactly.
* ``generalization.deep`` (experiment ``generalization_deep``): bias-free deep ReLU MLPs on an
  MNIST subset at several n_train. Measured: the test 0-1 error (the risk bounds) and the
  train/test 0-1 gap (the Ledent reproductions). Bounds: ``bartlett2017.margin_bound_explicit``
  [R+], ``neyshabur2018.thm1`` ``fixed_beta`` [R+], ``derived.schatten_network_cover`` [P] at
  p in SCHATTEN_P, ``ledent2025.thm3_6_repro`` / ``thm3_7_repro`` [T] (order statements:
  constants and logs hidden, so only their value is reported) at the same p.

Verdicts (checks/verdict.py): ``holds``, ``violated``, ``vacuous`` (holds only because the bound
exceeds its statement's ``trivial_above``: 1 for a risk, the loss range (2L)^2 for Chen) and
``inconclusive`` with the reason. Every record is one (network, statement, form[, p or r]).

Conventions (each record repeats those it uses):

* delta = 0.05 for every bound (CHOICE); the test-set estimate carries a two-sided Hoeffding
  half-width at the same delta, range x sqrt(ln(2/delta) / (2 n_test)); a verdict must
  survive it (so the statement's failure probability and the test set's add up to 2 delta).
* Margins: B17's M(v, y) = v_y - max_{i != y} v_i on the raw outputs; gamma = the 10th
  percentile of the training margins (rule "p10", numerics.measures.layers). gamma is a
  choice, passed exactly; the ramp risk is computed exactly at it (not only bounded by the
  fraction of margins <= gamma, which is reported too); the margin risk of Neyshabur et al. is
  the fraction of training margins <= gamma. A test point is an error when its margin is <= 0
  (ties count as errors).
* Reference matrices M_i = the initialisation A_i^0 (fixed before seeing the data), for b_i =
  ||(A_i - A_i^0)^T||_{2,1} (B17 orientation: sum over output units of the l2 norm of their
  incoming weights), R_i = ||A_i - A_i^0||_{S_p} and the Ledent rank proxy (the third-party
  script used M_i = 0). s_i = ||A_i||_sigma; X_norm = Frobenius norm of the training data;
  W = h = max width, input included; rho_i = 1 (ReLU, linear last layer).
* The fixed-class bounds (B17 explicit, Neyshabur fixed_beta, the network cover) are stated for
  a class (norm radii, margin, beta) fixed before seeing the data. Here they get measured norms
  and a data-chosen margin without the union bound over a grid of radii: standard practice in
  the empirical literature (Neyshabur's measures.py and Graf et al.'s code evaluate such bounds at
  the trained net's norms), and stated in every such record.
* Chen's L (Assumption 3.7, a uniform bound on |f| and |y| over the class) is replaced by
  max(|f(x)|, |y|) over the train and test rows of the measured network: a data-dependent
  proxy, not the uniform bound the statement assumes.

Float error. Weights are stored float32 and used exactly (as float64); everything is computed
in float64 (eps = 2^-52). Forward passes carry Higham's componentwise bound
|fl(Ah + c) - (Ah + c)| <= gamma_k (|A||h| + |c|), gamma_k = k eps / (1 - k eps) (twice Higham's,
which uses eps/2), propagated through the layers (ReLU is 1-Lipschitz) and inflated by 1% for
the rounding of the bound itself. Singular values follow LAPACK's error model
|sigma_hat_i - sigma_i| <= max(m, n) eps sigma_1 (a model, not a proof: LAPACK Users' Guide
§4.9 has a "modest" p(m, n) there), plus eps ||D||_F for the float64 difference D = A - A^0.
Sums of k nonnegative terms are widened by gamma_{k+4}. Each measured parameter is an
:class:`Interval`; every bound here is non-decreasing in every measured parameter (s_i, b_i,
R_i, ||A_i||_F, X_norm, ramp / margin risk, L: checked on the formulas, e.g. for B17
d/ds_k [prod s (sum (b/s)^(2/3))^(3/2)] >= 0), so ``bound_lower`` is the certified lower end at
the corner of all lower ends and ``bound_upper`` the upper end at the corner of all upper ends.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np

import derivations
from checks.context import CheckContext
from checks.measurements import training_problem
from checks.registry import Check
from checks.verdict import Verdict, compare_to_bound
from numerics.data import Split
from numerics.data.spec import POOLS
from numerics.data.splits import PIXEL_MAX
from numerics.evaluation import ParameterError, evaluate
from numerics.evaluation.digits import certified_digits
from numerics.evaluation.vacuity import threshold, vacuity
from numerics.measures.layers import NORM_2_1_ORIENTATION, MARGIN_RULES, data_norms, layer_norms, margin_statistic, multiclass_margins
from numerics.measures.spectral import eckart_young_distance, numerical_rank, spectrum, stable_rank
from numerics.training.experiments import RunResult
from numerics.training.specs import LedentRun

DataDir = str | os.PathLike[str] | None

CHEN_EXPERIMENT = "generalization_chen"
DEEP_EXPERIMENT = "generalization_deep"
#: failure probability of every bound and of the test-set interval (CHOICE)
DELTA = Fraction(1, 20)
#: certified digits asked of the evaluator
DPS = 20
#: the margin rule (numerics.measures.layers.MARGIN_RULES)
MARGIN_RULE = "p10"
#: Schatten exponents of the network cover and the Ledent reproductions (CHOICE)
SCHATTEN_P = (0.5, 1.0, 1.5)
#: Chen et al.'s rank under Assumption 2.3 (Theorem 3.11)
PAPER_RANK = 2
EPS = float(np.finfo(np.float64).eps)
#: the float error bounds are themselves computed in floating point: inflate them by 1%
ERROR_BOUND_SAFETY = 1.01
#: rows per chunk of a forward pass (bounds memory at paper scale)
FORWARD_CHUNK_ROWS = 1024

FIXED_CLASS_CAVEAT = "fixed-class bound applied with measured norms and a data-chosen margin: no union bound over a grid (standard practice)"
FLOAT_MODEL = (
    "weights float32 used exactly, computation in float64; forward passes: componentwise gamma_k (|A||h| + |c|) bound, "
    "gamma_k = k eps/(1 - k eps); singular values: |error| <= max(m, n) eps sigma_1 (LAPACK model) + eps ||A - A0||_F; "
    "sums of k terms widened by gamma_{k+4}"
)
BOUND_ENCLOSURE = (
    "bound_lower: certified lower end at params_low (every measured parameter at the low end of its float-error interval; "
    "the bound is non-decreasing in each), bound_upper: certified upper end at params_high"
)


# ---------------------------------------------------------------------------------- float error
def rounding_factor(terms: int) -> float:
    """gamma_k = k eps / (1 - k eps): relative error of a k-term float64 sum or dot product."""
    return terms * EPS / (1.0 - terms * EPS)


@dataclass(frozen=True)
class Interval:
    """A float ``value`` and an enclosure ``[low, high]`` of the exact quantity it approximates."""

    value: float
    low: float
    high: float

    @property
    def error(self) -> float:
        return max(self.value - self.low, self.high - self.value)


def enclose(value: float, low: float, high: float, terms: int) -> Interval:
    """``[low, high]`` widened by gamma_{terms+4} for the rounding of the float computations behind it."""
    widen = rounding_factor(terms + 4)
    return Interval(float(value), float(low - widen * abs(low)), float(high + widen * abs(high)))


def difference(a: Interval, b: Interval) -> Interval:
    """a - b."""
    return enclose(a.value - b.value, a.low - b.high, a.high - b.low, terms=1)


def absolute_difference(a: Interval, b: Interval) -> Interval:
    """|a - b|."""
    d = difference(a, b)
    low = 0.0 if d.low <= 0.0 <= d.high else min(abs(d.low), abs(d.high))
    return Interval(abs(d.value), low, max(abs(d.low), abs(d.high)))


def fraction_interval(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> Interval:
    """Fractions of rows satisfying a condition: as computed, surely, possibly (boolean arrays)."""
    n = len(value)
    return enclose(np.count_nonzero(value) / n, np.count_nonzero(low) / n, np.count_nonzero(high) / n, terms=1)


def mean_interval(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> Interval:
    """Means of nonnegative per-row values: computed, per-row lower and upper ends (each row's own
    rounding, a few eps absolute at most, is covered by 4 eps times the largest row)."""
    slack = 4 * EPS * float(np.max(high))
    return enclose(float(np.mean(value)), float(np.mean(low)) - slack, float(np.mean(high)) + slack, terms=len(value) + 2)


# ------------------------------------------------------------------------ forward pass with error
@dataclass(frozen=True)
class Layer:
    """x -> matrix x + bias, then ReLU if ``relu``; ``matrix`` is (out, in)."""

    matrix: np.ndarray
    bias: np.ndarray | None = None
    relu: bool = False


@dataclass(frozen=True)
class Forward:
    """Computed outputs, a componentwise bound on their float error, and each layer's largest input norm."""

    outputs: np.ndarray
    error: np.ndarray
    max_input_norms: tuple[float, ...]


def _forward_chunk(x: np.ndarray, layers: Sequence[Layer]) -> tuple[np.ndarray, np.ndarray, list[float]]:
    h, error, norms = x, np.zeros_like(x), []
    for layer in layers:
        norms.append(float(np.linalg.norm(h, axis=1).max()))
        magnitude = np.abs(layer.matrix)
        z, scale, terms = h @ layer.matrix.T, np.abs(h) @ magnitude.T, layer.matrix.shape[1]
        if layer.bias is not None:
            z, scale, terms = z + layer.bias, scale + np.abs(layer.bias), terms + 1
        propagated = error @ magnitude.T if error.any() else 0.0
        error = (propagated + rounding_factor(terms) * scale) * ERROR_BOUND_SAFETY
        h = np.maximum(z, 0.0) if layer.relu else z
    return h, error, norms


def forward_with_error(x: np.ndarray, layers: Sequence[Layer]) -> Forward:
    """The network's outputs on the rows of ``x`` with Higham's componentwise error bound."""
    x = np.asarray(x, dtype=np.float64)
    chunks = [_forward_chunk(x[start : start + FORWARD_CHUNK_ROWS], layers) for start in range(0, len(x), FORWARD_CHUNK_ROWS)]
    norms = tuple(max(chunk[2][index] for chunk in chunks) for index in range(len(layers)))
    return Forward(np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]), norms)


# ------------------------------------------------------------------------------------- the split
@dataclass(frozen=True)
class SplitFacts:
    """Whether the test rows are disjoint from the training rows, and how well they estimate a risk."""

    n_train: int
    n_test: int
    separate_pools: bool  #: MNIST: training and test subsets come from the official train / test sets
    overlapping_indices: int  #: same-pool splits: test indices that are also training indices (must be 0)
    identical_rows: int  #: test inputs equal to some training input (legitimate i.i.d. duplicates)

    @property
    def disjoint(self) -> bool:
        return self.overlapping_indices == 0

    def halfwidth(self, loss_range: float) -> float:
        """Two-sided Hoeffding half-width of a test-set mean of losses in [0, loss_range], at DELTA."""
        return loss_range * math.sqrt(math.log(2 / DELTA) / (2 * self.n_test))

    def describe(self, dataset: str) -> str:
        overlap = "indices disjoint" if self.disjoint else f"{self.overlapping_indices} indices shared with training"
        source = "official test set (a separate pool)" if self.separate_pools else f"held-out rows of the same pool, {overlap}"
        return f"test set of {self.n_test} {dataset} rows from the {source}; {self.identical_rows} test inputs equal a training input"


def _row_digest(row: np.ndarray) -> bytes:
    return hashlib.blake2b(row.tobytes(), digest_size=16).digest()


def split_facts(split: Split, dataset: str) -> SplitFacts:
    separate = POOLS[dataset].test_rows is not None
    overlap = 0 if separate else len(np.intersect1d(split.train_indices, split.test_indices))
    train_rows = {_row_digest(row) for row in np.ascontiguousarray(split.x_train)}
    identical = sum(_row_digest(row) in train_rows for row in np.ascontiguousarray(split.x_test))
    return SplitFacts(len(split.x_train), len(split.x_test), separate, overlap, identical)


# ------------------------------------------------------------------------------ bound enclosures
@dataclass(frozen=True)
class BoundEnclosure:
    """A bound's certified value over the float-error box of its measured parameters."""

    lower: float
    upper: float
    digits: str
    vacuous: bool | None  #: None: the enclosure straddles the trivial threshold
    threshold: float | None  #: the statement's trivial_above at params_low (None: none declared)
    params_low: dict[str, Any]
    params_high: dict[str, Any]


def _corner(value: Any, side: str) -> Any:
    if isinstance(value, list):
        return [_corner(item, side) for item in value]
    if isinstance(value, Interval):
        return value.low if side == "low" else value.high
    return value


def nominal(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as measured (intervals replaced by their float values)."""
    pick = lambda v: [pick(i) for i in v] if isinstance(v, list) else (v.value if isinstance(v, Interval) else v)  # noqa: E731
    return {name: pick(value) for name, value in params.items()}


def params_error(params: Mapping[str, Any]) -> dict[str, Any]:
    """The float error of each measured parameter."""
    errors = {}
    for name, value in params.items():
        if isinstance(value, Interval):
            errors[name] = value.error
        elif isinstance(value, list) and value and isinstance(value[0], Interval):
            errors[name] = [item.error for item in value]
    return errors


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: str(value) if isinstance(value, Fraction) else value for name, value in params.items()}


def bound_enclosure(statement_id: str, form: str, params: Mapping[str, Any]) -> BoundEnclosure:
    """Certified enclosure of a bound at the two corners of its parameters' error box.

    Raises :class:`ParameterError` when a corner leaves the statement's domain.
    """
    low_params = {name: _corner(value, "low") for name, value in params.items()}
    high_params = {name: _corner(value, "high") for name, value in params.items()}
    low = evaluate(statement_id, low_params, dps=DPS, form=form)
    high = low if high_params == low_params else evaluate(statement_id, high_params, dps=DPS, form=form)
    surely, possibly = vacuity(low), vacuity(high)
    vacuous = True if surely else (False if possibly is False else None)
    limit = threshold(low)
    return BoundEnclosure(
        lower=math.nextafter(float(low.enclosure.lower), -math.inf),
        upper=math.nextafter(float(high.enclosure.upper), math.inf),
        digits=certified_digits(low.enclosure.lower, high.enclosure.upper, DPS),
        vacuous=vacuous,
        threshold=None if limit is None else float(limit),
        params_low=_jsonable(low_params),
        params_high=_jsonable(high_params),
    )


def decide(measured: Interval, halfwidth: float, bound: BoundEnclosure) -> tuple[str, str]:
    """Verdict of ``measured <= bound`` with the float error and the test-set half-width as the margin."""
    if bound.vacuous is None:
        return "inconclusive", f"the bound's enclosure [{bound.lower:.6g}, {bound.upper:.6g}] straddles its trivial threshold {bound.threshold:.6g}"
    margin = measured.error + halfwidth
    verdict, _ = compare_to_bound(measured.value, bound.lower, bound.upper, measured_error=margin, vacuous=bound.vacuous)
    error = f"float error {measured.error:.2g} + test-set half-width {halfwidth:.2g}"
    reasons = {
        "holds": f"measured {measured.value:.6g} ({error}) <= bound {bound.lower:.6g}",
        "vacuous": f"measured {measured.value:.6g} <= bound {bound.lower:.6g}, but the bound exceeds the trivial range {bound.threshold:.6g}",
        "violated": f"measured {measured.value:.6g} ({error}) > bound {bound.upper:.6g}",
        "inconclusive": f"measured {measured.value:.6g} is within {margin:.2g} ({error}) of the bound [{bound.lower:.6g}, {bound.upper:.6g}]",
    }
    return verdict, reasons[verdict]


# ------------------------------------------------------------------------------------ records
@dataclass(frozen=True)
class Network:
    """Which trained network a record is about (``name`` without N: a family's records differ in ``n_train``)."""

    name: str
    n_train: int
    run_key: str
    coverage: str
    details: Mapping[str, object] = field(default_factory=dict)


def record(
    check: str,
    statement_id: str,
    form: str,
    network: Network,
    *,
    params: Mapping[str, Any],
    measured: Interval | None,
    verdict: str,
    reason: str,
    bound: BoundEnclosure | None,
    conventions: Mapping[str, str],
    details: Mapping[str, object],
) -> Verdict:
    """One record: the form's tag, the measured values with their float errors, the enclosure."""
    statement = derivations.get(statement_id)
    bound_details = {} if bound is None else {"params_low": bound.params_low, "params_high": bound.params_high, "trivial_above": bound.threshold}
    return Verdict(
        statement=statement_id,
        check=check,
        verdict=verdict,
        reason=reason,
        measured=None if measured is None else measured.value,
        measured_error=0.0 if measured is None else measured.error,
        bound_lower=None if bound is None else bound.lower,
        bound_upper=None if bound is None else bound.upper,
        bound_digits="" if bound is None else bound.digits,
        form=form,
        tag=statement.tag_of(form),
        kind="theorem",
        params=_jsonable(nominal(params)),
        conventions={"float error": FLOAT_MODEL, "bound enclosure": BOUND_ENCLOSURE, **conventions},
        coverage=network.coverage,
        details={
            "network": network.name,
            "n_train": network.n_train,
            "run_key": network.run_key,
            **network.details,
            "params_error": params_error(params),
            **bound_details,
            **details,
        },
    )


def bound_record(
    check: str,
    statement_id: str,
    form: str,
    network: Network,
    params: Mapping[str, Any],
    measured: Interval,
    halfwidth: float,
    *,
    caveat: str,
    conventions: Mapping[str, str],
    details: Mapping[str, object],
) -> Verdict:
    """A bound confronted with a measured quantity; ``caveat`` is appended to the reason."""
    try:
        bound = bound_enclosure(statement_id, form, params)
    except ParameterError as error:
        verdict, reason, bound = "inconclusive", f"the measured parameters leave the statement's domain: {error}", None
    else:
        verdict, reason = decide(measured, halfwidth, bound)
    return record(
        check, statement_id, form, network, params=params, measured=measured, verdict=verdict,
        reason=f"{reason}; {caveat}" if caveat else reason, bound=bound, conventions=conventions,
        details={"test_halfwidth": halfwidth, **details},
    )


def unusable_records(check: str, statement_ids: Iterable[str], network: Network, reason: str) -> list[Verdict]:
    """One inconclusive record per statement for a network that cannot be measured."""
    return [
        record(check, sid, derivations.get(sid).form().name, network, params={}, measured=None, verdict="inconclusive",
               reason=reason, bound=None, conventions={}, details={})
        for sid in statement_ids
    ]


def missing_experiment(check: str, statement_ids: Iterable[str], context: CheckContext, experiment: str) -> list[Verdict]:
    network = Network(name="(none)", n_train=0, run_key="", coverage="no networks")
    reason = f"the preset {context.preset.name!r} has no experiment {experiment!r} (numerics/training/presets)"
    return unusable_records(check, statement_ids, network, reason)


def run_problem(run: RunResult, facts: SplitFacts) -> str | None:
    """Why a run's records cannot be decided, or None."""
    problem = training_problem(run)
    if problem:
        return problem
    if not facts.disjoint:
        return f"{facts.overlapping_indices} test indices are also training indices: the test error does not estimate the risk"
    return None


def _network(run: RunResult, name: str, facts: SplitFacts, layers: int) -> Network:
    spec = run.spec
    return Network(
        name=name,
        n_train=spec.data.n_train,
        run_key=run.key,
        coverage=f"all {layers} weight layers; n_train = {facts.n_train}; {facts.describe(spec.data.name)}",
        details={"experiment": run.experiment, "n_test": facts.n_test, "test_identical_rows": facts.identical_rows},
    )


# ------------------------------------------------------------------------------- Chen et al.
CHEN_CHECK = "generalization.chen"
CHEN_STATEMENTS = ("chen2024.cor3_9", "chen2024.thm3_11")


@dataclass(frozen=True)
class RegressionFit:
    """Square-loss measurements of one network on its split."""

    train_mse: Interval
    test_mse: Interval
    gap: Interval  #: |test MSE - train MSE|, the generalization error of the paper
    L: Interval  #: max |f(x)|, |y| over train and test: the data-dependent proxy of Assumption 3.7


def _mse(forward: Forward, y: np.ndarray) -> Interval:
    f, e = forward.outputs[:, 0], forward.error[:, 0]
    residual = np.abs(f - y)
    slack = e + EPS * residual
    return mean_interval(residual**2, np.maximum(residual - slack, 0.0) ** 2, (residual + slack) ** 2)


def regression_fit(layers: Sequence[Layer], split: Split) -> RegressionFit:
    train, test = forward_with_error(split.x_train, layers), forward_with_error(split.x_test, layers)
    train_mse, test_mse = _mse(train, split.y_train), _mse(test, split.y_test)
    outputs = np.concatenate([train.outputs[:, 0], test.outputs[:, 0]])
    errors = np.concatenate([train.error[:, 0], test.error[:, 0]])
    labels = float(max(np.abs(split.y_train).max(), np.abs(split.y_test).max()))
    L = enclose(
        max(float(np.abs(outputs).max()), labels),
        max(float((np.abs(outputs) - errors).max()), labels),
        max(float((np.abs(outputs) + errors).max()), labels),
        terms=1,
    )
    return RegressionFit(train_mse, test_mse, absolute_difference(test_mse, train_mse), L)


def chen_layers(weights: Mapping[str, np.ndarray]) -> list[Layer]:
    """f(x) = a relu(Vx + b) (Chen et al. Eq. 4)."""
    a, V, b = (np.asarray(weights[key], dtype=np.float64) for key in ("a", "V", "b"))
    return [Layer(V, b, relu=True), Layer(a[None, :])]


def truncated_layers(weights: Mapping[str, np.ndarray], rank: int) -> list[Layer]:
    """f_k(x) = a relu(P(Qx) + b) with P Q = V_k, the best rank-k approximation: exactly in F_{m,n,k}."""
    a, V, b = (np.asarray(weights[key], dtype=np.float64) for key in ("a", "V", "b"))
    U, sigma, Wt = np.linalg.svd(V, full_matrices=False)
    return [Layer(Wt[:rank]), Layer(U[:, :rank] * sigma[:rank], b, relu=True), Layer(a[None, :])]


def chen_conventions(rank_note: str = "") -> dict[str, str]:
    conventions = {
        "delta": f"{DELTA} (CHOICE)",
        "measured": "|test MSE - train MSE| (Chen et al.'s generalization error), square loss, computed in float64",
        "L": "max(|f(x)|, |y|) over the train and test rows of the measured network: a data-dependent proxy, not the uniform bound the statement assumes (Assumption 3.7)",
        "test half-width": "Hoeffding for losses in [0, (2L)^2] at delta, L at its upper end",
        "trivial range": "the loss range (2L)^2: a larger bound says nothing",
    }
    if rank_note:
        conventions["rank"] = rank_note
    return conventions


def _rank_facts(V: np.ndarray) -> tuple[int, dict[str, object], str]:
    """Numerical rank of V (numpy's default tolerance for its stored dtype), its spectrum and Eckart-Young tails."""
    numeric = numerical_rank(V)
    sigma = spectrum(V).sigma
    facts = {
        "numerical_rank": numeric.rank,
        "rank_tolerance": numeric.tolerance,
        "singular_values": sigma.tolist(),
        "stable_rank": stable_rank(V),
        f"eckart_young_tail_r{PAPER_RANK}": eckart_young_distance(V, PAPER_RANK),
        "eckart_young_tail_numerical_rank": eckart_young_distance(V, numeric.rank),
    }
    return numeric.rank, facts, f"numerical rank #{{sigma_i > tol}}, {numeric.rule}"


def _rate_record(
    network: Network, statement_id: str, params: dict[str, Any], measured: Interval, note: str, conventions: Mapping[str, str], details: Mapping[str, object]
) -> Verdict:
    """The paper's rate with its unspecified C: no verdict, only the smallest C the measurement allows."""
    bound = bound_enclosure(statement_id, "rate", {**params, "C": 1})
    c_star = Interval(measured.value / (0.5 * (bound.lower + bound.upper)), measured.low / bound.upper, measured.high / bound.lower)
    reason = (
        f"the rate hides an unspecified constant C (never invented here): the measured gap {measured.value:.4g} lies below "
        f"C x rate for every C >= C* = {c_star.value:.4g} (C* in [{c_star.low:.4g}, {c_star.high:.4g}]), and only a C < C* "
        f"would be contradicted; rate at C = 1: {bound.lower:.6g}{note}"
    )
    return record(
        CHEN_CHECK, statement_id, "rate", network, params={**params, "C": 1}, measured=measured, verdict="inconclusive",
        reason=reason, bound=bound, conventions=conventions,
        details={"C_star": c_star.value, "C_star_low": c_star.low, "C_star_high": c_star.high, **details},
    )


def chen_records(run: RunResult, data_dir: DataDir) -> list[Verdict]:
    """All Chen-side records of one trained two-layer net."""
    spec = run.spec
    split = run.split(data_dir)
    facts = split_facts(split, spec.data.name)
    name = f"chen {spec.data.name} m={spec.width} mu_V={spec.mu_v:g} seed={spec.seed}"
    network = _network(run, name, facts, layers=2)
    problem = run_problem(run, facts)
    if problem:
        return unusable_records(CHEN_CHECK, CHEN_STATEMENTS, network, problem)
    fit = regression_fit(chen_layers(run.weights), split)
    base = {"m": spec.width, "n": spec.data.inputs, "N": spec.data.n_train, "L": fit.L, "delta": DELTA}
    halfwidth = facts.halfwidth((2 * fit.L.high) ** 2)
    fit_details = {"instance": "trained net", "train_mse": fit.train_mse.value, "test_mse": fit.test_mse.value, "mu_V": spec.mu_v}
    rank, rank_details, rank_rule = _rank_facts(run.weights["V"])
    network = replace(network, details={**network.details, **rank_details})
    records = [
        bound_record(
            CHEN_CHECK, "chen2024.cor3_9", "explicit", network, base, fit.gap, halfwidth,
            caveat="parameter counting (Pdim from BHLM Theorem 6) with L a data-dependent proxy, not the uniform bound the statement assumes",
            conventions=chen_conventions(), details=fit_details,
        ),
        _rate_record(network, "chen2024.cor3_9", base, fit.gap, "", chen_conventions(), fit_details),
        _paper_rank_record(network, base, fit.gap, halfwidth, rank, rank_rule, fit_details),
        _rate_record(network, "chen2024.thm3_11", {**base, "r": PAPER_RANK}, fit.gap, _paper_rank_note(rank), chen_conventions(rank_rule), fit_details),
        _numerical_rank_record(run, split, facts, network, rank, rank_rule, fit.gap.value),
    ]
    return records


def _paper_rank_note(rank: int) -> str:
    if rank <= PAPER_RANK:
        return f"; hypothesis (V exactly rank <= {PAPER_RANK}) met up to the rank tolerance (numerical rank {rank})"
    return f"; hypothesis fails: V is not rank <= {PAPER_RANK} (numerical rank {rank})"


def _paper_rank_record(
    network: Network, base: dict[str, Any], gap: Interval, halfwidth: float, rank: int, rank_rule: str, details: Mapping[str, object]
) -> Verdict:
    """Theorem 3.11 at the paper's r = 2 on the trained net: decided only when V is (numerically) rank <= 2."""
    params = {**base, "r": PAPER_RANK}
    conventions = chen_conventions(rank_rule)
    caveat = "L a data-dependent proxy" + _paper_rank_note(rank)
    if rank <= PAPER_RANK:
        return bound_record(CHEN_CHECK, "chen2024.thm3_11", "explicit", network, params, gap, halfwidth,
                            caveat=caveat + " (the statement needs exact rank)", conventions=conventions, details=details)
    bound = bound_enclosure("chen2024.thm3_11", "explicit", params)
    reason = (
        f"Theorem 3.11 applies only to exactly rank-{PAPER_RANK} V (reviewer 1); the trained V has numerical rank {rank} "
        f"(sigma_{PAPER_RANK + 1}/sigma_1 = {network.details['singular_values'][PAPER_RANK] / network.details['singular_values'][0]:.3g}), "
        f"so the bound {bound.lower:.6g} is not a statement about this net (measured gap {gap.value:.4g})"
    )
    return record(CHEN_CHECK, "chen2024.thm3_11", "explicit", network, params=params, measured=gap, verdict="inconclusive",
                  reason=reason, bound=bound, conventions=conventions, details={"test_halfwidth": halfwidth, **details})


def _numerical_rank_record(
    run: RunResult, split: Split, facts: SplitFacts, network: Network, rank: int, rank_rule: str, trained_gap: float
) -> Verdict:
    """Theorem 3.11 at r = the numerical rank k, on f_k (exactly in F_{m,n,k}); r is chosen from the data,
    so delta is split over r = 1..min(m, n) (union bound)."""
    spec = run.spec
    rank_cap = min(spec.width, spec.data.inputs)
    layers = chen_layers(run.weights) if rank == rank_cap else truncated_layers(run.weights, rank)
    fit = regression_fit(layers, split)
    params = {"m": spec.width, "n": spec.data.inputs, "r": rank, "N": spec.data.n_train, "L": fit.L, "delta": DELTA / rank_cap}
    instance = "trained net (rank cap min(m, n))" if rank == rank_cap else f"rank-{rank} truncation f_k = a relu(P(Qx) + b), PQ = V_{rank}"
    details = {
        "instance": instance,
        "train_mse": fit.train_mse.value,
        "test_mse": fit.test_mse.value,
        "gap_of_trained_net": trained_gap,
        "mu_V": spec.mu_v,
    }
    conventions = {**chen_conventions(rank_rule), "union bound": f"r chosen from the data: delta / min(m, n) = {DELTA / rank_cap}"}
    return bound_record(
        CHEN_CHECK, "chen2024.thm3_11", "explicit", network, params, fit.gap, facts.halfwidth((2 * fit.L.high) ** 2),
        caveat=f"measured on {instance}, which lies in F_(m,n,{rank}) exactly; L a data-dependent proxy",
        conventions=conventions, details=details,
    )


def check_chen(context: CheckContext) -> list[Verdict]:
    """``generalization.chen``: Cor 3.9 and Thm 3.11 on every net of ``generalization_chen`` (computed once per context)."""
    if not context.has_experiment(CHEN_EXPERIMENT):
        return missing_experiment(CHEN_CHECK, CHEN_STATEMENTS, context, CHEN_EXPERIMENT)
    compute = lambda: [verdict for run in context.runs(CHEN_EXPERIMENT) for verdict in chen_records(run, context.data_dir)]  # noqa: E731
    return list(context.memo((CHEN_CHECK,), compute))


# ------------------------------------------------------------------------------ deep networks
DEEP_CHECK = "generalization.deep"
DEEP_STATEMENTS = (
    "bartlett2017.margin_bound_explicit",
    "neyshabur2018.thm1",
    "derived.schatten_network_cover",
    "ledent2025.thm3_6_repro",
    "ledent2025.thm3_7_repro",
)


@dataclass(frozen=True)
class LayerMeasures:
    """Norms of one trained layer A (torch (out, in)) and of A - A^0, as float-error intervals."""

    shape: tuple[int, int]
    spectral: Interval  #: ||A||_sigma
    frobenius: Interval  #: ||A||_F
    norm_2_1: Interval  #: ||(A - A^0)^T||_{2,1}
    schatten_distance: dict[float, Interval]  #: ||A - A^0||_{S_p}
    rank_proxy: dict[float, float]  #: ||A - A^0||_{S_p}^p / ||A||_sigma^p (the Ledent script's r_p)


def _schatten_interval(value: float, sigma: np.ndarray, delta: float, p: float) -> Interval:
    """||.||_{S_p} from singular values known to +-delta each (it is non-decreasing in every sigma_i)."""
    low = np.sum(np.maximum(sigma - delta, 0.0) ** p) ** (1 / p)
    high = np.sum((sigma + delta) ** p) ** (1 / p)
    return enclose(value, low, high, terms=math.ceil((len(sigma) + 4) / p))


def layer_measures(A: np.ndarray, A0: np.ndarray, ps: Sequence[float]) -> LayerMeasures:
    (norms,) = layer_norms([A], [A0], p=ps)
    m, n = norms.shape
    D = np.asarray(A, dtype=np.float64) - np.asarray(A0, dtype=np.float64)
    sigma_A, sigma_D = spectrum(A).sigma, spectrum(D).sigma
    delta_A = max(m, n) * EPS * sigma_A[0]
    delta_D = max(m, n) * EPS * sigma_D[0] + EPS * norms.frobenius_distance
    return LayerMeasures(
        shape=(m, n),
        spectral=enclose(norms.spectral_norm, sigma_A[0] - delta_A, sigma_A[0] + delta_A, terms=0),
        frobenius=enclose(norms.frobenius_norm, norms.frobenius_norm, norms.frobenius_norm, terms=m * n + 2),
        norm_2_1=enclose(norms.norm_2_1, norms.norm_2_1, norms.norm_2_1, terms=m + n + 2),
        schatten_distance={p: _schatten_interval(norms.schatten_distance[p], sigma_D, delta_D, p) for p in ps},
        rank_proxy={p: norms.schatten_distance[p] ** p / norms.spectral_norm**p for p in ps},
    )


@dataclass(frozen=True)
class MarginFit:
    """Margin and 0-1 measurements of one classifier on its split, at the margin ``gamma`` of MARGIN_RULE."""

    gamma: float
    ramp_risk: Interval  #: mean of clip(1 - M/gamma, 0, 1) over the training set
    margin_risk: Interval  #: fraction of training margins <= gamma (upper-bounds the ramp risk)
    train_error: Interval  #: fraction of training margins <= 0
    test_error: Interval  #: fraction of test margins <= 0


def margins_with_error(forward: Forward, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """B17 margins M(f(x), y) and a bound on their float error, 2 max_i e_i + eps |M|."""
    margins = multiclass_margins(forward.outputs, labels)
    return margins, 2 * forward.error.max(axis=1) + EPS * np.abs(margins)


def _below(margins: np.ndarray, errors: np.ndarray, level: float) -> Interval:
    """Fraction of margins <= level: computed, surely, possibly."""
    return fraction_interval(margins <= level, margins + errors <= level, margins - errors <= level)


def margin_fit(train: Forward, test: Forward, split: Split) -> MarginFit:
    margins, errors = margins_with_error(train, split.y_train)
    test_margins, test_errors = margins_with_error(test, split.y_test)
    gamma = margin_statistic(margins, MARGIN_RULE).value
    ramp = lambda m: np.clip(1 - m / gamma, 0.0, 1.0)  # noqa: E731 - B17's l_gamma(-M)
    return MarginFit(
        gamma=gamma,
        ramp_risk=mean_interval(ramp(margins), ramp(margins + errors), ramp(margins - errors)),
        margin_risk=_below(margins, errors, gamma),
        train_error=_below(margins, errors, 0.0),
        test_error=_below(test_margins, test_errors, 0.0),
    )


@dataclass(frozen=True)
class DeepMeasures:
    """Everything the deep-network bounds take, measured on one trained MLP."""

    sizes: list[int]  #: d_0 .. d_L
    layers: list[LayerMeasures]
    X_norm: Interval  #: Frobenius norm of the training data
    max_input_norm: float  #: max_j ||x_j|| over the training set (the Ledent script's B)
    layer_input_norms: tuple[float, ...]  #: max norm of each layer's input over the training set
    input_domain_bound: float  #: ||x|| <= this for every input of the domain (Neyshabur's B)
    margins: MarginFit


def input_domain_bound(spec: LedentRun) -> float:
    """A bound on ||x|| over the whole input domain: 1 for unit-norm inputs, sqrt(d) for pixels in [0, 1]."""
    if spec.data.unit_norm:
        return 1.0
    if spec.data.name in PIXEL_MAX:
        return math.sqrt(spec.data.inputs)
    raise ValueError(f"data.name={spec.data.name!r}: no a-priori bound on the input norm")


def deep_measures(run: RunResult, split: Split) -> DeepMeasures:
    depth = run.spec.depth
    weights = [np.asarray(run.weights[f"A{i}"], dtype=np.float64) for i in range(1, depth + 1)]
    initial = [np.asarray(run.initial_weights[f"A{i}"], dtype=np.float64) for i in range(1, depth + 1)]
    layers = [Layer(A, relu=index < depth - 1) for index, A in enumerate(weights)]
    train, test = forward_with_error(split.x_train, layers), forward_with_error(split.x_test, layers)
    data = data_norms(split.x_train)
    return DeepMeasures(
        sizes=[weights[0].shape[1]] + [A.shape[0] for A in weights],
        layers=[layer_measures(A, A0, SCHATTEN_P) for A, A0 in zip(weights, initial)],
        X_norm=enclose(data.frobenius, data.frobenius, data.frobenius, terms=split.x_train.size + 2),
        max_input_norm=data.max_row_norm,
        layer_input_norms=train.max_input_norms,
        input_domain_bound=input_domain_bound(run.spec),
        margins=margin_fit(train, test, split),
    )


def deep_conventions() -> dict[str, str]:
    return {
        "delta": f"{DELTA} (CHOICE)",
        "margin": f"{MARGIN_RULE}: {MARGIN_RULES[MARGIN_RULE][1]}; margin M(v, y) = v_y - max_(i != y) v_i on the raw outputs",
        "ramp risk": "mean of clip(1 - M/gamma, 0, 1), exact at gamma (<= the fraction of margins <= gamma)",
        "test error": "fraction of test margins <= 0 (ties count as errors)",
        "reference": "M_i = A_i^0 (the initialisation)",
        "(2,1) norm": NORM_2_1_ORIENTATION,
        "||X||_2": "Frobenius norm of the training data matrix (not divided by sqrt n)",
        "W, h": "max layer width, input included",
        "rho": "1 for every layer (ReLU; linear last layer)",
        "test half-width": "Hoeffding for 0-1 losses at delta",
        "class": FIXED_CLASS_CAVEAT,
    }


def _deep_params(measures: DeepMeasures, n: int) -> dict[str, dict[str, Any]]:
    """The parameters of each risk bound (measured ones as intervals)."""
    L, fit = len(measures.layers), measures.margins
    s = [layer.spectral for layer in measures.layers]
    return {
        "bartlett2017.margin_bound_explicit": {
            "n": n, "gamma": fit.gamma, "delta": DELTA, "X_norm": measures.X_norm, "W": max(measures.sizes), "L": L,
            "s": s, "b": [layer.norm_2_1 for layer in measures.layers], "rho": [1] * L, "ramp_risk": fit.ramp_risk,
        },
        "neyshabur2018.thm1": {
            "B": measures.input_domain_bound, "d": L, "h": max(measures.sizes), "m": n, "gamma": fit.gamma, "delta": DELTA,
            "spectral": s, "frobenius": [layer.frobenius for layer in measures.layers], "margin_risk": fit.margin_risk,
        },
    }


def _cover_params(measures: DeepMeasures, n: int, p: float) -> dict[str, Any]:
    L, fit = len(measures.layers), measures.margins
    return {
        "L": L, "d": measures.sizes, "p": [p] * L, "R": [layer.schatten_distance[p] for layer in measures.layers],
        "s": [layer.spectral for layer in measures.layers], "rho": [1] * L, "X_norm": measures.X_norm,
        "gamma": fit.gamma, "n": n, "delta": DELTA, "ramp_risk": fit.ramp_risk,
    }


def _ledent_params(measures: DeepMeasures, n: int, p: float, augmented: bool) -> dict[str, Any]:
    L = len(measures.layers)
    params: dict[str, Any] = {"L": L, "N": n}
    if augmented:
        params["B_layer"] = list(measures.layer_input_norms)
    else:
        params["B"] = measures.max_input_norm
    return {
        **params, "p": [p] * L, "rho": [1] * L, "spectral": [layer.spectral.value for layer in measures.layers],
        "rank_proxy": [layer.rank_proxy[p] for layer in measures.layers],
        "U": measures.sizes[1:], "d_prev": measures.sizes[:-1], "positions": [1] * L,
    }


def _ledent_record(network: Network, statement_id: str, params: dict[str, Any], gap: Interval, details: Mapping[str, object]) -> Verdict:
    """A third-party dominant term [T]: its value beside the measured gap, no verdict."""
    try:
        bound = bound_enclosure(statement_id, bound_form(statement_id), params)
    except ParameterError as error:
        bound, value = None, f"the measured parameters leave the statement's domain ({error})"
    else:
        value = f"value {bound.lower:.6g}"
    reason = (
        f"order statement: constants and logs hidden (a third party's dominant term, margin absent: red flag 1); "
        f"{value} beside the measured 0-1 gap {gap.value:.4g}; no verdict without its constants"
    )
    conventions = {
        "measured": "test 0-1 error - train 0-1 error",
        "p": "one p for every layer (the script grid-searches p per layer)",
        "reference": "M_l = A_l^0 in the rank proxy (the script used M_l = 0)",
        "float error": "not propagated into this order statement's parameters (no verdict depends on them)",
    }
    return record(DEEP_CHECK, statement_id, bound_form(statement_id), network, params=params, measured=gap, verdict="inconclusive",
                  reason=reason, bound=bound, conventions=conventions, details=details)


def bound_form(statement_id: str) -> str:
    return derivations.get(statement_id).form().name


def _risk_records(network: Network, measures: DeepMeasures, n: int, halfwidth: float, details: Mapping[str, object]) -> list[Verdict]:
    """B17 explicit, Neyshabur fixed_beta and the Schatten cover at every p, against the test 0-1 error."""
    test_error, risk_params = measures.margins.test_error, _deep_params(measures, n)
    caveats = {
        "bartlett2017.margin_bound_explicit": FIXED_CLASS_CAVEAT,
        "neyshabur2018.thm1": "valid for beta fixed in advance (no union bound over beta); " + FIXED_CLASS_CAVEAT,
    }
    forms = {"bartlett2017.margin_bound_explicit": "risk", "neyshabur2018.thm1": "fixed_beta"}
    records = [
        bound_record(DEEP_CHECK, sid, forms[sid], network, risk_params[sid], test_error, halfwidth,
                     caveat=caveats[sid], conventions=_risk_conventions(sid), details=details)
        for sid in forms
    ]
    return records + [
        bound_record(DEEP_CHECK, "derived.schatten_network_cover", "risk", network, _cover_params(measures, n, p), test_error,
                     halfwidth, caveat=FIXED_CLASS_CAVEAT, conventions=_risk_conventions("derived.schatten_network_cover"),
                     details={**details, "p": p})
        for p in SCHATTEN_P
    ]


def deep_records(run: RunResult, data_dir: DataDir) -> list[Verdict]:
    """All deep-network records of one trained MLP."""
    spec = run.spec
    split = run.split(data_dir)
    facts = split_facts(split, spec.data.name)
    name = f"mlp {spec.data.name} L={spec.depth} w={spec.width} wd={spec.weight_decay:g} seed={spec.seed}"
    network = _network(run, name, facts, layers=spec.depth)
    problem = run_problem(run, facts) or ("the net has biases; the bounds assume bias-free layers" if spec.bias else None)
    if problem:
        return unusable_records(DEEP_CHECK, DEEP_STATEMENTS, network, problem)
    measures = deep_measures(run, split)
    fit, n = measures.margins, spec.data.n_train
    details = {
        "instance": "trained net", "gamma": fit.gamma, "margin_rule": MARGIN_RULE, "train_error": fit.train_error.value,
        "margin_risk": fit.margin_risk.value, "ramp_risk": fit.ramp_risk.value, "depth": spec.depth, "width": spec.width,
    }
    if fit.gamma > 0:
        records = _risk_records(network, measures, n, facts.halfwidth(1.0), details)
    else:
        reason = f"the {MARGIN_RULE} training margin is {fit.gamma:.4g} <= 0: the margin bounds need gamma > 0"
        records = unusable_records(DEEP_CHECK, DEEP_STATEMENTS[:3], network, reason)
    gap = difference(fit.test_error, fit.train_error)
    return records + [
        _ledent_record(network, sid, _ledent_params(measures, n, p, augmented), gap, {**details, "p": p})
        for sid, augmented in (("ledent2025.thm3_6_repro", False), ("ledent2025.thm3_7_repro", True))
        for p in SCHATTEN_P
    ]


def _risk_conventions(statement_id: str) -> dict[str, str]:
    conventions = {"measured": "test 0-1 error", **deep_conventions()}
    if statement_id == "neyshabur2018.thm1":
        conventions["B"] = "sqrt(d_0): every input of the domain (pixels scaled to [0, 1]) has ||x|| <= B, not only the training set"
        conventions["margin risk"] = "fraction of training margins <= gamma"
    if statement_id == "derived.schatten_network_cover":
        conventions["R_i"] = "||A_i - A_i^0||_{S_p}, the same p for every layer"
    return conventions


def check_deep(context: CheckContext) -> list[Verdict]:
    """``generalization.deep``: every deep-network bound on every net of ``generalization_deep`` (computed once per context)."""
    if not context.has_experiment(DEEP_EXPERIMENT):
        return missing_experiment(DEEP_CHECK, DEEP_STATEMENTS, context, DEEP_EXPERIMENT)
    compute = lambda: [verdict for run in context.runs(DEEP_EXPERIMENT) for verdict in deep_records(run, context.data_dir)]  # noqa: E731
    return list(context.memo((DEEP_CHECK,), compute))


# ------------------------------------------------------------------------------------ the table
TABLE_COLUMNS = ("network", "instance", "N", "statement", "form", "p", "r", "tag", "bound", "bound_lower", "measured", "verdict")


def side_by_side(records: Iterable[Verdict]):  # noqa: ANN201 - a pandas DataFrame (pandas imported lazily)
    """The records as one row each (bound families against N): network, N, statement, form, p, r, bound
    (the enclosure's upper end), measured, verdict, sorted by network and N."""
    import pandas as pd

    rows = [
        {
            "network": r.details.get("network"),
            "instance": r.details.get("instance"),
            "N": r.details.get("n_train"),
            "statement": r.statement,
            "form": r.form,
            "p": r.details.get("p"),
            "r": r.params.get("r"),
            "tag": r.tag,
            "bound": r.bound_upper,
            "bound_lower": r.bound_lower,
            "measured": r.measured,
            "verdict": r.verdict,
        }
        for r in records
    ]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS)).sort_values(["network", "N"], kind="stable").reset_index(drop=True)


def generalization_table(context: CheckContext):  # noqa: ANN201 - a pandas DataFrame
    """Both checks' records side by side (see :func:`side_by_side`); shares the checks' records of ``context``."""
    return side_by_side(check_chen(context) + check_deep(context))


CHECKS = (
    Check(
        CHEN_CHECK,
        statements=CHEN_STATEMENTS,
        run=check_chen,
        description="Chen et al. two-layer nets at several N: |test - train MSE| against Cor 3.9 (parameter counting) and Thm 3.11",
    ),
    Check(
        DEEP_CHECK,
        statements=DEEP_STATEMENTS,
        run=check_deep,
        description="deep ReLU MLPs at several N: test error against Bartlett 2017, Neyshabur 2018, the Schatten-p cover and the Ledent reproductions",
    ),
)
