"""Shared fixtures: deterministic seeding, hypothesis profile, offline data, slow gate."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

from checks.profiles import load_profile

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
TINY_PRESET = Path(__file__).with_name("presets") / "tiny.toml"

load_profile()

if "RANKBOUND_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["RANKBOUND_DATA"] = str(SHARED_DATA)


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    """Every test starts from the same random state (nngeometry's make_test_deterministic)."""
    random.seed(0)
    np.random.seed(0)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> Path:
    """One results store for the tiny preset, shared by every test that trains it."""
    return tmp_path_factory.mktemp("tiny-store")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``slow`` tests unless RANKBOUND_SLOW=1 or they were selected with ``-m slow``."""
    if os.environ.get("RANKBOUND_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow experiment: set RANKBOUND_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
