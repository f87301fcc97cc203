"""Tail probabilities on a log scale, and the map from them to scores in [0, 1].

Detectors speak in ``nlp``: minus the base-10 logarithm of a tail probability
(nlp 6 = "one chance in a million under the baseline"). Working on this scale
keeps tiny probabilities exact where ``1 - p`` would round to 1.

Counts use the negative binomial (a Poisson whose rate is itself uncertain by
a gamma factor with variance ``phi``): its upper tail is approximated by the
signed root of the likelihood-ratio deviance, which stays accurate from a
handful of counts up to millions, costs two logarithms, and needs no special
functions.
"""

from __future__ import annotations

import math

_LN10 = math.log(10.0)
_SQRT_HALF = math.sqrt(0.5)
_HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)


def normal_upper_nlp(z: float) -> float:
    """-log10 P(Z >= z) for a standard normal Z."""
    if z < 7.0:
        p = 0.5 * math.erfc(z * _SQRT_HALF)
        return -math.log10(p) if p > 0.0 else 300.0
    # Mills ratio: P(Z >= z) ~ phi(z) / z * (1 - 1/z^2 + 3/z^4)
    inv2 = 1.0 / (z * z)
    ln_p = -0.5 * z * z - math.log(z) - _HALF_LN_2PI + math.log(1.0 - inv2 + 3.0 * inv2 * inv2)
    return -ln_p / _LN10


def nb_upper_nlp(count: float, mean: float, phi: float) -> float:
    """-log10 P(X >= count) for X negative binomial with this mean and variance mean + phi*mean^2.

    ``phi = 0`` is the Poisson. Counts at or below the mean give 0.
    """
    x = count - 0.5  # continuity correction: P(X >= k) ~ P(Y >= k - 1/2)
    if x <= mean or mean <= 0.0:
        return 0.0
    return _nb_tail_nlp(x, mean, phi)


def nb_lower_nlp(count: float, mean: float, phi: float) -> float:
    """-log10 P(X <= count) for the same negative binomial; counts at or above the mean give 0."""
    x = count + 0.5
    if x >= mean or mean <= 0.0:
        return 0.0
    return _nb_tail_nlp(max(x, 1e-9), mean, phi)


def _nb_tail_nlp(x: float, mean: float, phi: float) -> float:
    """-log10 of the tail beyond ``x`` (either side of ``mean``), from the deviance."""
    deviance = x * math.log(x / mean)
    if phi > 1e-12:
        size = 1.0 / phi
        deviance -= (x + size) * math.log((x + size) / (mean + size))
    else:
        deviance -= x - mean
    if deviance <= 0.0:
        return 0.0
    return normal_upper_nlp(math.sqrt(2.0 * deviance))


def chi2_upper_nlp(sum_sq: float, dof: float) -> float:
    """-log10 P(C >= sum_sq) for C chi-squared with ``dof`` degrees (Wilson-Hilferty)."""
    if sum_sq <= dof or dof <= 0.0:
        return 0.0
    k = 2.0 / (9.0 * dof)
    z = ((sum_sq / dof) ** (1.0 / 3.0) - (1.0 - k)) / math.sqrt(k)
    return normal_upper_nlp(z) if z > 0.0 else 0.0


def score_of(nlp: float, half_nlp: float) -> float:
    """Map nlp to [0, 1): 0 for nothing unusual, 0.5 at ``half_nlp``, towards 1 beyond."""
    if nlp <= 0.0:
        return 0.0
    return nlp / (nlp + half_nlp)
