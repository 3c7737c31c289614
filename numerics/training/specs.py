"""One trained model, fully described: the run specs :class:`ChenRun`, :class:`LedentRun`, :class:`OymakRun`.

A run spec holds every value that can change the trained numbers (data, architecture,
optimiser, schedule, seed, dtype); its :meth:`canonical` dict, salted with
:data:`TRAINING_CODE_VERSION`, is hashed into the run's results-store key. Execution details
that do not change the numbers (device, data directory, checkpoint cadence, how models are
grouped) are not part of it. Invalid values raise ``ValueError`` naming the key, the value
and the violated condition: real parameters must be finite (``lr = inf`` or ``mu_v = inf`` in a
preset is refused, not trained), and a run whose model would need more than
:data:`MAX_MODEL_MEMORY_GIB` GiB to train (:meth:`RunSpec.memory_estimate`) is refused before
anything is allocated, naming its size parameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from numerics.data.spec import DataSpec, is_int, is_real, require

#: bump whenever a code change alters trained numbers: it salts every results-store key
TRAINING_CODE_VERSION = "2"  # 2: decay folded into the gradient as torch.optim.SGD (1 dropped it in float32)
DTYPES = ("float32", "float64")
ITEMSIZE = {"float32": 4, "float64": 8}
#: a run whose :meth:`RunSpec.memory_estimate` exceeds this many GiB per model is refused
MAX_MODEL_MEMORY_GIB = 64


def _positive_int(spec: object, key: str) -> None:
    value = getattr(spec, key)
    require(is_int(value) and value >= 1, key, value, f"{key} >= 1 (an integer)")


def _real(spec: object, key: str, condition: str, ok: Callable[[float], bool]) -> None:
    """A finite real number (int or float) satisfying ``ok``; stored as a float."""
    value = getattr(spec, key)
    number = _finite_float(value)
    require(number is not None and ok(number), key, value, f"{condition} (a finite number)")
    object.__setattr__(spec, key, number)


def _finite_float(value: object) -> float | None:
    """``value`` as a finite float, or None (not a real number, NaN, infinite, or an int beyond float64)."""
    if not is_real(value):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _check_memory(spec: RunSpec, sizes: tuple[str, ...]) -> None:
    """Refuse a run whose model needs more than :data:`MAX_MODEL_MEMORY_GIB` GiB, naming its sizes."""
    need = spec.memory_estimate()
    if need > MAX_MODEL_MEMORY_GIB * 2**30:
        named = ", ".join(f"{key}={getattr(spec, key)}" for key in sizes)
        amount = f"{need / 2**30:.3g}" if need.bit_length() < 1000 else f"2^{need.bit_length() - 31}"
        raise ValueError(
            f"{named} violates memory: one model of this run needs about {amount} GiB to train "
            f"({spec.MEMORY_RULE}), above the limit of {MAX_MODEL_MEMORY_GIB} GiB"
        )


def _check_common(spec: RunSpec) -> None:
    """Checks shared by every run kind: data, seed, epochs, lr schedule, evaluation, dtype."""
    require(isinstance(spec.data, DataSpec), "data", spec.data, "data is a DataSpec")
    require(is_int(spec.seed) and spec.seed >= 0, "seed", spec.seed, "seed >= 0 (an integer)")
    _positive_int(spec, "epochs")
    _positive_int(spec, "eval_every")
    _real(spec, "lr", "lr > 0", lambda v: v > 0)
    _real(spec, "lr_decay", "0 < lr_decay <= 1", lambda v: 0 < v <= 1)
    _positive_int(spec, "lr_decay_every")
    require(spec.dtype in DTYPES, "dtype", spec.dtype, f"dtype in {DTYPES}")


class RunSpec:
    """Fields and behaviour shared by the run kinds (each a frozen dataclass declaring its fields)."""

    KIND: ClassVar[str]
    #: fields that may differ between the models of one batched group
    PER_MODEL: ClassVar[tuple[str, ...]]
    #: how :meth:`memory_estimate` counts, in words
    MEMORY_RULE: ClassVar[str] = (
        "(8 + 4 s) bytes per parameter and 3 s per unit and row of the largest of batch, training and test set, s = dtype size"
    )

    data: DataSpec
    seed: int
    epochs: int
    lr: float
    lr_decay: float
    lr_decay_every: int
    eval_every: int
    dtype: str

    def canonical(self) -> dict[str, Any]:
        """Every field as plain data, plus ``kind``: the dict hashed into the store key."""
        return {"kind": self.KIND, **asdict(self)}  # type: ignore[call-overload]

    def group_signature(self) -> str:
        """Runs with equal signatures can train as one batched program (they share data and shapes)."""
        shared = {key: value for key, value in self.canonical().items() if key not in self.PER_MODEL}
        shared["data"] = {key: value for key, value in shared["data"].items() if key != "label_noise"}
        return json.dumps(shared, sort_keys=True)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    def model_size(self) -> tuple[int, int]:
        """``(parameters, units)`` of the model: weights and biases, and neurons of all its layers."""
        raise NotImplementedError

    def memory_estimate(self) -> int:
        """Bytes one model of this run holds while training, as :attr:`MEMORY_RULE` counts them:
        per parameter its float64 draw (8 bytes) and the weights, gradients and two copies in the
        run's dtype (4 s); per unit the activations (value, mask, gradient: 3 s) of every row.

        An estimate of the order of magnitude (the trainers reuse buffers, the evaluation runs
        on the whole training and test sets at once), used to refuse absurd sizes up front.
        """
        parameters, units = self.model_size()
        rows = max(self.data.n_train, self.data.n_test, getattr(self, "batch_size", 1))
        itemsize = ITEMSIZE[self.dtype]
        return (8 + 4 * itemsize) * parameters + 3 * itemsize * rows * units


@dataclass(frozen=True)
class ChenRun(RunSpec):
    """Chen et al.'s two-layer ReLU net trained by Eq. 9 mini-batch SGD with weight decay.

    ``mu_a`` / ``mu_b`` default to ``mu_v`` (``torch.optim.SGD(weight_decay=mu_v)`` on all
    parameters); the paper's decay of a and b is not known [N, notes A.5].
    """

    KIND: ClassVar[str] = "chen"
    PER_MODEL: ClassVar[tuple[str, ...]] = ("seed", "mu_v", "mu_a", "mu_b", "lr")

    data: DataSpec
    width: int
    batch_size: int
    mu_v: float
    epochs: int
    lr: float
    mu_a: float | None = None
    mu_b: float | None = None
    seed: int = 0
    lr_decay: float = 0.95
    lr_decay_every: int = 200
    eval_every: int = 10
    dtype: str = "float32"

    def __post_init__(self) -> None:
        _check_common(self)
        _positive_int(self, "width")
        _positive_int(self, "batch_size")
        require(self.batch_size <= self.data.n_train, "batch_size", self.batch_size, f"batch_size <= data.n_train = {self.data.n_train}")
        require(self.data.target == "scalar", "data.target", self.data.target, "target == 'scalar' (the model has one output)")
        _real(self, "mu_v", "mu_v >= 0", lambda v: v >= 0)
        for key in ("mu_a", "mu_b"):
            if getattr(self, key) is None:
                object.__setattr__(self, key, self.mu_v)
            _real(self, key, f"{key} >= 0", lambda v: v >= 0)
        _check_memory(self, ("width", "batch_size"))

    def model_size(self) -> tuple[int, int]:
        return (self.data.inputs + 2) * self.width, self.width + 1  # V, b, a


@dataclass(frozen=True)
class LedentRun(RunSpec):
    """A bias-free (by default) deep ReLU MLP with ``depth`` weight layers of hidden ``width``,
    trained by mini-batch SGD on a classification set, with or without weight decay."""

    KIND: ClassVar[str] = "ledent"
    PER_MODEL: ClassVar[tuple[str, ...]] = ("seed", "weight_decay", "lr")
    LOSSES: ClassVar[tuple[str, ...]] = ("cross_entropy", "square")

    data: DataSpec
    depth: int
    width: int
    batch_size: int
    epochs: int
    lr: float
    weight_decay: float = 0.0
    loss: str = "cross_entropy"
    bias: bool = False
    seed: int = 0
    lr_decay: float = 1.0
    lr_decay_every: int = 1
    eval_every: int = 1
    dtype: str = "float32"

    def __post_init__(self) -> None:
        _check_common(self)
        require(self.data.classes is not None, "data.name", self.data.name, "a classification data set (mnist, digits)")
        require(self.data.target == "class", "data.target", self.data.target, "target == 'class'")
        require(is_int(self.depth) and self.depth >= 2, "depth", self.depth, "depth >= 2 (weight layers)")
        _positive_int(self, "width")
        _positive_int(self, "batch_size")
        require(self.batch_size <= self.data.n_train, "batch_size", self.batch_size, f"batch_size <= data.n_train = {self.data.n_train}")
        _real(self, "weight_decay", "weight_decay >= 0", lambda v: v >= 0)
        require(self.loss in self.LOSSES, "loss", self.loss, f"loss in {self.LOSSES}")
        require(isinstance(self.bias, bool), "bias", self.bias, "bias is a boolean")
        _check_memory(self, ("depth", "width", "batch_size"))

    @property
    def layer_sizes(self) -> list[int]:
        return [self.data.inputs] + [self.width] * (self.depth - 1) + [self.data.classes]  # type: ignore[list-item]

    def model_size(self) -> tuple[int, int]:
        inputs, width, classes, hidden_layers = self.data.inputs, self.width, self.data.classes, self.depth - 1
        assert classes is not None  # checked above
        units = hidden_layers * width + classes
        weights = inputs * width + (hidden_layers - 1) * width * width + width * classes
        return weights + (units if self.bias else 0), units


@dataclass(frozen=True)
class OymakRun(RunSpec):
    """Oymak et al.'s :math:`V\\phi(Wx)` with ``hidden`` = k units, full-batch gradient descent with a
    constant step on :math:`\\tfrac12\\|f(W) - y\\|^2` for ``epochs`` iterations (one-hot labels, V fixed)."""

    KIND: ClassVar[str] = "oymak"
    PER_MODEL: ClassVar[tuple[str, ...]] = ("seed", "lr")
    ACTIVATIONS: ClassVar[tuple[str, ...]] = ("softplus", "relu")

    data: DataSpec
    hidden: int
    epochs: int
    lr: float
    activation: str = "softplus"
    seed: int = 0
    lr_decay: float = 1.0
    lr_decay_every: int = 1
    eval_every: int = 10
    dtype: str = "float32"

    def __post_init__(self) -> None:
        _check_common(self)
        require(self.data.classes is not None, "data.name", self.data.name, "a classification data set (mnist, digits)")
        require(self.data.target == "class", "data.target", self.data.target, "target == 'class'")
        _positive_int(self, "hidden")
        require(self.activation in self.ACTIVATIONS, "activation", self.activation, f"activation in {self.ACTIVATIONS}")
        _check_memory(self, ("hidden",))

    def model_size(self) -> tuple[int, int]:
        classes = self.data.classes
        assert classes is not None  # checked above
        return (self.data.inputs + classes) * self.hidden, self.hidden + classes  # W, V


RUN_KINDS: dict[str, type[RunSpec]] = {cls.KIND: cls for cls in (ChenRun, LedentRun, OymakRun)}
