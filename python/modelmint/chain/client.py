"""One connection to a node, one way to call and to send a transaction, one error decoder.

Every chain command goes through :class:`Chain`: it resolves the RPC URL (``--rpc-url`` or
the recorded devnet), checks the node answers, signs with the key the wallet rules allow,
and turns every failure into a one-line :class:`~modelmint.errors.ChainError`, with
custom-error reverts decoded by name from the contracts' ABIs.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache, partial
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import requests
from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception, Web3RPCError
from web3.types import RPCEndpoint

from modelmint._faults import fault_point
from modelmint.chain import devnet, wallet
from modelmint.chain.artifacts import load_artifact
from modelmint.chain.nonces import NonceLock, Nonces, already_known, lock_path, nonce_taken
from modelmint.chain.remote import Call, RemoteSigner, SentJournal
from modelmint.errors import ChainError, RevertError
from modelmint.home import Home

CONTRACT_NAMES = ("DatasetNFT", "ModelNFT")
_DESCRIBED = "modelmint.described"  # the TxDescription a prepared transaction carries to a remote signer
_RECEIPT_TIMEOUT_S = 180
# Blocks a transaction must be buried under before a command goes on, off the devnet: a shallow
# reorganisation can drop a transaction that a single receipt showed as mined.
DEFAULT_CONFIRMATIONS = 3
_POLL_S = 1.0
DEFAULT_WINDOW = 64
"""Transactions :meth:`Chain.send_many` keeps in flight: enough to hide a node's round trip
and a block's wait, few enough that a failure stops little behind it."""
_BATCH_CALLS = 500  # requests per JSON-RPC batch, under the limits public nodes set
_NONCE_ATTEMPTS = 5  # sends of one transaction whose nonce another sender took meanwhile
DEFAULT_MAX_FEE_WEI = 10**17
"""The most a transaction may cost at worst (gas limit * maxFeePerGas), 0.1 ETH: every mint
fits at 100 gwei (a dataset mint uses about 150k gas) and a lying node takes at most that per
transaction, where before it could set fees up to 20 ETH. Deploying ModelNFT (3.1M gas) on a
busy mainnet needs the cap raised on purpose."""
DEFAULT_LOG_SPAN = 10_000
"""Blocks asked for per ``eth_getLogs`` call: the range most public RPC services accept."""
CHAIN_NAMES = {
    1: "Ethereum mainnet",
    10: "OP Mainnet",
    137: "Polygon",
    8453: "Base",
    17000: "Holesky",
    42161: "Arbitrum One",
    84532: "Base Sepolia",
    560048: "Hoodi",
    11155111: "Sepolia",
    devnet.DEV_CHAIN_ID: "anvil devnet",
}
T = TypeVar("T")


def chain_name(chain_id: int) -> str:
    """The common name of a chain id ("Sepolia"), or "unknown chain"."""
    return CHAIN_NAMES.get(chain_id, "unknown chain")


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
class TxDescription:
    """What a transaction will do and cost at most, shown before it is signed (:attr:`Chain.confirm`)."""

    chain_id: int
    contract: str  # the contract's name, e.g. "DatasetNFT"
    address: str | None  # None for a deployment
    function: str  # "constructor" for a deployment
    args: dict[str, Any]
    gas: int
    max_fee_per_gas: int  # wei
    max_fee: int  # wei: gas * max_fee_per_gas, the most it can cost
    value: int = 0  # wei sent with the call

    @property
    def chain_name(self) -> str:
        return chain_name(self.chain_id)

    def lines(self) -> list[str]:
        where = f"at {self.address}" if self.address else "(a new deployment)"
        args = ", ".join(f"{k}={_shown(v)}" for k, v in self.args.items())
        return [
            f"chain    {self.chain_id} ({self.chain_name})",
            f"contract {self.contract} {where}",
            f"call     {self.function}({args})",
            f"gas      {self.gas:,} at {self.max_fee_per_gas / 10**9:g} gwei at most: maximum fee {format_eth(self.max_fee)} ETH",
        ]


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
        chain_id = guard(lambda: w3.eth.chain_id, url)
        if not isinstance(chain_id, int) or not 0 < chain_id < 2**64:  # EIP-2294's bound
            raise ChainError(f"the node at {url} reports {_shown(chain_id)!r} as its chain id", _CHECK_NODE)
        self.chain_id: int = chain_id
        # The devnet mines each transaction at once and never reorganises.
        self.confirmations = 1 if self.chain_id == devnet.DEV_CHAIN_ID else DEFAULT_CONFIRMATIONS
        self.max_fee_wei: int = DEFAULT_MAX_FEE_WEI
        """The cap on a transaction's maximum fee (gas limit * maxFeePerGas), in wei."""
        self.log_span: int = DEFAULT_LOG_SPAN
        """Blocks per ``eth_getLogs`` call (:func:`modelmint.chain.contracts.event_logs`)."""
        self.confirm: Callable[[TxDescription], bool] | None = None
        """Asked before each transaction is signed on any chain but this project's devnet;
        False stops it. None (the default for library users): nothing is asked."""
        self._remote: RemoteSigner | None = None

    @classmethod
    def connect(
        cls,
        home: Home,
        rpc_url: str | None = None,
        keystore: Path | None = None,
        *,
        chain_id: int | None = None,
    ) -> Chain:
        """A connection to the node at ``rpc_url`` [default: the recorded devnet].

        Raises:
            ChainError: no node answers, or ``chain_id`` is given and the node reports another.
        """
        url = rpc_url or _devnet_url(home)
        # web3 asks the node for its chain id before every call and estimate it checks; a node's
        # chain id is fixed, so the answer is kept (a third of a batch's round trips otherwise).
        provider = Web3.HTTPProvider(
            url,
            request_kwargs={"timeout": 30},
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
        )
        w3 = Web3(provider)
        chain = cls(w3, url, home, keystore)
        if chain_id is not None and chain.chain_id != chain_id:
            raise ChainError(
                f"the node at {url} reports chain {chain.chain_id}, not chain {chain_id}; nothing was sent",
                f"connect to a node of chain {chain_id}",
                hint="rpc-url",
                hint_values={"chain_id": chain_id},
            )
        return chain

    @cached_property
    def devnet_url(self) -> str | None:
        """The URL of the devnet this project folder recorded, if it runs."""
        running = devnet.status(self.home)
        return running.url if running is not None else None

    @property
    def chain_name(self) -> str:
        return chain_name(self.chain_id)

    @property
    def is_devnet(self) -> bool:
        """Whether this is the project's own devnet: the dev keys sign, nothing is confirmed."""
        return self.chain_id == devnet.DEV_CHAIN_ID and wallet.is_recorded_devnet(self.url, self.devnet_url)

    def use_remote_signer(self, remote: RemoteSigner) -> None:
        """Hand every transaction to ``remote`` (a browser wallet) instead of signing here.

        The wallet asks its user, so :attr:`confirm` is not asked; the fee cap still applies
        to what is prepared.
        """
        if self._keystore is not None:
            raise ChainError(
                "both a keystore and a remote wallet were given to sign with",
                "choose one: the keystore, or the browser wallet",
                hint="one-signer",
            )
        self._remote = remote

    @cached_property
    def signer(self) -> LocalAccount | RemoteSigner:
        """Who signs: the remote wallet if one is used, else the key the wallet rules allow."""
        if self._remote is None:
            return wallet.load_signer(self.chain_id, self._keystore, self.url, devnet_url=self.devnet_url)
        address = self._remote.address
        if not self.is_devnet and wallet.is_dev_address(address):
            raise ChainError(
                f"the wallet's account {address} is a public anvil dev key, refused on chain {self.chain_id} "
                "(anyone can sign as it)",
                "switch the wallet to an account of your own",
            )
        return self._remote

    @cached_property
    def sent_journal(self) -> SentJournal:
        """Handed-off transactions whose receipts are not seen yet (:mod:`modelmint.chain.remote`)."""
        return SentJournal(self.home.root / "sent" / f"{self.chain_id}.json")

    def call(self, fn: Any) -> Any:
        """A view call; reverts come back decoded."""
        return guard(fn.call, self.url)

    def call_many(self, fns: Sequence[Any]) -> list[Any]:
        """View calls sent in JSON-RPC batches: one round trip for many reads, results in order."""
        out: list[Any] = []
        for start in range(0, len(fns), _BATCH_CALLS):
            out.extend(guard(partial(self._batch, fns[start : start + _BATCH_CALLS]), self.url))
        return out

    def block_timestamps(self, numbers: Sequence[int]) -> dict[int, int]:
        """The timestamp of each block in ``numbers``, read in JSON-RPC batches."""
        wanted = sorted(set(numbers))
        out: dict[int, int] = {}
        for start in range(0, len(wanted), _BATCH_CALLS):
            part = wanted[start : start + _BATCH_CALLS]
            blocks = guard(partial(self._batch, [partial(self.w3.eth.get_block, n) for n in part]), self.url)
            out.update((n, int(block["timestamp"])) for n, block in zip(part, blocks, strict=True))
        return out

    def _batch(self, requests: Sequence[Any]) -> list[Any]:
        # A request is a contract call (``fn``, called as ``fn.call()`` in the batch) or a
        # callable making one ``w3.eth`` request, which batching mode queues instead of sending.
        with self.w3.batch_requests() as batch:
            for request in requests:
                batch.add(request if hasattr(request, "call") else request())
            return list(batch.execute())

    def send(self, fn: Any) -> Sent:
        """Sign and send a contract call, wait for it to be mined, and check it succeeded.

        The gas estimate runs the call first, so a revert is reported (decoded) before
        anything is signed or sent, and nothing is left half-done on the chain.
        """
        return self._sign_and_wait(guard(partial(self._build, fn), self.url), replay=fn)

    def send_many(self, fns: Iterable[Any], *, window: int = DEFAULT_WINDOW) -> list[Sent | ChainError]:
        """Send many contract calls, pipelined: up to ``window`` transactions in flight at once.

        Each call is built (and its gas estimated, so a revert is that call's error and
        nothing is sent for it) and sent as :meth:`send` does, with nonces from the same lock;
        the receipts are waited for oldest first while later calls are sent. ``fns`` is read
        as the window has room, so a generator may prepare each call just in time. Returns
        one result per call, in order: its mined transaction, or the ChainError that stopped it.
        """
        calls = iter(fns)
        results: dict[int, Sent | ChainError] = {}
        in_flight: deque[tuple[int, Any, HexBytes, dict[str, Any]]] = deque()
        mined: dict[HexBytes, Any] = {}
        count, more = 0, True
        while more or in_flight:
            if more and len(in_flight) <= window // 2:
                # Sent a window at a time, so that one hold of the nonce lock covers many sends.
                room, taken = window - len(in_flight), 0
                built: list[tuple[int, Any, dict[str, Any]]] = []
                fees = guard(self._fee_quote, self.url)  # one quote a window, not two calls a transaction
                for fn in islice(calls, room):
                    try:
                        built.append((count, fn, guard(partial(self._build, fn, fees), self.url)))
                    except ChainError as exc:
                        results[count] = exc
                    count, taken = count + 1, taken + 1
                more = taken == room
                submitted = self._submit([tx for _, _, tx in built]) if built else []
                for (i, fn, _), outcome in zip(built, submitted, strict=True):
                    if isinstance(outcome, ChainError):
                        results[i] = outcome
                    else:
                        in_flight.append((i, fn, *outcome))
                continue
            if in_flight[0][2] not in mined:
                # One round trip for the receipts of everything in flight; those not mined yet
                # are waited for one by one as they come to the front.
                mined.update(self._receipts([h for _, _, h, _ in in_flight]))
            i, fn, tx_hash, tx = in_flight.popleft()
            try:
                results[i] = self._receipt(tx_hash, tx, fn, mined.pop(tx_hash, None))
            except ChainError as exc:
                results[i] = exc
        return [results[i] for i in range(count)]

    def _build(self, fn: Any, fees: dict[str, int] | None = None) -> dict[str, Any]:
        """The transaction of a contract call from the signer, its gas estimated, without a
        nonce; its fees are ``fees`` [default: the node's quote, as web3 asks for it]."""
        tx: dict[str, Any] = fn.build_transaction(
            {
                "from": self.signer.address,
                "chainId": self.chain_id,  # the nonce is given under the nonce lock (_submit)
                **(fees or {}),
            }
        )
        return self._vetted(
            tx, lambda: (_contract_name(fn), fn.address, fn.fn_name, _named_args(fn.abi, fn.args))
        )

    def _receipts(self, hashes: Sequence[HexBytes]) -> dict[HexBytes, Any]:
        """The receipts of those of ``hashes`` that are mined, in one JSON-RPC batch."""
        asks = [partial(self.w3.eth.get_transaction_receipt, h) for h in hashes]
        try:
            found = guard(partial(self._batch, asks), self.url)
        except ChainError:
            return {}  # web3 refuses a whole batch where one is not mined yet: wait one by one
        return {h: r for h, r in zip(hashes, found, strict=True) if r is not None}

    def _fee_quote(self) -> dict[str, int] | None:
        """EIP-1559 fees as web3 quotes them for one transaction (the node's tip, plus twice
        the latest base fee, which covers several blocks of rising base fees); None on a
        chain without a base fee."""
        base = self.w3.eth.get_block("latest").get("baseFeePerGas")
        if base is None:
            return None
        tip = int(self.w3.eth.max_priority_fee)
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": tip + 2 * int(base)}

    def _vetted(
        self, tx: dict[str, Any], call: Callable[[], tuple[str, str | None, str, dict[str, Any]]]
    ) -> dict[str, Any]:
        """``tx`` once its fee is under the cap and, off the devnet, the confirm hook agreed.

        ``call`` names the contract, address, function and arguments, looked up only when they
        are shown (a pipelined batch on the devnet never needs them). Runs before the nonce is
        taken and anything is signed, so a refusal leaves nothing behind.
        """
        gas, per_gas = int(tx["gas"]), int(tx.get("maxFeePerGas", tx.get("gasPrice", 0)))
        # A remote wallet asks its user itself, and shows them the description it is given.
        ask = not self.is_devnet and self.confirm is not None and self._remote is None
        if gas * per_gas <= self.max_fee_wei and not ask and self._remote is None:
            return tx
        value = int(tx.get("value") or 0)
        described = TxDescription(self.chain_id, *call(), gas, per_gas, gas * per_gas, value)
        what = f"{described.contract}.{described.function}"
        if described.max_fee > self.max_fee_wei:
            raise ChainError(
                f"the node at {self.url} quotes a maximum fee of {format_eth(described.max_fee)} ETH for "
                f"{what} ({gas:,} gas at {per_gas / 10**9:g} gwei), above the cap of "
                f"{format_eth(self.max_fee_wei)} ETH; nothing was signed",
                "raise the cap (Chain.max_fee_wei) if that fee is expected, or use another node",
                hint="max-fee",
            )
        if ask and self.confirm is not None and not self.confirm(described):
            raise ChainError(f"{what} was not confirmed; nothing was signed or sent", None)
        if self._remote is not None:
            return {**tx, _DESCRIBED: described}  # taken off again before it is handed off
        return tx

    def deploy(self, name: str, *args: Any) -> tuple[str, Sent]:
        """Deploy an artifact's contract; returns its address and the mined transaction."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        signer = self.signer

        def build() -> dict[str, Any]:
            tx: dict[str, Any] = factory.constructor(*args).build_transaction(
                {
                    "from": signer.address,
                    "chainId": self.chain_id,  # the nonce is given under the nonce lock (_submit)
                }
            )
            constructor: dict[str, Any] = next(
                (i for i in artifact.abi if i.get("type") == "constructor"), {"inputs": []}
            )
            return self._vetted(tx, lambda: (name, None, "constructor", _named_args(constructor, args)))

        sent = self._sign_and_wait(guard(build, self.url))
        return sent.receipt["contractAddress"], sent

    def _sign_and_wait(self, tx: dict[str, Any], replay: Any = None) -> Sent:
        submitted = self._submit([tx])[0]
        if isinstance(submitted, ChainError):
            raise submitted
        tx_hash, tx = submitted
        fault_point("after-send")
        sent = self._receipt(tx_hash, tx, replay)
        fault_point("after-receipt")
        return sent

    @cached_property
    def nonce_lock(self) -> NonceLock:
        """The signer's nonces on this chain, shared by every process of the project folder."""
        return NonceLock(lock_path(self.home, self.chain_id, self.signer.address))

    def pending_nonce(self) -> int:
        """The node's count of the signer's transactions, pending ones included."""
        address = Web3.to_checksum_address(self.signer.address)
        return guard(lambda: self.w3.eth.get_transaction_count(address, "pending"), self.url)

    def _submit(self, txs: Sequence[dict[str, Any]]) -> list[tuple[HexBytes, dict[str, Any]] | ChainError]:
        """Give each built transaction the next nonce, sign it and send it, in order, under
        the nonce lock (docs/security.md, "Nonces"); one refused send does not leave a gap."""
        if self._remote is not None:
            return list(self._hand_off(self._remote, txs))
        out: list[tuple[HexBytes, dict[str, Any]] | ChainError] = []
        with self.nonce_lock.hold(self.pending_nonce) as nonces:
            for tx in txs:
                try:
                    out.append(self._send_next(tx, nonces))
                except ChainError as exc:
                    out.append(exc)
        return out

    def _hand_off(
        self, remote: RemoteSigner, txs: Sequence[dict[str, Any]]
    ) -> Iterable[tuple[HexBytes, dict[str, Any]]]:
        """Hand each transaction to the remote wallet in order, and check what it sent.

        A transaction a previous run handed off and never saw mined is waited for again, not
        sent twice. A refusal raises: the wallet's user said no, so nothing after it is asked.
        """
        for prepared in txs:
            tx = dict(prepared)
            described: TxDescription = tx.pop(_DESCRIBED)
            call = Call.of(self.chain_id, tx)
            earlier = self.sent_journal.find(call)
            if earlier is not None and _still_pending(self, HexBytes(earlier)):
                yield HexBytes(earlier), tx
                continue
            tx_hash = remote.send(tx, described)
            self.sent_journal.record(call, tx_hash)
            self._check_handed_off(tx_hash, call, described)
            yield HexBytes(tx_hash), tx

    def _check_handed_off(self, tx_hash: str, call: Call, described: TxDescription) -> None:
        """That ``tx_hash`` names the very call that was handed off: the wallet, or a page
        between it and this process, may have sent something else."""
        deadline = time.monotonic() + self.receipt_timeout_s
        what = f"{described.contract}.{described.function}"
        while True:
            try:
                found = guard(partial(self.w3.eth.get_transaction, HexBytes(tx_hash)), self.url)
            except ChainError:
                found = None  # the wallet's node may not have passed it to this one yet
            if found is not None:
                break
            if time.monotonic() > deadline:
                raise ChainError(
                    f"the wallet reported {tx_hash} for {what}, but the node at {self.url} has not seen it "
                    f"after {self.receipt_timeout_s:g} s",
                    "check the wallet's activity; running the command again waits for it, it does not send twice",
                )
            time.sleep(self.poll_s)
        sent = Call.of(int(found.get("chainId", self.chain_id)), dict(found))
        differs = [
            name
            for name, ok in (
                ("chain", sent.chain_id == call.chain_id),
                ("sender", sent.sender == call.sender),
                ("contract", sent.to == call.to),
                ("calldata", sent.data == call.data),
                ("value", sent.value == call.value),
            )
            if not ok
        ]
        if differs:
            self.sent_journal.forget(tx_hash)
            raise ChainError(
                f"the wallet sent {tx_hash}, which is not the {what} it was asked to sign "
                f"(its {', '.join(differs)} differs); it is not taken as that step",
                "check what your wallet sends, and run the command again",
            )

    def _send_next(self, tx: dict[str, Any], nonces: Nonces) -> tuple[HexBytes, dict[str, Any]]:
        signer = self.signer
        assert isinstance(signer, LocalAccount)  # remote signers never come here (_submit)
        for _ in range(_NONCE_ATTEMPTS):
            tx = {**tx, "nonce": nonces.next}
            signed = signer.sign_transaction(tx)
            fault_point("before-send")
            try:
                tx_hash = guard(partial(self.w3.eth.send_raw_transaction, signed.raw_transaction), self.url)
            except ChainError as exc:
                if already_known(str(exc)):
                    tx_hash = signed.hash  # a retried send of this very transaction: it is in the pool
                elif nonce_taken(str(exc)):
                    nonces.resync()  # another sender (not under this lock) took it: sign again
                    continue
                else:
                    raise
            nonces.sent(tx["nonce"])
            return tx_hash, tx
        raise ChainError(
            f"the node refused {_NONCE_ATTEMPTS} nonces in a row for {self.signer.address}",
            "another program is sending from this key at the same time; stop it, or use another key",
        )

    def _receipt(
        self, tx_hash: HexBytes, tx: dict[str, Any], replay: Any = None, receipt: Any = None
    ) -> Sent:
        """Wait for a sent transaction to be mined (and confirmed), and check it succeeded;
        ``receipt`` is its receipt if already read."""
        try:
            receipt = receipt or guard(
                lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout_s),
                self.url,
            )
        except TimeExhausted:
            raise ChainError(
                f"transaction {tx_hash.to_0x_hex()} was not mined within {self.receipt_timeout_s:g} s",
                "check the node; re-running the command is safe, it reports what already landed",
            ) from None
        if self._remote is not None:
            self.sent_journal.forget(tx_hash.to_0x_hex())  # mined: a retry must send anew
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


def format_eth(wei: int) -> str:
    """An amount of wei in ETH, exactly, without trailing zeros."""
    text = f"{Decimal(wei) / 10**18:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def wei_of_eth(text: str) -> int:
    """A positive amount of ETH written as a decimal number ("0.1", "2"), in wei.

    Raises:
        ValueError: ``text`` is not a positive decimal number of at most 18 decimals.
    """
    try:
        amount = Decimal(text.strip()) * 10**18
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number of ETH") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.to_integral_value():
        raise ValueError(f"{text!r} is not a positive amount of ETH with at most 18 decimals")
    return int(amount)


def _contract_name(fn: Any) -> str:
    abi = list(fn.contract_abi)
    return next((name for name in CONTRACT_NAMES if list(load_artifact(name).abi) == abi), "contract")


def _named_args(abi: Any, args: Any) -> dict[str, Any]:
    inputs = abi.get("inputs", []) if isinstance(abi, dict) else []
    return {
        (i.get("name") or f"arg{n}"): _plain(v) for n, (i, v) in enumerate(zip(inputs, args, strict=False))
    }


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


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
    except requests.RequestException as exc:  # an HTTP error status, a URL requests cannot use
        raise ChainError(f"the node at {url} failed the request: {_shown(exc)}", _CHECK_NODE) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # web3 parses what the node sent without checking its shape: a body that is not JSON,
        # a chain id that is not hex, a null result, a log without topics, a list for an object
        raise ChainError(
            f"the node at {url} sent an answer that is not valid JSON-RPC ({_shown(exc)})", _CHECK_NODE
        ) from None


_CHECK_NODE = "check that the URL is an Ethereum JSON-RPC endpoint, or use another node"


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
