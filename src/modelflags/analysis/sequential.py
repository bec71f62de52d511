"""Asymptotic confidence sequences: intervals and p-values that stay valid however often you look.

A fixed-horizon 95% interval is right at one pre-planned look; looking every day and stopping at
the first "significant" one makes false positives far more likely than 5%. An asymptotic
confidence sequence (Waudby-Smith, Arnold, Wu, Wang and Ramdas, "Time-uniform central limit
theory and asymptotic confidence sequences", arXiv:2103.06476) is an interval that covers the
true effect at *every* sample size at once with probability 95%, so a reader may look as often
as they like.

This module is the formula exactly as GrowthBook's sequential engine (``gbstats``) applies it to
an A/B difference, with the same default tuning. With ``n`` the total sample size (both arms),
``se`` the estimate's standard error and ``alpha`` the level:

- the mixing parameter (eq. 161 of the paper) is chosen so that the sequence is tightest when
  ``n`` reaches ``N* = 5000``: ``rho^2 = (-2 ln(alpha) + ln(1 - 2 ln(alpha))) / N*``;
- the half-width (eq. 9) is ``sigma * sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * ln(sqrt(n rho^2 + 1)
  / alpha))`` with the per-observation variance ``sigma^2 = se^2 * n``;
- the always-valid p-value (eq. 155) is the smallest ``alpha`` whose sequence excludes zero.
  ``rho`` is fixed by the design level (0.05) and ``N*``, so the half-width is an explicit
  function of ``alpha`` and the inversion has a closed form,
  ``p = min(1, sqrt(n rho^2 + 1) * exp(-rho^2 n (estimate/se)^2 / (2 (n rho^2 + 1))))``:
  ``p < 0.05`` exactly when the reported 95% sequence excludes zero.

At ``n = N*`` the half-width is about 1.55 times the fixed-horizon ``1.96 se``; it is wider
everywhere else. That is the price of being allowed to peek.
"""

from __future__ import annotations

import math

__all__ = ["ALPHA", "TUNING", "halfwidth", "mixing_rho", "p_value"]

ALPHA = 0.05
"""The design level: 95% sequences, and the ``alpha`` that fixes ``rho``."""

TUNING = 5000.0
"""``N*``: the total sample size (both arms) at which the sequence is tightest (GrowthBook's
default ``sequential_tuning_parameter``)."""


def mixing_rho(alpha: float = ALPHA, tuning: float = TUNING) -> float | None:
    """``rho`` of eq. 161: the normal mixture whose boundary is tightest at ``n = tuning``.

    None when ``alpha`` is not in (0, 1) or ``tuning`` is not a positive finite number.
    """
    if not (_finite(alpha, tuning) and 0.0 < alpha < 1.0 and tuning > 0.0):
        return None
    log_alpha = math.log(alpha)
    return math.sqrt((-2.0 * log_alpha + math.log(-2.0 * log_alpha + 1.0)) / tuning)


def halfwidth(
    standard_error: float, n: float, *, alpha: float = ALPHA, tuning: float = TUNING
) -> float | None:
    """Half-width of the ``1 - alpha`` confidence sequence around an estimate (eq. 9).

    ``standard_error`` is the estimate's standard error (for a difference of two arms,
    ``√(v_t/n_t + v_c/n_c)``), ``n`` the total sample size it rests on (both arms). ``rho`` comes
    from the design level and ``tuning``; ``alpha`` moves only the threshold, which makes
    :func:`p_value` the exact inverse of this function. None on invalid input (negative or
    non-finite standard error, ``n < 1``, ``alpha`` outside (0, 1)).
    """
    rho = mixing_rho(ALPHA, tuning)
    if rho is None or not _finite(standard_error, n, alpha):
        return None
    if standard_error < 0.0 or n < 1.0 or not 0.0 < alpha < 1.0:
        return None
    s2 = standard_error * standard_error * n  # the per-observation variance of the paper
    nr2p1 = n * rho * rho + 1.0
    width = math.sqrt(s2) * math.sqrt(
        2.0 * nr2p1 * math.log(math.sqrt(nr2p1) / alpha) / ((n * rho) * (n * rho))
    )
    return width if math.isfinite(width) else None


def p_value(
    estimate: float, standard_error: float, n: float, *, tuning: float = TUNING
) -> float | None:
    """The always-valid two-sided p-value of ``estimate = 0`` (eq. 155): the smallest ``alpha`` at
    which the sequence of :func:`halfwidth` excludes zero, ``1/E`` for the mixture e-value ``E``.

    None when the standard error is not positive and finite or ``n < 1``.
    """
    rho = mixing_rho(ALPHA, tuning)
    if rho is None or not _finite(estimate, standard_error, n):
        return None
    if standard_error <= 0.0 or n < 1.0:
        return None
    nr2p1 = n * rho * rho + 1.0
    z = estimate / standard_error
    st2 = z * z * n  # (estimate/se)²·n, as gbstats writes eq. 155
    log_p = 0.5 * math.log(nr2p1) - rho * rho * st2 / (2.0 * nr2p1)
    return math.exp(min(0.0, log_p))


def _finite(*values: float) -> bool:
    try:
        return all(math.isfinite(v) for v in values)
    except TypeError:
        return False
