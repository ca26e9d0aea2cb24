"""Signers outside this process: a browser wallet that signs and sends what the CLI prepared.

:class:`~modelmint.chain.client.Chain` builds each transaction as it does for a local key
(gas estimated, so a revert is reported before anything is signed; fees under the cap) and
hands it to a :class:`RemoteSigner`, which gives back the hash of what the wallet sent.
The wallet picks the nonce, and may change the fees; the chain then checks that the
transaction the hash names is the one asked for (sender, contract, calldata, value, chain)
before it waits for its receipt.

A command can die after the wallet sent a transaction and before its receipt was seen. So
:class:`SentJournal` keeps, in the project folder, the hash of every handed-off transaction
whose receipt is not seen yet; a retry that prepares the same call finds that hash and
waits for it instead of asking the wallet to send the call twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modelmint._files import write_atomic

if TYPE_CHECKING:
    from modelmint.chain.client import TxDescription


class RemoteSigner(Protocol):
    """An account whose key is elsewhere (modelmint.web.handoff is the browser wallet)."""

    @property
    def address(self) -> str:
        """The checksummed account; may wait until the wallet is connected."""
        ...

    def send(self, tx: dict[str, Any], described: TxDescription) -> str:
        """Have ``tx`` (no nonce) signed and sent; return its 0x hash.

        Raises:
            ChainError: the transaction was not sent (refused, the wallet went away).
        """
        ...


@dataclass(frozen=True)
class Call:
    """What makes two transactions the same call: chain, sender, contract, calldata, value."""

    chain_id: int
    sender: str
    to: str | None
    data: str
    value: int

    @classmethod
    def of(cls, chain_id: int, tx: dict[str, Any]) -> Call:
        to = tx.get("to")
        return cls(
            chain_id,
            str(tx["from"]).lower(),
            str(to).lower() if to else None,
            _hex(tx.get("data") or tx.get("input") or "0x"),
            int(tx.get("value") or 0),
        )

    def key(self) -> str:
        return json.dumps([self.chain_id, self.sender, self.to, self.data, self.value])


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value).lower()
    return text if text.startswith("0x") else "0x" + text


class SentJournal:
    """Hashes of handed-off transactions whose receipts were not seen yet, one file per chain.

    Written before the command waits for a receipt, and the entry dropped once the receipt is
    seen, so a retry of a command that died in between finds the transaction again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # half-written when a process died: nothing in it was relied on yet
        return {str(k): str(v) for k, v in entries.items()} if isinstance(entries, dict) else {}

    def _write(self, entries: dict[str, str]) -> None:
        if not entries:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.path, (json.dumps(entries, indent=1) + "\n").encode())
        os.chmod(self.path, 0o600)

    def find(self, call: Call) -> str | None:
        return self._read().get(call.key())

    def record(self, call: Call, tx_hash: str) -> None:
        entries = self._read()
        entries[call.key()] = tx_hash
        self._write(entries)

    def forget(self, tx_hash: str) -> None:
        entries = self._read()
        kept = {k: v for k, v in entries.items() if v.lower() != tx_hash.lower()}
        if kept != entries:
            self._write(kept)
