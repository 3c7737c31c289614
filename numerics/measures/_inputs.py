"""Validation and conversion of user inputs shared by the measurement modules.

Every check raises :class:`ValueError` whose message starts with the parameter's name and
states the violated condition, e.g. ``"p: must be > 0, got -1.0"``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch


#: torch dtypes that NumPy has; tensors of other floating (complex) dtypes are widened first
_NUMPY_FLOATING_DTYPES = (torch.float16, torch.float32, torch.float64, torch.complex64, torch.complex128)


def host_array(tensor: torch.Tensor) -> np.ndarray:
    """A tensor's values as a NumPy array, in its own dtype where NumPy has it.

    Floating dtypes NumPy lacks (bfloat16, the float8 family) are widened exactly to float64,
    complex32 to complex128. Otherwise the values are handed over as they are, and what follows
    runs in NumPy rather than in torch's thread pool, which right after a BLAS product has to
    wait for the cores that OpenBLAS's threads are still spinning on.
    """
    tensor = tensor.detach().cpu()
    if (tensor.is_floating_point() or tensor.is_complex()) and tensor.dtype not in _NUMPY_FLOATING_DTYPES:
        tensor = tensor.to(torch.complex128 if tensor.is_complex() else torch.float64)
    return tensor.numpy()


def as_float64_array(value: Any, name: str, *, min_ndim: int = 0) -> np.ndarray:
    """``value`` (array-like or torch tensor) as a finite float64 NumPy array."""
    if isinstance(value, torch.Tensor):
        value = host_array(value)
    array = np.asarray(value, dtype=np.float64)
    if array.ndim < min_ndim:
        raise ValueError(f"{name}: expected at least {min_ndim} dimensions, got ndim={array.ndim}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: must be finite, found NaN or infinite entries")
    return array


def as_float64_tensor(value: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> torch.Tensor:
    """``value`` (array-like or tensor) as a finite, detached float64 CPU tensor."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().to(torch.float64)
    else:
        tensor = torch.as_tensor(np.asarray(value, dtype=np.float64))
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and tensor.ndim not in allowed:
        wanted = " or ".join(str(d) for d in allowed)
        raise ValueError(f"{name}: expected ndim {wanted}, got ndim={tensor.ndim} (shape {tuple(tensor.shape)})")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name}: must be finite, found NaN or infinite entries")
    return tensor


def check_exponent(p: float, name: str = "p") -> float:
    """A Schatten/rank-proxy exponent: a number with ``p > 0``; ``math.inf`` is allowed."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be a number > 0, got {p!r}") from None
    if math.isnan(value) or value <= 0:
        raise ValueError(f"{name}: must be > 0, got {value}")
    return value


def check_nonnegative(value: float, name: str) -> float:
    """A finite number ``>= 0``."""
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name}: must be finite and >= 0, got {value!r}")
    return number


def check_positive_int(value: int, name: str) -> int:
    """An integer ``>= 1``."""
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name}: must be an integer >= 1, got {value!r}")
    return int(value)
