"""Training low-rank MLPs to be compressible: weight decay on the factors, then quantisation-aware fine-tuning.

Two phases over the same latent tensors (one per tensor of the
:class:`~numerics.compression.network.Architecture`), with Adam, a linear warm-up over the
first 5% of the steps and a cosine decay to 0 over all of them:

1. **float**: cross-entropy plus ``weight_decay`` times the squared Frobenius norms of the
   weight tensors (not the biases). On a factored layer ``U V`` this penalty is
   ``||U||_F^2 + ||V||_F^2 >= 2 ||U V||_*``, with equality at balanced factors: weight decay on
   the factors is a nuclear-norm penalty, the low-rank bias the suite studies.
2. **quantisation-aware**: every tensor is replaced in the forward pass by its nearest
   codebook levels (k-means with a level pinned at 0, rounded to dyadic mantissas); the
   gradient passes straight through to the latent weights and reaches the non-zero levels
   through the entries assigned to them.

Inputs that are 0 on every training image never change a training prediction, so the rows of
the first weight tensor that multiply them are held at 0 (the level 0 codes them cheaply).
The result is the :class:`~numerics.compression.network.QuantisedNetwork` of the last
codebooks and nearest-level assignments.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import torch

from numerics.compression.network import Architecture, QuantisedNetwork, QuantisedTensor, pixels
from numerics.compression.quantise import dyadic_codebook, kmeans_centers

WARMUP_FRACTION = 0.05
#: learning rate of the codebook levels relative to the weights'
LEVEL_LEARNING_RATE = 0.1


@dataclass(frozen=True)
class Training:
    """Hyper-parameters of :func:`train`."""

    epochs: int = 10  #: float phase
    qat_epochs: int = 5  #: quantisation-aware phase
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 1  #: torch threads (the result may depend on it through float summation order)

    def __post_init__(self) -> None:
        for name, minimum in (("epochs", 0), ("qat_epochs", 0), ("batch_size", 1), ("threads", 1)):
            if getattr(self, name) < minimum:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= {minimum}")
        if self.epochs + self.qat_epochs < 1:
            raise ValueError("epochs + qat_epochs must be >= 1")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate={self.learning_rate}: must be > 0")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay={self.weight_decay}: must be >= 0")

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@contextmanager
def _torch_threads(threads: int):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _round_levels(levels: torch.Tensor, mantissa_bits: int) -> torch.Tensor:
    """The levels rounded as :func:`~numerics.compression.quantise.dyadic_codebook` rounds them
    (straight-through: the gradient of the identity)."""
    largest = levels.detach().abs().max()
    if largest == 0:
        return levels
    exponent = int(math.frexp(float(largest))[1]) - mantissa_bits
    limit = (1 << mantissa_bits) - 1
    rounded = torch.clamp(torch.round(levels.detach() * 2.0**-exponent), -limit, limit) * 2.0**exponent
    return levels + (rounded - levels).detach()


class _Model:
    """The latent tensors, the input mask and, in the second phase, the codebook levels."""

    def __init__(self, architecture: Architecture, live_inputs: np.ndarray, generator: torch.Generator) -> None:
        self.architecture = architecture
        self.latent: dict[str, torch.Tensor] = {}
        for name, shape, kind in architecture.tensors():
            if kind == "bias":
                tensor = torch.zeros(shape)
            else:
                tensor = torch.randn(shape, generator=generator) / math.sqrt(shape[0])
            self.latent[name] = tensor.requires_grad_()
        self.first = architecture.tensors()[0][0]
        self.mask = torch.tensor(live_inputs, dtype=torch.float32)[:, None]
        self.levels: dict[str, torch.Tensor] = {}
        self.pinned: dict[str, int] = {}

    def start_quantisation(self) -> None:
        for name, _, kind in self.architecture.tensors():
            values = self.effective(name).detach().numpy()
            centers = kmeans_centers(values, self.architecture.levels(kind))
            self.pinned[name] = int(np.argmin(np.abs(centers)))
            self.levels[name] = torch.tensor(centers, dtype=torch.float32).requires_grad_()

    def effective(self, name: str) -> torch.Tensor:
        tensor = self.latent[name]
        return tensor * self.mask if name == self.first else tensor

    def quantised(self, name: str) -> torch.Tensor:
        weights = self.effective(name)
        if name not in self.levels:
            return weights
        levels = _round_levels(self.levels[name], self.architecture.mantissa_bits)
        nearest = torch.argmin((weights.detach()[..., None] - levels.detach()).abs(), dim=-1)
        return levels[nearest] + (weights - weights.detach())

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        activations = inputs
        layers = len(self.architecture.ranks)
        for layer, rank in enumerate(self.architecture.ranks, start=1):
            for name in ([f"layer{layer}.U", f"layer{layer}.V"] if rank else [f"layer{layer}.W"]):
                activations = activations @ self.quantised(name)
            if f"layer{layer}.b" in self.latent:
                activations = activations + self.quantised(f"layer{layer}.b")
            if layer < layers:
                activations = torch.relu(activations)
        return activations

    def penalty(self) -> torch.Tensor:
        return sum((self.latent[name] ** 2).sum() for name, _, kind in self.architecture.tensors() if kind == "weight")

    def pin(self) -> None:
        """Hold the level pinned at 0 there after an optimiser step."""
        with torch.no_grad():
            for name, index in self.pinned.items():
                self.levels[name][index] = 0.0

    def network(self) -> QuantisedNetwork:
        tensors = {}
        for name, _, _ in self.architecture.tensors():
            codebook = dyadic_codebook(self.levels[name].detach().double().numpy(), self.architecture.mantissa_bits)
            indices = codebook.assign(self.effective(name).detach().double().numpy())
            tensors[name] = QuantisedTensor(codebook, indices)
        return QuantisedNetwork(self.architecture, tensors)


def train(
    architecture: Architecture,
    training: Training,
    images: np.ndarray,
    labels: np.ndarray,
    progress: Callable[[str], None] | None = None,
) -> tuple[QuantisedNetwork, dict[str, list[float]]]:
    """Train on uint8 ``images`` (n, 28, 28) and ``labels``; returns the quantised network and
    the per-epoch history (``loss``: mean batch loss, ``train_error``: error of the net in use)."""
    with _torch_threads(training.threads):
        generator = torch.Generator().manual_seed(training.seed)
        integer_inputs = pixels(images, architecture)
        inputs = torch.tensor(integer_inputs * 2.0**-architecture.input_exponent, dtype=torch.float32)
        targets = torch.tensor(np.asarray(labels, dtype=np.int64))
        model = _Model(architecture, integer_inputs.max(axis=0) > 0, generator)
        n = len(targets)
        batches = math.ceil(n / training.batch_size)
        total_steps = batches * (training.epochs + training.qat_epochs)
        optimiser = torch.optim.Adam(list(model.latent.values()), lr=training.learning_rate)
        optimiser.param_groups[0]["base_lr"] = training.learning_rate
        history: dict[str, list[float]] = {"loss": [], "train_error": []}
        step = 0
        for epoch in range(training.epochs + training.qat_epochs):
            if epoch == training.epochs:
                model.start_quantisation()
                rate = training.learning_rate * LEVEL_LEARNING_RATE
                optimiser.add_param_group({"params": list(model.levels.values()), "lr": rate, "base_lr": rate})
            order = torch.randperm(n, generator=generator)
            losses = []
            for start in range(0, n, training.batch_size):
                batch = order[start : start + training.batch_size]
                loss = torch.nn.functional.cross_entropy(model.forward(inputs[batch]), targets[batch])
                objective = loss + training.weight_decay * model.penalty()
                optimiser.zero_grad()
                objective.backward()
                step += 1
                factor = min(1.0, step / max(1.0, WARMUP_FRACTION * total_steps)) * 0.5 * (1 + math.cos(math.pi * step / total_steps))
                for group in optimiser.param_groups:
                    group["lr"] = group["base_lr"] * factor
                optimiser.step()
                model.pin()
                losses.append(float(loss.detach()))
            with torch.no_grad():
                error = float((model.forward(inputs).argmax(dim=1) != targets).float().mean())
            history["loss"].append(float(np.mean(losses)))
            history["train_error"].append(error)
            if progress:
                phase = "float" if epoch < training.epochs else "quantised"
                progress(f"epoch {epoch + 1}/{training.epochs + training.qat_epochs} ({phase}): loss {history['loss'][-1]:.4f}, train error {error:.4f}")
        if not model.levels:
            model.start_quantisation()
        return model.network(), history
