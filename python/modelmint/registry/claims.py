"""Who claims a root: every token minted for one dataset or weights root, earliest claim first.

A root is never reserved (docs/security.md, "squatting"): anyone can compute a public
dataset's or model's root, so each mint is a claim dated by its commitment, and readers see
every claimant. The earliest claim is evidence of who fixed the root first, not of who
authored it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modelmint.chain.contracts import DatasetContract, ModelContract
from modelmint.models._details import iso_utc


@dataclass(frozen=True)
class Claim:
    """One claim of a root: the token, its current owner, and when the claim was fixed."""

    token_id: int
    owner: str
    claimed_at: int
    minted_at: int

    @property
    def when(self) -> str:
        return iso_utc(self.claimed_at * 10**9)

    def describe(self, kind: str) -> str:
        return f"{kind} {self.token_id} (owner {self.owner}, claimed {self.when})"


def claims_of(contract: DatasetContract | ModelContract, root: bytes) -> list[Claim]:
    """Every claim of ``root`` in the registry, earliest first (the contract's order)."""
    if isinstance(contract, DatasetContract):
        ids = contract.claims_of_root(root)
    else:
        ids = contract.claims_of_weights(root)
    out = []
    for token_id in ids:
        record = contract.record(token_id)
        out.append(Claim(token_id, record.owner, record.claimed_at, record.minted_at))
    return out


def own_claim(claims: Sequence[Claim], owner: str) -> Claim | None:
    """The earliest of ``claims`` held by ``owner``, if any: re-running a mint reports it."""
    return next((c for c in claims if c.owner.lower() == owner.lower()), None)


def already_registered(kind: str, claims: Sequence[Claim]) -> str:
    """The sentence every "already registered" message uses: each claimant, owner and time, first first."""
    if not claims:
        return ""
    first, rest = claims[0], claims[1:]
    more = f"; later claims: {', '.join(c.describe(kind) for c in rest)}" if rest else ""
    return f"already claimed by {first.describe(kind)}, the earliest claim{more}"
