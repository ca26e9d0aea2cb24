"""One connection to a node, one way to call and to send a transaction, one error decoder.

Every chain command goes through :class:`Chain`: it resolves the RPC URL (``--rpc-url`` or
the recorded devnet), checks the node answers, signs with the key the wallet rules allow,
and turns every failure into a one-line :class:`~modelmint.errors.ChainError`, with
custom-error reverts decoded by name from the contracts' ABIs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

import requests
from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception, Web3RPCError
from web3.types import RPCEndpoint

from modelmint.chain import devnet, wallet
from modelmint.chain.artifacts import load_artifact
from modelmint.errors import ChainError, RevertError
from modelmint.home import Home

CONTRACT_NAMES = ("DatasetNFT", "ModelNFT")
_RECEIPT_TIMEOUT_S = 180
# Blocks a transaction must be buried under before a command goes on, off the devnet: a shallow
# reorganisation can drop a transaction that a single receipt showed as mined.
DEFAULT_CONFIRMATIONS = 3
_POLL_S = 1.0
T = TypeVar("T")

# Hints for the reverts a user can cause; the decoded name and values say the rest.
_FIXES = {
    "MintCommitmentUnknown": "send the reveal from the key that committed, with its root and salt, once",
    "MintCommitmentNotMatured": "wait for the next block after the commitment, then reveal",
    "MintCommitmentExists": "that commitment was made already; reveal it, or commit with a new salt",
    "ModelUnexpectedTokenId": "another mint came first; run the mint again (the fingerprints are rebuilt for the new id)",
    "ModelFingerprintCommittedElsewhere": "that commitment belongs to another token; build one for this token",
    "ERC721NonexistentToken": "check the token id: ids run from 1 to the registry's totalMinted",
    "ModelUnknownParent": "give the token id of a registered model as the parent",
    "ModelUnknownDataset": "give token ids of registered datasets as the training datasets",
    "ModelUnauthorized": "send from the key that owns the token or is approved for it",
    "IpfsURIInvalid": "metadata must be an ipfs://<CIDv1 base32 sha2-256> URI",
    "ModelFingerprintAlreadyCommitted": "a fingerprint kind is committed once per model; reveal from that commitment",
    "ModelFingerprintNotCommitted": "commit fingerprints on the token first",
    "ModelFingerprintAlreadyRevealed": "that fingerprint is public already; reveal one that is not",
    "ModelInvalidFingerprintProof": "these fingerprints or salts are not the ones committed on this token; "
    "use the secrets file written when they were committed on it",
}


@dataclass(frozen=True)
class Sent:
    """A mined transaction: its hash, block, gas used and decoded receipt."""

    tx_hash: str
    block: int
    gas_used: int
    receipt: Any = field(repr=False)


class Chain:
    """A checked connection to one node, with the signing rules of :mod:`modelmint.chain.wallet`."""

    def __init__(self, w3: Web3, url: str, home: Home, keystore: Path | None = None) -> None:
        self.w3 = w3
        self.url = url
        self.home = home
        self._keystore = keystore
        self.receipt_timeout_s: float = _RECEIPT_TIMEOUT_S
        self.poll_s: float = _POLL_S
        self.chain_id = guard(lambda: w3.eth.chain_id, url)
        # The devnet mines each transaction at once and never reorganises.
        self.confirmations = 1 if self.chain_id == devnet.DEV_CHAIN_ID else DEFAULT_CONFIRMATIONS

    @classmethod
    def connect(cls, home: Home, rpc_url: str | None = None, keystore: Path | None = None) -> Chain:
        url = rpc_url or _devnet_url(home)
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
        return cls(w3, url, home, keystore)

    @cached_property
    def signer(self) -> LocalAccount:
        return wallet.load_signer(self.chain_id, self._keystore, self.url)

    def call(self, fn: Any) -> Any:
        """A view call; reverts come back decoded."""
        return guard(fn.call, self.url)

    def send(self, fn: Any) -> Sent:
        """Sign and send a contract call, wait for it to be mined, and check it succeeded.

        The gas estimate runs the call first, so a revert is reported (decoded) before
        anything is signed or sent, and nothing is left half-done on the chain.
        """
        signer = self.signer

        def build() -> dict[str, Any]:
            tx: dict[str, Any] = fn.build_transaction(
                {
                    "from": signer.address,
                    "nonce": self.w3.eth.get_transaction_count(signer.address, "pending"),
                    "chainId": self.chain_id,
                }
            )
            return tx

        return self._sign_and_wait(guard(build, self.url), replay=fn)

    def deploy(self, name: str, *args: Any) -> tuple[str, Sent]:
        """Deploy an artifact's contract; returns its address and the mined transaction."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        signer = self.signer

        def build() -> dict[str, Any]:
            tx: dict[str, Any] = factory.constructor(*args).build_transaction(
                {
                    "from": signer.address,
                    "nonce": self.w3.eth.get_transaction_count(signer.address, "pending"),
                    "chainId": self.chain_id,
                }
            )
            return tx

        sent = self._sign_and_wait(guard(build, self.url))
        return sent.receipt["contractAddress"], sent

    def _sign_and_wait(self, tx: dict[str, Any], replay: Any = None) -> Sent:
        signed = self.signer.sign_transaction(tx)
        tx_hash = guard(lambda: self.w3.eth.send_raw_transaction(signed.raw_transaction), self.url)
        try:
            receipt = guard(
                lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout_s),
                self.url,
            )
        except TimeExhausted:
            raise ChainError(
                f"transaction {tx_hash.to_0x_hex()} was not mined within {self.receipt_timeout_s:g} s",
                "check the node; re-running the command is safe, it reports what already landed",
            ) from None
        if receipt["status"] != 1:
            raise self._failure(tx_hash.to_0x_hex(), tx, receipt, replay)
        if self.confirmations > 1:
            receipt = self._confirmed(tx_hash, receipt)
        return Sent(tx_hash.to_0x_hex(), receipt["blockNumber"], receipt["gasUsed"], receipt)

    def _confirmed(self, tx_hash: Any, receipt: Any) -> Any:
        """The receipt once ``confirmations`` blocks of the canonical chain hold it.

        After a reorganisation the receipt is looked up again: a transaction re-included in
        another block is followed there; one dropped altogether is reported, never assumed.
        """
        deadline = time.monotonic() + self.receipt_timeout_s
        while True:
            head = guard(lambda: self.w3.eth.get_block("latest"), self.url)
            try:
                current = guard(lambda: self.w3.eth.get_transaction_receipt(tx_hash), self.url)
            except ChainError:
                current = None  # web3 raises TransactionNotFound (a Web3Exception) once it is gone
            if current is None and _still_pending(self, tx_hash) and time.monotonic() < deadline:
                time.sleep(self.poll_s)  # reorganised out, back in the node's pool: it will be mined again
                continue
            if current is None:
                raise ChainError(
                    f"transaction {tx_hash.to_0x_hex()} was mined in block {receipt['blockNumber']}, "
                    "then dropped by a reorganisation of the chain",
                    "run the command again: it reports what already landed and sends only what did not",
                )
            if current["status"] != 1:
                raise ChainError(
                    f"transaction {tx_hash.to_0x_hex()} failed on-chain after a reorganisation", None
                )
            depth = head["number"] - current["blockNumber"] + 1
            canonical = guard(partial(self.w3.eth.get_block, current["blockNumber"]), self.url)
            if canonical["hash"] == current["blockHash"] and depth >= self.confirmations:
                return current
            if time.monotonic() > deadline:
                raise ChainError(
                    f"transaction {tx_hash.to_0x_hex()} has {max(depth, 0)} of {self.confirmations} confirmations "
                    f"after {self.receipt_timeout_s:g} s",
                    "check the node; re-running the command is safe, it reports what already landed",
                )
            time.sleep(self.poll_s)

    def _failure(self, tx_hash: str, tx: dict[str, Any], receipt: Any, replay: Any) -> ChainError:
        """Why a mined transaction failed, decoded against the state it ran on.

        The node's own trace of the transaction is exact. A node without the debug API gets
        the call replayed on the state its block started from: state after the block can
        differ (a later transaction of the same block may have made the call valid).
        """
        try:
            trace = self.w3.provider.make_request(
                RPCEndpoint("debug_traceTransaction"), [tx_hash, {"tracer": "callTracer"}]
            )
            output = (trace.get("result") or {}).get("output")
        except (Web3Exception, requests.RequestException, ValueError, AttributeError):
            output = None
        if isinstance(output, str) and len(output) >= 10:
            return decode_revert(output)
        if replay is not None:
            parent = receipt["blockNumber"] - 1
            try:
                guard(lambda: replay.call({"from": tx["from"]}, block_identifier=parent), self.url)
            except ChainError as reason:
                return reason
        return ChainError(f"transaction {tx_hash} failed on-chain", "see the node's logs")


def _still_pending(chain: Chain, tx_hash: Any) -> bool:
    try:
        return guard(lambda: chain.w3.eth.get_transaction(tx_hash), chain.url) is not None
    except ChainError:
        return False


def guard(action: Callable[[], T], url: str) -> T:
    """Run one RPC action, turning transport errors and reverts into ChainErrors."""
    try:
        return action()
    except TimeExhausted:
        raise  # a Web3Exception too, but the caller knows what it waited for and says so
    except ContractLogicError as exc:
        raise decode_revert(exc.data, str(exc.message or exc)) from None
    except (requests.ConnectionError, requests.Timeout, ConnectionError) as exc:
        raise ChainError(
            f"no Ethereum node answers at {url}",
            "start a devnet (devnet.start) or connect to a working node",
            hint="no-node",
        ) from exc
    except Web3RPCError as exc:
        raise ChainError(f"the node at {url} refused the request: {exc.message or exc}", None) from None
    except Web3Exception as exc:
        raise ChainError(f"the node at {url} failed the request: {exc}", None) from None


def decode_revert(data: Any, message: str = "") -> ChainError:
    """A revert's custom error decoded by name from the known ABIs, or the raw reason."""
    raw = data if isinstance(data, str) else (data or {}).get("data") if isinstance(data, dict) else None
    if isinstance(raw, str) and raw.startswith("0x") and len(raw) >= 10:
        known = _error_abis().get(raw[2:10].lower())
        if known is not None:
            contract, abi = known
            types = [_abi_type(i) for i in abi["inputs"]]
            try:
                values = abi_decode(types, bytes.fromhex(raw[10:]))
            except (ValueError, TypeError, DecodingError):  # a node or contract that lies about its data
                return ChainError(
                    f"the call reverted with {abi['name']} and undecodable data {raw[:74]}", None
                )
            args = {
                i["name"] or f"arg{n}": _plain(v)
                for n, (i, v) in enumerate(zip(abi["inputs"], values, strict=True))
            }
            return RevertError(contract, abi["name"], args, _FIXES.get(abi["name"]))
    return ChainError(f"the call reverted: {message or raw or 'no reason given'}", None)


def _devnet_url(home: Home) -> str:
    running = devnet.status(home)
    if running is None:
        raise ChainError(
            "no devnet is running and no node URL was given",
            "start a devnet (devnet.start) or give the URL of a node",
            hint="no-devnet",
        )
    return running.url


@lru_cache(maxsize=1)
def _error_abis() -> dict[str, tuple[str, dict[str, Any]]]:
    selectors: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in CONTRACT_NAMES:
        for item in load_artifact(name).abi:
            if item.get("type") == "error":
                signature = f"{item['name']}({','.join(_abi_type(i) for i in item['inputs'])})"
                selector = keccak(text=signature)[:4].hex()
                if selector in selectors and selectors[selector][0] != name:
                    # Shared errors (OpenZeppelin's ERC-721 ones): the revert data cannot say which.
                    selectors[selector] = ("DatasetNFT or ModelNFT", item)
                else:
                    selectors[selector] = (name, item)
    return selectors


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){param['type'][5:]}"
    return str(param["type"])


def _plain(value: Any) -> Any:
    return "0x" + value.hex() if isinstance(value, bytes) else value
