"""How strong a match is: the chance that a model never trained on the fingerprints matches as many.

Each revealed fingerprint is a trial that a model not derived from the fingerprinted one
passes with probability at most ``p`` (the null-match probability of the set, recorded at
generation: docs/oml.md derives it per strategy). Keys are independent draws, so the number
of chance matches among ``n`` revealed fingerprints is at most Binomial(n, p), and the
false-match probability of seeing ``m`` or more matches is its upper tail.
"""

from __future__ import annotations

import math


def false_match_probability(revealed: int, matched: int, p: float) -> float:
    """``P[X >= matched]`` for ``X ~ Binomial(revealed, p)``: 1 for no matches, computed in log space."""
    if not 0 <= matched <= revealed:
        raise ValueError(f"matched must be in [0, {revealed}], not {matched}")
    if matched == 0:
        return 1.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(revealed + 1) - math.lgamma(j + 1) - math.lgamma(revealed - j + 1) + j * log_p + (revealed - j) * log_q
        for j in range(matched, revealed + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))
