"""The checks and their runner.

A :class:`Check` names the statements it confronts and a function from a
:class:`~checks.context.CheckContext` to verdict records. Each topic module
(``checks/lowrank.py``, ``checks/covering.py`` ...) exports ``CHECKS``; :func:`run_checks`
runs all of them (or those selected by a statement id or check name) and returns a
:class:`CheckReport` of records, with a pandas view.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from checks.context import CheckContext
from checks.verdict import Verdict

#: topic modules, each exporting CHECKS (imported lazily: some need torch)
MODULES = (
    "checks.schatten",
    "checks.lowrank",
    "checks.covering",
    "checks.pseudodim",
    "checks.jacobian",
    "checks.generalization",
    "checks.experiments",
    "checks.compression",
)


@dataclass(frozen=True)
class Check:
    """A named check of one or more statements."""

    name: str
    statements: tuple[str, ...]
    run: Callable[[CheckContext], list[Verdict]]
    description: str = ""

    def selected_by(self, selector: str) -> bool:
        return selector == self.name or selector in self.statements or self.name.startswith(selector + ".")


def all_checks() -> tuple[Check, ...]:
    checks: list[Check] = []
    for module in MODULES:
        checks.extend(importlib.import_module(module).CHECKS)
    names = [c.name for c in checks]
    if len(names) != len(set(names)):
        raise RuntimeError("two checks share a name")
    return tuple(checks)


@dataclass
class CheckReport:
    """The records of a run of checks, with the time each check took."""

    records: list[Verdict] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def violated(self) -> list[Verdict]:
        return [r for r in self.records if r.verdict == "violated"]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record.verdict] = counts.get(record.verdict, 0) + 1
        return counts

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame([r.to_json() for r in self.records])


def run_checks(context: CheckContext, only: Sequence[str] = (), progress: Callable[[str], None] | None = None) -> CheckReport:
    """Run every check (or those selected by statement id / check name in ``only``)."""
    checks = all_checks()
    if only:
        unknown = [s for s in only if not any(c.selected_by(s) for c in checks)]
        if unknown:
            known = sorted({s for c in checks for s in c.statements} | {c.name for c in checks})
            raise KeyError(f"no check selected by {', '.join(unknown)}; choose statement ids or check names: {', '.join(known)}")
        checks = tuple(c for c in checks if any(c.selected_by(s) for s in only))
    report = CheckReport()
    for check in checks:
        if progress:
            progress(check.name)
        start = time.perf_counter()
        report.records.extend(check.run(context))
        report.seconds[check.name] = time.perf_counter() - start
    return report
