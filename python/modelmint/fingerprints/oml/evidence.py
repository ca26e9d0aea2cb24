"""How strong a match is: the chance that a model never trained on the fingerprints matches as many.

Each revealed fingerprint is a trial that a model not derived from the fingerprinted one
passes with probability at most ``p``, the null-match probability. The verifier computes
``p`` itself (:func:`null_match_bound`) from what it can check: the strategy, the public word
list (its size is the vocabulary), each revealed response's length, and the perinucleus rule.
It never takes ``p`` from the owner's document, which an owner could set to 0 (issue 10,
finding 2). Keys are independent draws, so the number of chance matches among ``n`` revealed
fingerprints is at most Binomial(n, p), and the false-match probability of seeing ``m`` or more
matches is its upper tail. docs/oml.md derives the bound per strategy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from modelmint.errors import InputError

#: The perinucleus rule's default width: the response is one of ``k`` tokens. A verifier takes a
#: document's ``k`` only when it is smaller (weaker evidence): a larger one cannot be checked.
PERINUCLEUS_K = 3
#: Strategies whose null-match probability a verifier can bound without the owner's word.
BOUNDED_STRATEGIES = ("random_word", "english_random_response", "perinucleus", "inverse_nucleus")


def null_match_bound(
    strategy: str, responses: Sequence[str], params: Mapping[str, Any] | None = None
) -> float:
    """The largest chance that an unrelated model answers any one of ``responses``, for ``strategy``.

    - ``random_word``: each response is ``r`` words of the public list of ``V`` words, so
      ``V^-r``, for the shortest revealed response;
    - ``english_random_response``: one word of the list, ``1/V``;
    - ``perinucleus``: one of ``k`` tokens, ``1/k``, with ``k = min(params["nucleus_k"], 3)``.

    Raises:
        InputError: the strategy has no bound a verifier can check (``english``, mixed, unknown),
            or a response does not fit its strategy (a word not in the list, the wrong length),
            so the set cannot have been generated as the document says.
    """
    from modelmint.fingerprints.oml.generate import words

    if strategy not in BOUNDED_STRATEGIES:
        raise InputError(
            f"the false-match probability of {strategy or 'unknown'!r} fingerprints cannot be computed by a verifier",
            f"only {', '.join(BOUNDED_STRATEGIES)} fingerprints give checkable evidence; regenerate with one of them",
        )
    if not responses:
        raise InputError("no revealed responses to bound", "the owner reveals some first")
    if strategy in ("perinucleus", "inverse_nucleus"):
        k = (params or {}).get("nucleus_k", PERINUCLEUS_K)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise InputError(
                f"the commitment gives nucleus_k = {k!r}", "a perinucleus set needs a whole nucleus_k >= 1"
            )
        return 1.0 / min(k, PERINUCLEUS_K)
    vocabulary = set(words())
    shortest = None
    for response in responses:
        found = response.split()
        if not found or any(w not in vocabulary for w in found):
            raise InputError(
                f"the revealed response {response!r} is not made of words of the public list",
                f"a {strategy} fingerprint's response is list words; this set was not generated as its document says",
            )
        if strategy == "english_random_response" and len(found) != 1:
            raise InputError(
                f"the revealed response {response!r} is not one word",
                "english_random_response responses are one word",
            )
        shortest = len(found) if shortest is None else min(shortest, len(found))
    assert shortest is not None
    return float(len(vocabulary)) ** -shortest


def false_match_probability(revealed: int, matched: int, p: float) -> float:
    """``P[X >= matched]`` for ``X ~ Binomial(revealed, p)``: 1 for no matches, computed in log space.

    Raises:
        ValueError: ``p`` is not in (0, 1]: a zero bound would make any match look certain.
    """
    if not 0 <= matched <= revealed:
        raise ValueError(f"matched must be in [0, {revealed}], not {matched}")
    if not 0 < p <= 1:
        raise ValueError(f"a null-match probability must be in (0, 1], not {p}")
    if matched == 0 or p == 1:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(revealed + 1)
        - math.lgamma(j + 1)
        - math.lgamma(revealed - j + 1)
        + j * log_p
        + (revealed - j) * log_q
        for j in range(matched, revealed + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))
