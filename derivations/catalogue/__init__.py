"""The statement catalogue (THEOREMS.md), one module per topic."""

from __future__ import annotations

from derivations.catalogue import covering, deep_networks, jacobian, lowrank_sgd, occam, pseudodimension, schatten
from derivations.statement import Statement

#: every declared statement, in catalogue order
ALL: tuple[Statement, ...] = (
    *schatten.STATEMENTS,
    *covering.STATEMENTS,
    *deep_networks.STATEMENTS,
    *pseudodimension.STATEMENTS,
    *lowrank_sgd.STATEMENTS,
    *jacobian.STATEMENTS,
    *occam.STATEMENTS,
)
