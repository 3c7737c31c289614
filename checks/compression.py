"""Compression (issue 18): the certified Occam bound of a quantised low-rank MLP against its test error.

One check, ``compression.occam``: the network of a compression preset
(:mod:`numerics.compression.config`) is trained or reused through the results store, encoded,
decoded, and its exact training error and message length give ``langford2005.occam_kl`` [kl]
(:func:`numerics.compression.pipeline.compress`). The measured quantity is the 0-1 error of
the same decoded network on the 10,000 MNIST test images, computed exactly; it estimates the
risk the bound is about, with a two-sided Hoeffding half-width ``sqrt(ln(2/delta) / (2 n_test))``
at the bound's delta (as in :mod:`checks.generalization`: a verdict must survive it).

Verdicts: ``holds`` (test error plus half-width below the certified lower end), ``vacuous``
(holds only because the bound is at least 1), ``violated`` (test error minus half-width above
the upper end), ``inconclusive`` otherwise.

The compression preset follows the check preset's name: :data:`PRESETS` maps the shipped
check presets to the full-size ``quick`` compression preset; any other check preset (the
tests' tiny ones) gets the small ``ci`` preset.
"""

from __future__ import annotations

import math

from checks.context import CheckContext
from checks.registry import Check
from checks.verdict import Verdict, compare_to_bound
from numerics.evaluation.vacuity import vacuity

CHECK = "compression.occam"
STATEMENT = "langford2005.occam_kl"
#: check preset name -> compression preset
PRESETS = {"quick": "quick", "paper": "quick", "cpu": "quick"}
SMALL_PRESET = "ci"


def compression_preset(context: CheckContext) -> str:
    return PRESETS.get(context.preset.name, SMALL_PRESET)


def compression_result(context: CheckContext):  # noqa: ANN201 - a CompressionResult
    """The compression bound of the context's preset, computed once per context."""
    from numerics.compression.config import load_config
    from numerics.compression.pipeline import compress

    preset = compression_preset(context)
    return context.memo(("compression", preset), lambda: compress(load_config(preset), store=context.store, data_dir=context.data_dir))


def check_compression(context: CheckContext) -> list[Verdict]:
    result = compression_result(context)
    evaluation = result.evaluation
    statement = evaluation.statement
    delta = float(result.config.delta)
    halfwidth = math.sqrt(math.log(2 / delta) / (2 * result.test_n))
    vacuous = vacuity(evaluation)
    verdict, reason = compare_to_bound(result.test_error, result.bound_lower, result.bound, measured_error=halfwidth, vacuous=vacuous)
    architecture = result.config.architecture
    return [
        Verdict(
            statement=STATEMENT,
            check=CHECK,
            verdict=verdict,
            reason=f"{reason}; test error of the decoded network (Hoeffding half-width {halfwidth:.3g} at delta = {delta:g})",
            measured=result.test_error,
            measured_error=halfwidth,
            bound_lower=result.bound_lower,
            bound_upper=result.bound,
            bound_digits=evaluation.digits(6),
            form=evaluation.point.form.name,
            tag=statement.tag_of(evaluation.point.form.name),
            params={"n": result.n, "errors": result.errors, "bits": result.bits, "delta": str(result.config.delta)},
            conventions={
                **statement.conventions,
                "network": "the decoded message, evaluated in exact integer arithmetic (ties count as errors)",
                "test error": f"exact, on the {result.test_n} MNIST test images; Hoeffding half-width at the bound's delta",
            },
            coverage=f"all {result.n} training images of compression preset {result.config.name}; {result.test_n} test images",
            details={
                "preset": result.config.name,
                "train_error": result.train_error,
                "test_errors": result.test_errors,
                "bits_per_part": dict(result.message.parts),
                "ranks": list(architecture.ranks),
                "widths": list(architecture.widths),
                "dims": list(architecture.dims),
                "weight_levels": architecture.weight_levels,
                "weight_decay": result.config.training.weight_decay,
                "train_seconds": result.train_seconds,
                "store_key": result.key,
            },
        )
    ]


CHECKS = (
    Check(
        CHECK,
        (STATEMENT,),
        check_compression,
        "the certified Occam bound of a quantised low-rank MLP on MNIST against its test error",
    ),
)
