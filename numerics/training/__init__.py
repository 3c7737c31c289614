"""Training of the papers' networks as batched tensor programs, with a results store.

* :func:`run_experiment` / :func:`run_preset`: the trained runs (:class:`RunResult`) of a preset's
  experiments, reusing finished runs of the store and resuming interrupted groups;
* :class:`~numerics.training.parallel.Workers`: where the groups train (this process, local
  processes, or a Dask cluster);
* :func:`load_preset`: the shipped ``quick`` / ``paper`` presets or a user TOML file;
* run specs :class:`ChenRun`, :class:`LedentRun`, :class:`OymakRun` (one trained model each);
* trainers: :class:`~numerics.training.two_layer.TwoLayerSGD` (Chen et al. Eq. 9, closed
  form), :class:`~numerics.training.network.NetworkSGD` (deep MLPs and Oymak et al., autograd),
  driven by :func:`~numerics.training.loop.train_group`;
  :func:`~numerics.training.reference.train_two_layer_reference` is the per-model yardstick.
"""

from numerics.training.config import ExperimentConfig, Preset, load_preset, parse_preset
from numerics.training.experiments import RunResult, run_experiment, run_key, run_preset
from numerics.training.specs import TRAINING_CODE_VERSION, ChenRun, LedentRun, OymakRun, RunSpec

__all__ = [
    "TRAINING_CODE_VERSION",
    "ChenRun",
    "ExperimentConfig",
    "LedentRun",
    "OymakRun",
    "Preset",
    "RunResult",
    "RunSpec",
    "load_preset",
    "parse_preset",
    "run_experiment",
    "run_key",
    "run_preset",
]
