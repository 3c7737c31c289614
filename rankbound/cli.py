"""The ``rankbound`` command line.

Sub-commands live in :mod:`rankbound.commands`, one module each, and are imported
only when invoked, so ``rankbound list`` does not pay for importing torch.
Usage errors (unknown id, bad parameter) exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import importlib

import click

#: sub-command name -> "module:attribute" of its click command
COMMANDS: dict[str, str] = {
    "list": "rankbound.commands.catalogue:list_command",
    "show": "rankbound.commands.catalogue:show_command",
    "eval": "rankbound.commands.catalogue:eval_command",
    "derive": "rankbound.commands.catalogue:derive_command",
    "regress": "rankbound.commands.regress:regress_command",
    "golden": "rankbound.commands.golden:golden_command",
    "train": "rankbound.commands.train:train_command",
    "analyze": "rankbound.commands.analyze:analyze_command",
    "check": "rankbound.commands.check:check_command",
    "report": "rankbound.commands.report:report_command",
    "reproduce": "rankbound.commands.reproduce:reproduce_command",
    "bound": "rankbound.commands.bound:bound_group",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rankbound")
def cli() -> None:
    """Verify low-rank generalization theory: statements, certified values, checks, reports."""


def main() -> None:
    cli()
