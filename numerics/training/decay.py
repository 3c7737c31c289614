"""Whether a run's weight decay is resolved by its floating-point format.

Every trainer updates as ``torch.optim.SGD(weight_decay=mu)`` does, in the parameters' dtype:

.. math::
    d \\leftarrow \\nabla_\\theta L_S + \\mu\\,\\theta, \\qquad \\theta \\leftarrow \\theta - \\eta\\, d .

No factor :math:`1 - \\eta\\mu` is ever formed: in float32 it rounds to exactly 1 whenever
:math:`\\eta\\mu < 2^{-25}`, which silently removes the decay (the defect of training code
version 1).

Even folded into the gradient, one step's decay :math:`\\eta\\mu\\theta` is a change of relative
size :math:`\\eta\\mu`, while rounding :math:`\\theta - \\eta d` to the dtype perturbs
:math:`\\theta` by up to :math:`u|\\theta|` (unit roundoff :math:`u = 2^{-24}` in float32,
:math:`2^{-53}` in float64). When :math:`\\eta\\mu < u` the decay is below the resolution of
the weights: a weight whose data gradient vanishes is never decayed, and elsewhere the decay
acts only through the rounding of the gradient step, so its effect is not reliable. Such a
decay is called *inert* here; the run records it (:func:`decay_resolution`), ``rankbound
train`` warns, and the checks treat the decay actually applied as unknown. Float64
(:math:`u \\approx 1.1\\times10^{-16}`) resolves every decay of the shipped presets.

The learning rate decays by the schedule ``lr * lr_decay ** (epoch // lr_decay_every)``, so a
decay resolved at the start can become inert later: :attr:`DecayResolution.inert_from_epoch`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

#: unit roundoff u = 2^-p of each training dtype (p: significand bits)
UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}


@dataclass(frozen=True)
class DecayResolution:
    """One decay rate of a run against the resolution of its dtype.

    ``relative_step``: :math:`\\eta_0\\mu`, the relative change of a weight by one step's decay
    at the initial learning rate; ``unit_roundoff``: u of the dtype; ``inert``: the decay is
    positive and below u at every epoch; ``inert_from_epoch``: the first epoch at which
    :math:`\\eta_e\\mu < u` (None if never, or if there is no decay).
    """

    parameter: str
    mu: float
    relative_step: float
    unit_roundoff: float
    inert: bool
    inert_from_epoch: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return (
            f"{self.parameter}={self.mu:g}: lr*mu = {self.relative_step:.3g} is below the unit roundoff "
            f"u = {self.unit_roundoff:.3g} of the weights"
            + ("" if self.inert else f" from epoch {self.inert_from_epoch} on")
        )


def decay_resolution(
    parameter: str, mu: float, lr: float, lr_decay: float, lr_decay_every: int, epochs: int, dtype: str
) -> DecayResolution:
    """Compare :math:`\\eta_e\\mu` with the unit roundoff of ``dtype`` over the run's schedule."""
    u = UNIT_ROUNDOFF[dtype]
    step = lr * mu
    first_inert: int | None = None
    if mu > 0:
        if step < u:
            first_inert = 0
        elif lr_decay < 1:
            # smallest k with step * lr_decay**k < u, reached at epoch k * lr_decay_every
            k = math.floor(math.log(u / step) / math.log(lr_decay)) + 1
            if k * lr_decay_every < epochs:
                first_inert = k * lr_decay_every
    return DecayResolution(parameter, mu, step, u, inert=first_inert == 0, inert_from_epoch=first_inert)


def run_decays(spec: Any) -> dict[str, float]:
    """The decay rates of a run spec, by the name of the weights they act on."""
    if spec.KIND == "chen":
        return {"mu_v": spec.mu_v, "mu_a": spec.mu_a, "mu_b": spec.mu_b}
    if spec.KIND == "ledent":
        return {"weight_decay": spec.weight_decay}
    return {}


def run_decay_resolutions(spec: Any) -> list[DecayResolution]:
    """:func:`decay_resolution` for every decay rate of a run spec."""
    return [
        decay_resolution(name, mu, spec.lr, spec.lr_decay, spec.lr_decay_every, spec.epochs, spec.dtype)
        for name, mu in run_decays(spec).items()
    ]
