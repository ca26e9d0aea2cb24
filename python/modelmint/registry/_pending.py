"""Local records of transactions a command sent but may not have seen mined.

A command that cannot find its own transaction again on chain (an OML commit or reveal: the
chain knows the root, not who is about to send it) writes a record before it sends, naming
the signer and the nonce the transaction takes, and deletes it once the receipt is seen. A
re-run that finds a record asks the node what became of that nonce: a transaction still in
the pool refuses the re-run (sending again would race it); a nonce the chain has used, or
one no transaction holds, lets the re-run go on after it has looked for what landed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from modelmint._files import write_atomic
from modelmint.chain.client import Chain, guard
from modelmint.errors import ChainError


@dataclass(frozen=True)
class PendingSend:
    """A transaction about to be sent, or sent and not seen mined: ``nonce`` from ``signer``."""

    path: Path
    signer: str
    nonce: int
    data: dict[str, Any]

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def in_pool(self, chain: Chain) -> str | None:
        """The hash of the record's transaction if the node still holds it unmined ("" when
        the node does not say which), None when its nonce is used or no transaction holds it."""
        signer = Web3.to_checksum_address(self.signer)
        mined = guard(lambda: chain.w3.eth.get_transaction_count(signer, "latest"), chain.url)
        if mined > self.nonce:
            return None
        queued = guard(lambda: chain.w3.eth.get_transaction_count(signer, "pending"), chain.url)
        if queued <= self.nonce:
            return None  # killed before the node had it, or the node dropped it
        try:
            block = guard(lambda: chain.w3.eth.get_block("pending", full_transactions=True), chain.url)
        except ChainError:
            return ""
        transactions: list[Any] = list(block.get("transactions", []))
        for tx in transactions:
            if str(tx.get("from", "")).lower() == self.signer.lower() and tx.get("nonce") == self.nonce:
                return str(tx["hash"].to_0x_hex())
        return ""


def pending_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.pending.json"


def load_pending(path: Path) -> PendingSend | None:
    """The record at ``path``; None if there is none (an unreadable one counts as none: it
    was being written when the process died, before anything was sent)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return PendingSend(path, str(doc["signer"]), int(doc["nonce"]), dict(doc["data"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None


def record_pending(path: Path, chain: Chain, data: dict[str, Any]) -> PendingSend:
    """Record, before sending, the nonce the signer's next transaction takes."""
    signer = chain.signer.address
    nonce = chain.pending_nonce()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    doc = {"signer": signer, "nonce": nonce, "data": data}
    write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode())
    os.chmod(path, 0o600)
    return PendingSend(path, signer, nonce, data)
