"""Named special functions that statements use and SymPy does not have.

``kl_inverse(q, c)`` is the upper inverse of the binary relative entropy,

.. math::

    \\operatorname{kl}(q \\,\\|\\, p) = q \\ln\\frac{q}{p} + (1 - q) \\ln\\frac{1 - q}{1 - p}
    \\quad (0 \\ln 0 = 0), \\qquad
    \\operatorname{kl}^{-1}(q, c) = \\sup\\{p \\in [q, 1] : \\operatorname{kl}(q \\,\\|\\, p) \\le c\\},

for ``0 <= q <= 1`` and ``c >= 0``. On ``[q, 1)`` the map ``p -> kl(q || p)`` increases from 0
to ``+oo`` (for ``q < 1``), so ``kl_inverse(q, c)`` is its unique root ``p > q`` of
``kl(q || p) = c`` when ``c > 0``; ``kl_inverse(q, 0) = q``, ``kl_inverse(1, c) = 1`` and
``kl_inverse(0, c) = 1 - exp(-c)``. It is non-decreasing in ``q`` and in ``c``.

The class carries only what is symbolic (the name, LaTeX, SymPy's own ``evalf``); the
certified, mpmath and float64 evaluations live in :mod:`numerics.evaluation.special`.
``evalf`` solves the equation with :func:`mpmath.findroot` in the log-odds of ``p``, a
computation independent of the engines of :mod:`numerics`.
"""

from __future__ import annotations

import mpmath
import sympy
from mpmath.libmp import prec_to_dps


def kl_inverse_findroot(context: mpmath.ctx_mp.MPContext, q: mpmath.mpf, c: mpmath.mpf) -> mpmath.mpf:
    """``kl^{-1}(q, c)`` at the precision of an mpmath ``context``, by the Anderson–Björck
    bracketing method on ``sqrt(kl(q || p)) - sqrt(c)`` in the log-odds ``t = ln(p / (1 - p))``.

    The bracket: ``t = logit(q)`` gives ``kl = 0 <= c``; since ``ln(1/p) >= 0`` and
    ``ln(1 / (1 - p)) = ln(1 + e^t) >= t``, ``kl(q || p) >= (1 - q) t - H(q)`` with the entropy
    ``H(q) <= q ln(1/q) + 1/e``, so the right end below gives ``kl > c``.
    """
    q, c = context.mpf(q), context.mpf(c)
    if not (0 <= q <= 1) or c < 0:
        raise ValueError(f"kl_inverse(q={q}, c={c}): needs 0 <= q <= 1 and c >= 0")
    if q == 1:
        return context.mpf(1)
    if c == 0:
        return q
    if q == 0:
        return -context.expm1(-c)

    def excess(t: mpmath.mpf) -> mpmath.mpf:
        # ln p = -ln(1 + e^-t), ln(1 - p) = -ln(1 + e^t): both ends without cancellation;
        # sqrt(kl) is nearly linear in t near t = logit(q), where kl itself is flat
        log_p = -context.log1p(context.exp(-t))
        log_one_minus_p = -context.log1p(context.exp(t))
        kl = q * (context.log(q) - log_p) + (1 - q) * (context.log1p(-q) - log_one_minus_p)
        return context.sqrt(max(kl, 0)) - context.sqrt(c)

    start = context.log(q) - context.log1p(-q)
    end = (c + q * context.log(1 / q) + 1) / (1 - q) + abs(start) + 1
    return 1 / (1 + context.exp(-context.findroot(excess, (start, end), solver="anderson", maxsteps=400)))


class kl_inverse(sympy.Function):  # noqa: N801 - the name is the function's, as printed
    """``kl_inverse(q, c) = sup{p in [q, 1] : kl(q || p) <= c}`` (see the module docstring)."""

    nargs = 2
    is_real = True
    is_nonnegative = True

    @classmethod
    def eval(cls, q: sympy.Expr, c: sympy.Expr) -> sympy.Expr | None:
        return None  # kept unevaluated: numerics evaluates it certified

    def _eval_evalf(self, prec: int) -> sympy.Float:
        context = mpmath.MPContext()
        context.prec = prec + 20
        digits = prec_to_dps(prec) + 6
        q, c = (context.mpf(sympy.Float(argument.evalf(digits), digits)._mpf_) for argument in self.args)
        return sympy.Float(kl_inverse_findroot(context, q, c)._mpf_, prec_to_dps(prec))

    def _latex(self, printer: sympy.printing.latex.LatexPrinter) -> str:
        q, c = (printer._print(argument) for argument in self.args)
        return rf"\operatorname{{kl}}^{{-1}}\!\left({q},\ {c}\right)"
