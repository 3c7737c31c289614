"""What a check runs against: the preset's trained runs, the scale, the hypothesis profile.

A :class:`CheckContext` trains (or reuses from the results store) the runs of the preset's
experiments on first request and caches them, so every check that needs, say, the Chen
California sweep sees the same runs. ``scale`` sizes the property-based and search checks:
``quick`` for the default suite and the quick report, ``paper`` for paper-scale reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from numerics.training import load_preset, run_preset
from numerics.training.config import Preset
from numerics.training.experiments import RunResult
from numerics.training.parallel import Workers

SCALES = ("quick", "paper")
T = TypeVar("T")


def derived_seed(base: int, index: int) -> int:
    """An independent seed for case ``index`` of a check, derived from a base seed."""
    return int(np.random.SeedSequence([base, index]).generate_state(1)[0])


@dataclass
class CheckContext:
    """Shared inputs of the checks of one ``rankbound check`` / ``report`` run."""

    preset: Preset
    store: Path = Path("results")
    data_dir: Path | None = None
    download: bool = False
    device: str = "cpu"
    scale: str = "quick"
    progress: bool = False
    seed: int = 0
    #: where missing runs train (:class:`numerics.training.parallel.Workers`; None: this process)
    workers: Workers | None = None
    checkpoint_dir: Path | None = None
    _runs: dict[str, list[RunResult]] = field(default_factory=dict, repr=False)
    _memo: dict[tuple, object] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale={self.scale!r}: must be one of {', '.join(SCALES)}")

    @classmethod
    def from_preset(cls, preset: str | Path, **options: object) -> CheckContext:
        """A context for a shipped preset (``quick``, ``paper``) or a preset TOML file."""
        loaded = load_preset(preset)
        scale = "paper" if loaded.name == "paper" else "quick"
        return cls(preset=loaded, scale=options.pop("scale", scale), **options)  # type: ignore[arg-type]

    def has_experiment(self, name: str) -> bool:
        return name in self.preset.experiments

    def seed_for(self, index: int) -> int:
        """The seed of case ``index`` (independent streams from the context's seed)."""
        return derived_seed(self.seed, index)

    def memo(self, key: tuple, compute: Callable[[], T]) -> T:
        """A derived measurement shared by several checks and the report, computed once."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def runs(self, experiment: str) -> list[RunResult]:
        """The trained runs of one experiment of the preset (trained once, then cached)."""
        if experiment not in self._runs:
            self.train([experiment])
        return self._runs[experiment]

    def train(self, experiments: list[str] | None = None) -> None:
        """Train (or reuse) the runs of these experiments (default: all of the preset's) in one sweep, and cache them."""
        names = [name for name in experiments or self.preset.experiments if name not in self._runs]
        if names:
            self._runs.update(
                run_preset(
                    self.preset,
                    self.store,
                    only=names,
                    device=self.device,
                    data_dir=self.data_dir,
                    download=self.download,
                    workers=self.workers,
                    checkpoint_dir=self.checkpoint_dir,
                    progress=self.progress,
                )
            )
