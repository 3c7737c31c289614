"""High-precision evaluation of statements: certified balls, mpmath, float64.

The public entry point is :func:`evaluate`; :func:`evaluate_float` serves plotting grids.
"""

from __future__ import annotations

from numerics.evaluation.binding import ParameterError, bind
from numerics.evaluation.certified import CertificationError, Enclosure, enclosure, enclosures
from numerics.evaluation.evaluate import EngineDisagreement, Evaluation, evaluate
from numerics.evaluation.special import KlInverse, kl_inverse
from numerics.evaluation.vectorised import evaluate_float

__all__ = [
    "CertificationError",
    "Enclosure",
    "EngineDisagreement",
    "Evaluation",
    "KlInverse",
    "ParameterError",
    "bind",
    "enclosure",
    "enclosures",
    "evaluate",
    "evaluate_float",
    "kl_inverse",
]
