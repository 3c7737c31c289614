"""Compression bounds: Occam's razor in its relative-entropy (kl) form.

Source: Langford, "Tutorial on Practical Prediction Theory for Classification", JMLR 6
(2005), Section 4 (the Occam's Razor Bound, Theorem 4.1, stated with the binomial tail
inversion for a "prior" P(h) over a countable set of classifiers), relaxed by the
relative-entropy Chernoff bound on the binomial tail; the kl form of such bounds is
Langford & Seeger (2001). Dziugaite & Roy (2017) use the same kl inversion for PAC-Bayes.
"""

from __future__ import annotations

import sympy

from derivations.domain import open_interval, positive_integer
from derivations.functions import kl_inverse
from derivations.statement import Claim, Form, Hypothesis, Kind, Parameter, Source, Statement

DERIVATION = (
    "Chernoff: for k errors among n i.i.d. examples of a classifier with risk p >= k/n, "
    "Pr(at most k errors) <= exp(-n kl(k/n || p)). Give the classifier h with codeword length "
    "L(h) the confidence delta 2^-L(h); the codewords form a prefix-free code fixed before the data, "
    "so by Kraft's inequality sum_h delta 2^-L(h) <= delta, and the union bound gives, with "
    "probability >= 1 - delta, kl(k_h/n || R(h)) <= (L(h) ln 2 + ln(1/delta))/n for every h at once "
    "(kl(q || p) = 0 for p <= q), i.e. R(h) <= kl^-1(k_h/n, (L(h) ln 2 + ln(1/delta))/n)."
)


def _occam_kl() -> Statement:
    n = Parameter("n", "number of i.i.d. training examples", positive_integer())
    errors = Parameter("errors", "training mistakes of the decoded classifier", positive_integer(0), latex="k")
    bits = Parameter("bits", "length of the classifier's codeword, in bits", positive_integer(0), latex="L")
    delta = Parameter("delta", "failure probability", open_interval(0, 1), symbol_name="delta")
    k, L, m, d = errors.symbol, bits.symbol, n.symbol, delta.symbol
    return Statement(
        id="langford2005.occam_kl",
        title="Occam's razor bound, kl form: a classifier described by an L-bit codeword of a prefix-free code",
        source=Source(
            "Langford (2005), JMLR 6; kl form: Langford, Seeger (2001)",
            "Tutorial on Practical Prediction Theory for Classification, Thm 4.1 (Occam's Razor Bound) with the relative-entropy Chernoff bound",
        ),
        tag="M",
        tag_note="the Occam bound from memory of the tutorial; its kl relaxation is derived in the notes of the declaration",
        kind=Kind.BOUND,
        parameters=(n, errors, bits, delta),
        bounded=r"R(h) = \Pr_{(x, y) \sim \mathcal{D}}[h(x) \ne y]",
        relation="<=",
        forms=(
            Form(
                "kl",
                kl_inverse(k / m, (L * sympy.log(2) + sympy.log(1 / d)) / m),
                "the upper inverse of the binary kl at the training error k/n",
            ),
        ),
        hypotheses=(Hypothesis(k <= m, "errors <= n"),),
        assumptions=(
            "the n training examples are drawn i.i.d. from the distribution D the risk is taken over",
            "the prefix-free code, hence the codeword length L(h) of every classifier, is fixed before seeing the data; "
            "choices made after seeing it (ranks, codebook sizes, the weights) are part of the message: a union bound over them",
            "the bound holds for the decoded classifier h, the one the message describes (not for the network before quantisation)",
        ),
        claims=(
            Claim(
                "with probability >= 1 - delta, simultaneously for every codeword",
                r"\operatorname{kl}\!\left(\hat R_S(h) \,\middle\|\, R(h)\right) \le \frac{L(h) \ln 2 + \ln(1/\delta)}{n}",
            ),
        ),
        conventions={
            "kl": "binary relative entropy kl(q || p) = q ln(q/p) + (1-q) ln((1-q)/(1-p)), 0 ln 0 = 0",
            "kl^-1": "kl_inverse(q, c) = sup{p in [q, 1] : kl(q || p) <= c}",
            "code": "prior P(h) = 2^-L(h) of a prefix-free code (Kraft: total mass <= 1); L in bits, logarithms natural",
            "training error": "k/n, exactly: ties and predictions that cannot be certified count as mistakes",
        },
        notes=DERIVATION,
        trivial_above=sympy.Integer(1),
    )


STATEMENTS = (_occam_kl(),)
