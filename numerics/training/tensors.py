"""The data of a group of models as tensors on the training device."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from numerics.data import Split


@dataclass
class GroupTensors:
    """Inputs shared by the group; training labels per model (label noise may differ).

    ``x_train`` (N, n), ``y_train`` (M, N) [float targets, or int64 classes], ``x_test``
    (N_test, n), ``y_test`` (N_test,).
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor

    @classmethod
    def from_splits(cls, splits: Sequence[Split], dtype: torch.dtype, device: torch.device | str) -> GroupTensors:
        """Stack the models' splits; they must share their inputs (same data, subsets and transforms)."""
        first = splits[0]
        for split in splits[1:]:
            if not (np.array_equal(split.x_train, first.x_train) and np.array_equal(split.x_test, first.x_test)):
                raise ValueError("models of one group must share their training and test inputs")

        def labels(array: np.ndarray) -> Tensor:
            label_dtype = torch.int64 if np.issubdtype(array.dtype, np.integer) else dtype
            return torch.as_tensor(array, dtype=label_dtype, device=device)

        return cls(
            x_train=torch.as_tensor(first.x_train, dtype=dtype, device=device),
            y_train=labels(np.stack([split.y_train for split in splits])),
            x_test=torch.as_tensor(first.x_test, dtype=dtype, device=device),
            y_test=labels(first.y_test),
        )

    def select(self, keep: Tensor) -> None:
        self.y_train = self.y_train[keep]

    def evaluate(self, metrics: Callable[[Tensor, Tensor], dict[str, Tensor]]) -> dict[str, dict[str, Tensor]]:
        """``metrics(x, labels)`` on the training and the test split (test labels shared by the group)."""
        return {"train": metrics(self.x_train, self.y_train), "test": metrics(self.x_test, self.y_test.unsqueeze(0))}
