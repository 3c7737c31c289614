"""Low-rank MLPs on MNIST and their exact evaluation.

An :class:`Architecture` fixes the network a message describes:

* the input: the 28 x 28 image with ``crop`` pixels removed on every side, then summed over
  ``pool`` x ``pool`` squares (``pool`` a power of two dividing the cropped side), giving
  ``d = ((28 - 2 crop) / pool)^2`` integer inputs in ``[0, 255 pool^2]``; the network sees
  them times ``2^-input_exponent`` (``input_exponent = 8 + 2 log2(pool)``, i.e. pooled means
  of the pixels / 256);
* layers ``d -> widths[0] -> ... -> widths[-1] -> 10``, ReLU between them; layer ``l`` has the
  weight ``W_l`` (``in x out``), factored as ``U_l V_l`` (``in x r``, ``r x out``) when
  ``ranks[l] = r > 0``, and a bias when ``bias`` (hidden layers) or ``output_bias`` (the last);
* every tensor is quantised: a :class:`~numerics.compression.quantise.Codebook` of
  ``weight_levels`` (weights) or ``bias_levels`` (biases) dyadic levels and an index per entry,
  with ``mantissa_bits``-bit mantissas.

:func:`exact_logits` evaluates a :class:`QuantisedNetwork` in integer arithmetic: every
activation is an integer array ``A`` with one exponent ``a`` (value ``A 2^a``); a product adds
exponents, a bias is added after shifting both terms to the smaller exponent, ReLU is exact.
No rounding occurs, so predictions are exactly reproducible; int64 is used when a bound on
every partial sum (computed exactly from the operands' magnitudes) is below 2^62, Python
integers otherwise. A prediction is the unique largest logit; a tie is no prediction and
counts as a mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from numerics.compression.quantise import Codebook

IMAGE_SIDE = 28
CLASSES = 10
#: partial sums below this magnitude are exact in int64
INT64_SAFE = 1 << 62


@dataclass(frozen=True)
class Architecture:
    """The network family a message describes (see the module docstring)."""

    crop: int = 0
    pool: int = 1
    widths: tuple[int, ...] = (32,)
    ranks: tuple[int, ...] = (10, 0)
    bias: bool = True
    output_bias: bool = False
    weight_levels: int = 4
    bias_levels: int = 4
    mantissa_bits: int = 6

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "ranks", tuple(int(r) for r in self.ranks))
        problem = self.problem()
        if problem:
            raise ValueError(problem)

    def problem(self) -> str | None:
        """The first violated condition, or None."""
        side = IMAGE_SIDE - 2 * self.crop
        if not 0 <= self.crop < IMAGE_SIDE // 2:
            return f"crop={self.crop}: must satisfy 0 <= crop < {IMAGE_SIDE // 2}"
        if self.pool < 1 or self.pool & (self.pool - 1) or side % self.pool:
            return f"pool={self.pool}: must be a power of two dividing the cropped side {side}"
        if any(width < 1 for width in self.widths):
            return f"widths={self.widths}: every hidden width must be >= 1"
        if len(self.ranks) != len(self.widths) + 1:
            return f"ranks={self.ranks}: needs one rank per layer ({len(self.widths) + 1})"
        if any(rank < 0 for rank in self.ranks):
            return f"ranks={self.ranks}: every rank must be >= 0 (0: a dense layer)"
        if self.weight_levels < 1 or self.bias_levels < 1:
            return "weight_levels and bias_levels must be >= 1"
        if not 1 <= self.mantissa_bits <= 24:
            return f"mantissa_bits={self.mantissa_bits}: must satisfy 1 <= mantissa_bits <= 24"
        return None

    @property
    def inputs(self) -> int:
        return ((IMAGE_SIDE - 2 * self.crop) // self.pool) ** 2

    @property
    def input_exponent(self) -> int:
        return 8 + 2 * (self.pool.bit_length() - 1)

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.inputs, *self.widths, CLASSES)

    def tensors(self) -> list[tuple[str, tuple[int, ...], str]]:
        """``(name, shape, kind)`` of every tensor, in message order; kind is ``weight`` or ``bias``."""
        specs: list[tuple[str, tuple[int, ...], str]] = []
        dims = self.dims
        for layer, rank in enumerate(self.ranks, start=1):
            fan_in, fan_out = dims[layer - 1], dims[layer]
            if rank:
                specs += [(f"layer{layer}.U", (fan_in, rank), "weight"), (f"layer{layer}.V", (rank, fan_out), "weight")]
            else:
                specs.append((f"layer{layer}.W", (fan_in, fan_out), "weight"))
            last = layer == len(self.ranks)
            if (self.output_bias if last else self.bias):
                specs.append((f"layer{layer}.b", (fan_out,), "bias"))
        return specs

    def levels(self, kind: str) -> int:
        return self.weight_levels if kind == "weight" else self.bias_levels

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["widths"], data["ranks"] = list(self.widths), list(self.ranks)
        return data


def pixels(images: np.ndarray, architecture: Architecture) -> np.ndarray:
    """The integer inputs ``(n, d)`` (int64) of uint8 images ``(n, 28, 28)``: crop, then sum-pool."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE) or images.dtype != np.uint8:
        raise ValueError(f"images: expected uint8 of shape (n, 28, 28), got {images.dtype} {images.shape}")
    crop, pool = architecture.crop, architecture.pool
    side = IMAGE_SIDE - 2 * crop
    cropped = images[:, crop : IMAGE_SIDE - crop, crop : IMAGE_SIDE - crop].astype(np.int64)
    pooled = cropped.reshape(len(images), side // pool, pool, side // pool, pool).sum(axis=(2, 4))
    return pooled.reshape(len(images), -1)


@dataclass(frozen=True)
class QuantisedTensor:
    codebook: Codebook
    indices: np.ndarray  #: int64 level indices, the tensor's shape

    @property
    def mantissas(self) -> np.ndarray:
        """The integer tensor ``M`` with value ``M 2^exponent``."""
        return np.array(self.codebook.mantissas, dtype=np.int64)[self.indices]

    @property
    def values(self) -> np.ndarray:
        return self.codebook.values[self.indices]


@dataclass(frozen=True)
class QuantisedNetwork:
    """A decoded network: its architecture and every tensor as a codebook and indices."""

    architecture: Architecture
    tensors: Mapping[str, QuantisedTensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        expected = {name: (shape, kind) for name, shape, kind in self.architecture.tensors()}
        if set(self.tensors) != set(expected):
            raise ValueError(f"tensors {sorted(self.tensors)} do not match the architecture's {sorted(expected)}")
        for name, (shape, kind) in expected.items():
            tensor = self.tensors[name]
            if tensor.indices.shape != shape:
                raise ValueError(f"{name}: shape {tensor.indices.shape}, the architecture says {shape}")
            levels = self.architecture.levels(kind)
            if tensor.codebook.levels != levels:
                raise ValueError(f"{name}: {tensor.codebook.levels} levels, the architecture says {levels}")
            if tensor.indices.size and not (0 <= tensor.indices.min() and tensor.indices.max() < levels):
                raise ValueError(f"{name}: level indices outside 0..{levels - 1}")

    def equals(self, other: QuantisedNetwork) -> bool:
        """Same architecture, codebooks and indices (bit for bit the same network)."""
        return self.architecture == other.architecture and all(
            self.tensors[name].codebook == other.tensors[name].codebook
            and np.array_equal(self.tensors[name].indices, other.tensors[name].indices)
            for name in self.tensors
        )

    def float_weights(self) -> dict[str, np.ndarray]:
        """Every tensor's values as float64 (exact)."""
        return {name: tensor.values for name, tensor in self.tensors.items()}


# ---------------------------------------------------------------------------- exact evaluation
def _matmul(activations: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Exact integer product: int64 when every partial sum is provably below 2^62."""
    largest = int(np.abs(activations).max()) if activations.size else 0
    column = int(np.abs(weights).sum(axis=0).max()) if weights.size else 0
    if largest * column < INT64_SAFE:
        return activations.astype(np.int64) @ weights.astype(np.int64)
    return activations.astype(object) @ weights.astype(object)


def _shift(values: np.ndarray, bits: int) -> np.ndarray:
    """``values * 2^bits`` exactly (``bits >= 0``)."""
    if bits == 0:
        return values
    largest = int(np.abs(values).max()) if values.size else 0
    if (largest << bits) < INT64_SAFE and values.dtype != object:
        return values << bits
    return values.astype(object) * (1 << bits)


def _add_bias(activations: np.ndarray, exponent: int, bias: QuantisedTensor) -> tuple[np.ndarray, int]:
    common = min(exponent, bias.codebook.exponent)
    left = _shift(activations, exponent - common)
    right = _shift(bias.mantissas, bias.codebook.exponent - common)
    if left.dtype == object or right.dtype == object:
        return left.astype(object) + right.astype(object), common
    largest = (int(np.abs(left).max()) if left.size else 0) + (int(np.abs(right).max()) if right.size else 0)
    if largest < INT64_SAFE:
        return left + right, common
    return left.astype(object) + right.astype(object), common


def exact_logits(network: QuantisedNetwork, images: np.ndarray) -> tuple[np.ndarray, int]:
    """``(A, a)``: the logits are exactly ``A 2^a`` (``A`` integer, one row per image)."""
    architecture = network.architecture
    activations, exponent = pixels(images, architecture), -architecture.input_exponent
    layers = len(architecture.ranks)
    for layer, rank in enumerate(architecture.ranks, start=1):
        names = [f"layer{layer}.U", f"layer{layer}.V"] if rank else [f"layer{layer}.W"]
        for name in names:
            tensor = network.tensors[name]
            activations = _matmul(activations, tensor.mantissas)
            exponent += tensor.codebook.exponent
        bias = network.tensors.get(f"layer{layer}.b")
        if bias is not None:
            activations, exponent = _add_bias(activations, exponent, bias)
        if layer < layers:
            activations = np.maximum(activations, 0)
    return activations, exponent


def exact_predictions(network: QuantisedNetwork, images: np.ndarray) -> np.ndarray:
    """The predicted class of every image, or -1 where the largest logit is tied."""
    logits, _ = exact_logits(network, images)
    best = logits.max(axis=1, keepdims=True)
    winners = logits == best
    predictions = np.argmax(winners, axis=1).astype(np.int64)
    predictions[winners.sum(axis=1) != 1] = -1
    return predictions


def certified_errors(network: QuantisedNetwork, images: np.ndarray, labels: np.ndarray) -> int:
    """The exact number of mistakes (ties count as mistakes)."""
    return int(np.sum(exact_predictions(network, images) != np.asarray(labels, dtype=np.int64)))


def float_logits(network: QuantisedNetwork, images: np.ndarray) -> np.ndarray:
    """The same network evaluated plainly in float64 (for comparison; not certified)."""
    architecture = network.architecture
    activations = pixels(images, architecture) * 2.0 ** -architecture.input_exponent
    weights = network.float_weights()
    layers = len(architecture.ranks)
    for layer, rank in enumerate(architecture.ranks, start=1):
        for name in ([f"layer{layer}.U", f"layer{layer}.V"] if rank else [f"layer{layer}.W"]):
            activations = activations @ weights[name]
        if f"layer{layer}.b" in weights:
            activations = activations + weights[f"layer{layer}.b"]
        if layer < layers:
            activations = np.maximum(activations, 0.0)
    return activations
