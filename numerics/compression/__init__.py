"""Certified compression bounds: low-rank MLPs, quantised and arithmetic-coded, bounded by Occam's razor.

The modules, in the order data flows: :mod:`~numerics.compression.network` (the networks and
their exact integer evaluation), :mod:`~numerics.compression.quantise` (codebooks),
:mod:`~numerics.compression.training` (weight decay, quantisation-aware fine-tuning),
:mod:`~numerics.compression.bits` and :mod:`~numerics.compression.arithmetic` (prefix-free
codes, exact arithmetic coding), :mod:`~numerics.compression.message` (the code of a network),
:mod:`~numerics.compression.config` (presets) and :mod:`~numerics.compression.pipeline`
(train or reuse, encode, certify, bound).
"""
