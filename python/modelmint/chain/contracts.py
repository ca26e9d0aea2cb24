"""Typed clients of the deployed contracts: Python values in, frozen records out."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import partial
from typing import Any, Self

from eth_abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils import is_address, keccak, to_checksum_address
from web3.logs import DISCARD

from modelmint.chain.artifacts import load_artifact, runtime_matches
from modelmint.chain.client import DEFAULT_WINDOW, Chain, Sent, guard
from modelmint.errors import ChainError, InputError


@dataclass(frozen=True)
class Minted:
    token_id: int
    tx_hash: str
    block: int
    gas_used: int


@dataclass(frozen=True)
class DatasetRecord:
    token_id: int
    owner: str
    merkle_root: bytes
    datapoint_count: int
    predecessor_id: int
    minted_at: int
    metadata_uri: str
    claimed_at: int = 0  # when the claim was fixed: the mint commitment's time, else the mint's


#: Chains where a one-transaction mint is the default: anvil's devnet (31337), where nobody
#: watches the mempool. Elsewhere commit-reveal is (issue 10, finding 4).
DEVNET_CHAIN_IDS = frozenset({31337})


def two_step_default(chain: Chain) -> bool:
    """Whether mints on ``chain`` use commit-reveal unless told otherwise."""
    return chain.chain_id not in DEVNET_CHAIN_IDS


def mint_commitment_of(root: bytes, minter: str, salt: bytes) -> bytes:
    """``IMintCommitments.mintCommitmentOf``: ``keccak256(abi.encode(root, minter, salt))``."""
    return bytes(keccak(abi_encode(["bytes32", "address", "bytes32"], [root, checked_address(minter), salt])))


@dataclass(frozen=True)
class MintCommitment:
    """The first transaction of a two-step mint: the salt stays with the minter until the reveal."""

    commitment: bytes
    salt: bytes
    sent: Sent


@dataclass(frozen=True)
class DatasetMint:
    """One dataset mint of :meth:`DatasetContract.mint_many`: ``mint``, ``mintVersion`` when it
    has a predecessor, or ``revealMint`` of a commitment made with ``salt``."""

    to: str
    root: bytes
    count: int
    metadata_uri: str
    predecessor_id: int = 0
    salt: bytes | None = None


class _Registry:
    """A client of one registry contract at a known address: both registries share
    construction, ``commitMint`` (``IMintCommitments``) and their event queries."""

    NAME = ""

    def __init__(self, chain: Chain, address: str, *, from_block: int = 0) -> None:
        """A client of the registry at ``address`` on ``chain``.

        Args:
            from_block: the block its event queries start at, the deployment's block when it
                is known [default: 0, the whole chain].

        Raises:
            InputError: ``address`` is not an Ethereum address.
        """
        self.chain = chain
        self.address: ChecksumAddress = checked_address(address)
        self.from_block = from_block
        self.contract: Any = chain.w3.eth.contract(address=self.address, abi=load_artifact(self.NAME).abi)

    @classmethod
    def at(cls, chain: Chain, address: str, *, from_block: int = 0) -> Self:
        """A client of the registry at ``address``, checked to hold this version's code
        (:func:`~modelmint.chain.artifacts.runtime_matches`): how a third party checks a proof
        that names its contract. Any other code could answer anything.

        Raises:
            InputError: ``address`` is not an Ethereum address.
            ChainError: there is no contract at ``address`` on this chain, or it is not a
                modelmint ``NAME``.
        """
        checksummed = checked_address(address)
        code = guard(lambda: chain.w3.eth.get_code(checksummed), chain.url)
        if not code:
            raise ChainError(
                f"there is no contract at {checksummed} on chain {chain.chain_id}",
                "check the address, and that the node is on the chain the contract was deployed to",
            )
        if not runtime_matches(load_artifact(cls.NAME), bytes(code)):
            raise ChainError(
                f"the contract at {checksummed} on chain {chain.chain_id} is not a modelmint {cls.NAME}: "
                f"its code is not this version's {cls.NAME}, so its answers prove nothing",
                f"check against the {cls.NAME} of a known modelmint deployment (or with the modelmint "
                "version that deployed this one)",
            )
        return cls(chain, checksummed, from_block=from_block)

    def commit_mint(self, root: bytes, minter: str) -> MintCommitment:
        """Sends ``commitMint`` for a mint of ``root`` by ``minter`` with a fresh random salt."""
        salt = secrets.token_bytes(32)
        commitment = mint_commitment_of(root, minter, salt)
        committed = MintCommitment(
            commitment, salt, self.chain.send(self.contract.functions.commitMint(commitment))
        )
        self._wait_matured(committed.sent.block)
        return committed

    def commit_mints(
        self, roots: Sequence[bytes], minter: str, *, window: int = DEFAULT_WINDOW
    ) -> list[MintCommitment | ChainError]:
        """:meth:`commit_mint` of many roots, pipelined; returns once every commitment has matured."""
        salts = [secrets.token_bytes(32) for _ in roots]
        commitments = [
            mint_commitment_of(root, minter, salt) for root, salt in zip(roots, salts, strict=True)
        ]
        fns = [self.contract.functions.commitMint(c) for c in commitments]
        out: list[MintCommitment | ChainError] = [
            sent if isinstance(sent, ChainError) else MintCommitment(c, salt, sent)
            for c, salt, sent in zip(
                commitments, salts, self.chain.send_many(fns, window=window), strict=True
            )
        ]
        blocks = [c.sent.block for c in out if isinstance(c, MintCommitment)]
        if blocks:
            self._wait_matured(max(blocks))
        return out

    def _wait_matured(self, block: int) -> None:
        """Wait until a block after ``block`` is the latest: nodes estimate gas (and so check the
        reveal) at the latest block, where a commitment of that same block has not matured."""
        if self.chain.chain_id in DEVNET_CHAIN_IDS:
            # An automining devnet makes no block until asked; one empty block is enough.
            guard(lambda: self.chain.w3.provider.make_request("evm_mine", []), self.chain.url)  # type: ignore[arg-type]
        deadline = time.monotonic() + self.chain.receipt_timeout_s
        while guard(lambda: self.chain.w3.eth.block_number, self.chain.url) <= block:
            if time.monotonic() > deadline:
                raise ChainError(
                    f"no block after {block} within {self.chain.receipt_timeout_s:.0f} s, so the mint commitment cannot be revealed",
                    "check that the node is producing blocks, then run the mint again",
                )
            time.sleep(1.0)


class DatasetContract(_Registry):
    """DatasetNFT: one token per Merkle root of datapoint hashes."""

    NAME = "DatasetNFT"

    def mint(self, to: str, root: bytes, count: int, metadata_uri: str, predecessor_id: int = 0) -> Minted:
        fn = self._mint_call(DatasetMint(to, root, count, metadata_uri, predecessor_id))
        return _minted(self.chain.send(fn), self.contract.events.DatasetMinted())

    def reveal_mint(
        self, to: str, root: bytes, count: int, metadata_uri: str, salt: bytes, predecessor_id: int = 0
    ) -> Minted:
        """``revealMint``: the second step, from the same signer as :meth:`commit_mint`, a block later."""
        fn = self._mint_call(DatasetMint(to, root, count, metadata_uri, predecessor_id, salt))
        return _minted(self.chain.send(fn), self.contract.events.DatasetMinted())

    def mint_many(
        self, mints: Iterable[DatasetMint], *, window: int = DEFAULT_WINDOW
    ) -> list[Minted | ChainError]:
        """Many mints (or reveals) pipelined by :meth:`Chain.send_many` (which reads ``mints``
        as it goes): one result per mint, in order."""
        event = self.contract.events.DatasetMinted()
        out: list[Minted | ChainError] = []
        for sent in self.chain.send_many((self._mint_call(m) for m in mints), window=window):
            try:
                out.append(sent if isinstance(sent, ChainError) else _minted(sent, event))
            except ChainError as exc:
                out.append(exc)
        return out

    def _mint_call(self, mint: DatasetMint) -> Any:
        fns, to = self.contract.functions, checked_address(mint.to)
        if mint.salt is not None:
            return fns.revealMint(
                to, mint.root, mint.count, mint.metadata_uri, mint.predecessor_id, mint.salt
            )
        if mint.predecessor_id:
            return fns.mintVersion(to, mint.root, mint.count, mint.metadata_uri, mint.predecessor_id)
        return fns.mint(to, mint.root, mint.count, mint.metadata_uri)

    def token_of_root(self, root: bytes) -> int:
        """The earliest claim of ``root`` (0 if none)."""
        return int(self.chain.call(self.contract.functions.tokenOfRoot(root)))

    def claims_of_root(self, root: bytes) -> list[int]:
        """Every token claiming ``root``, earliest claim first."""
        return [int(i) for i in self.chain.call(self.contract.functions.claimsOfRoot(root))]

    def claims_of_roots(self, roots: Sequence[bytes]) -> list[list[int]]:
        """:meth:`claims_of_root` of many roots, read in JSON-RPC batches."""
        fns = [self.contract.functions.claimsOfRoot(root) for root in roots]
        return [[int(i) for i in ids] for ids in self.chain.call_many(fns)]

    def record(self, token_id: int) -> DatasetRecord:
        raw = self.chain.call(self.contract.functions.dataset(token_id))
        return DatasetRecord(
            token_id=token_id,
            owner=self.chain.call(self.contract.functions.ownerOf(token_id)),
            merkle_root=bytes(raw[0]),
            datapoint_count=int(raw[2]),
            predecessor_id=int(raw[3]),
            minted_at=int(raw[4]),
            metadata_uri=self.chain.call(self.contract.functions.tokenURI(token_id)),
            claimed_at=int(raw[6]),
        )

    def total_minted(self) -> int:
        return int(self.chain.call(self.contract.functions.totalMinted()))

    def verify_datapoint(self, token_id: int, datapoint_hash: bytes, proof: list[bytes]) -> bool:
        return bool(self.chain.call(self.contract.functions.verifyDatapoint(token_id, datapoint_hash, proof)))

    def multi_verify(self, token_id: int, hashes: list[bytes], proof: list[bytes], flags: list[bool]) -> bool:
        fn = self.contract.functions.multiVerifyDatapoints(token_id, hashes, proof, flags)
        return bool(self.chain.call(fn))

    def verify_calldata(self, token_id: int, datapoint_hash: bytes, proof: list[bytes]) -> str:
        """The ABI-encoded ``verifyDatapoint`` call, for ``eth_call`` from any client."""
        return str(self.contract.encode_abi("verifyDatapoint", args=[token_id, datapoint_hash, proof]))

    def multi_verify_calldata(
        self, token_id: int, hashes: list[bytes], proof: list[bytes], flags: list[bool]
    ) -> str:
        """The ABI-encoded ``multiVerifyDatapoints`` call, for ``eth_call`` from any client."""
        return str(self.contract.encode_abi("multiVerifyDatapoints", args=[token_id, hashes, proof, flags]))


class FingerprintKind(IntEnum):
    """``IModelNFT.FingerprintKind``: HuRef weight invariants, OML trained-in pairs."""

    HuRef = 0
    OML = 1


@dataclass(frozen=True)
class ModelRecord:
    token_id: int
    owner: str
    weights_root: bytes
    parent_id: int
    dataset_ids: tuple[int, ...]
    minted_at: int
    metadata_uri: str
    claimed_at: int = 0  # when the claim was fixed: the mint commitment's time, else the mint's


@dataclass(frozen=True)
class FingerprintRecord:
    kind: FingerprintKind
    commitment: bytes  # 32 zero bytes when none is committed
    committed_at: int
    uri: str

    @property
    def committed(self) -> bool:
        return self.committed_at != 0


@dataclass(frozen=True)
class RevealedFingerprint:
    """An OML fingerprint made public by ``revealFingerprints`` (``digest`` is its committed value)."""

    salt: bytes
    key: str
    response: str
    digest: bytes = b""
    tx_hash: str = ""
    block: int = 0


@dataclass(frozen=True)
class CommittedFingerprint:
    """A ``FingerprintCommitted`` event: which token committed what, where, in which block."""

    token_id: int
    kind: FingerprintKind
    commitment: bytes
    uri: str
    block: int


@dataclass(frozen=True)
class MintLog:
    """Where a token was minted: from the contract's mint event."""

    token_id: int
    tx_hash: str
    block: int


class ModelContract(_Registry):
    """ModelNFT: one token per weights root, with its parent model, datasets and fingerprints."""

    NAME = "ModelNFT"

    def mint(
        self,
        to: str,
        weights_root: bytes,
        metadata_uri: str,
        parent_id: int = 0,
        dataset_ids: Sequence[int] = (),
    ) -> Minted:
        fn = self.contract.functions.mint(to, weights_root, metadata_uri, parent_id, list(dataset_ids))
        return _minted(self.chain.send(fn), self.contract.events.ModelMinted())

    def mint_with_fingerprint(
        self,
        to: str,
        weights_root: bytes,
        metadata_uri: str,
        parent_id: int,
        dataset_ids: Sequence[int],
        oml: tuple[int, bytes, str],
    ) -> Minted:
        """``mintWithFingerprint``: mint and commit ``oml`` = (expected token id, OML root, URI) at once."""
        fn = self.contract.functions.mintWithFingerprint(
            to, weights_root, metadata_uri, parent_id, list(dataset_ids), oml
        )
        return _minted(self.chain.send(fn), self.contract.events.ModelMinted())

    def reveal_mint(
        self,
        to: str,
        weights_root: bytes,
        metadata_uri: str,
        parent_id: int,
        dataset_ids: Sequence[int],
        salt: bytes,
        oml: tuple[int, bytes, str] | None = None,
    ) -> Minted:
        """``revealMint``: the second step of a two-step mint, with an OML commitment or none."""
        fn = self.contract.functions.revealMint(
            to, weights_root, metadata_uri, parent_id, list(dataset_ids), salt, oml or (0, b"\0" * 32, "")
        )
        return _minted(self.chain.send(fn), self.contract.events.ModelMinted())

    def next_token_id(self) -> int:
        """The id the next mint gives, which OML leaves committed at mint must name."""
        return self.total_minted() + 1

    def claims_of_weights(self, weights_root: bytes) -> list[int]:
        """Every token claiming ``weights_root``, earliest claim first."""
        return [int(i) for i in self.chain.call(self.contract.functions.claimsOfWeights(weights_root))]

    def token_of_fingerprint(self, commitment: bytes) -> int:
        """The model whose OML commitment is ``commitment`` (0 if none)."""
        return int(self.chain.call(self.contract.functions.tokenOfFingerprint(commitment)))

    def check_lineage(self, to: str, parent_id: int, dataset_ids: Sequence[int]) -> None:
        """Run a mint with this lineage as a view call, so an unknown parent or dataset fails
        (decoded) before a model is hashed; the root and URI are placeholders no model has."""
        placeholder_uri = (
            "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"  # the empty file
        )
        fn = self.contract.functions.mint(to, b"\xff" * 32, placeholder_uri, parent_id, list(dataset_ids))
        self.chain.call(fn)

    def token_of_weights(self, weights_root: bytes) -> int:
        """The earliest claim of ``weights_root`` (0 if none)."""
        return int(self.chain.call(self.contract.functions.tokenOfWeights(weights_root)))

    def exists(self, token_id: int) -> bool:
        return bool(self.chain.call(self.contract.functions.exists(token_id)))

    def authorized(self, token_id: int, owner: str, address: str) -> bool:
        """Whether ``address`` may commit or reveal fingerprints of ``token_id``, owned by
        ``owner``: the owner, an operator of the owner or the token's approved address (the
        ERC-721 rule ``commitFingerprint`` and ``revealFingerprints`` apply)."""
        if owner.lower() == address.lower():
            return True
        fns = self.contract.functions
        return bool(self.chain.call(fns.isApprovedForAll(owner, address))) or (
            str(self.chain.call(fns.getApproved(token_id))).lower() == address.lower()
        )

    def record(self, token_id: int) -> ModelRecord:
        raw = self.chain.call(self.contract.functions.model(token_id))
        return ModelRecord(
            token_id=token_id,
            owner=self.chain.call(self.contract.functions.ownerOf(token_id)),
            weights_root=bytes(raw[0]),
            parent_id=int(raw[2]),
            dataset_ids=tuple(int(i) for i in raw[6]),
            minted_at=int(raw[3]),
            metadata_uri=self.chain.call(self.contract.functions.tokenURI(token_id)),
            claimed_at=int(raw[5]),
        )

    def total_minted(self) -> int:
        return int(self.chain.call(self.contract.functions.totalMinted()))

    def fingerprint(self, token_id: int, kind: FingerprintKind) -> FingerprintRecord:
        raw = self.chain.call(self.contract.functions.fingerprint(token_id, int(kind)))
        return FingerprintRecord(FingerprintKind(kind), bytes(raw[0]), int(raw[1]), str(raw[2]))

    def commit_fingerprint(
        self, token_id: int, kind: FingerprintKind, commitment: bytes, uri: str = ""
    ) -> Sent:
        return self.chain.send(
            self.contract.functions.commitFingerprint(token_id, int(kind), commitment, uri)
        )

    def reveal_fingerprints(
        self,
        token_id: int,
        reveals: Sequence[RevealedFingerprint],
        proof: Sequence[bytes],
        flags: Sequence[bool],
    ) -> Sent:
        """``revealFingerprints``: ``reveals`` in the order the multiproof consumes them."""
        items = [(r.salt, r.key, r.response) for r in reveals]
        return self.chain.send(
            self.contract.functions.revealFingerprints(token_id, items, list(proof), list(flags))
        )

    def fingerprint_revealed(self, token_id: int, digest: bytes) -> bool:
        return bool(self.chain.call(self.contract.functions.fingerprintRevealed(token_id, digest)))

    def revealed_fingerprints(self, token_id: int) -> list[RevealedFingerprint]:
        """Every OML fingerprint revealed for ``token_id``, oldest first, from the contract's events."""
        event = self.contract.events.FingerprintRevealed()
        logs = event_logs(self.chain, event, self.from_block, {"tokenId": token_id})  # oldest first
        return [
            RevealedFingerprint(
                bytes(log["args"]["salt"]),
                str(log["args"]["key"]),
                str(log["args"]["response"]),
                bytes(log["args"]["digest"]),
                log["transactionHash"].to_0x_hex(),
                int(log["blockNumber"]),
            )
            for log in logs
        ]

    def fingerprint_commitments(
        self, kind: FingerprintKind, token_id: int | None = None
    ) -> list[CommittedFingerprint]:
        """Every ``FingerprintCommitted`` of ``kind`` (of ``token_id`` alone when given), oldest
        first, from :func:`event_logs`."""
        event = self.contract.events.FingerprintCommitted()
        filters: dict[str, int] = {"kind": int(kind)}
        if token_id is not None:
            filters["tokenId"] = token_id
        logs = event_logs(self.chain, event, self.from_block, filters)  # oldest first
        return [
            CommittedFingerprint(
                int(log["args"]["tokenId"]),
                FingerprintKind(int(log["args"]["kind"])),
                bytes(log["args"]["commitment"]),
                str(log["args"]["uri"]),
                int(log["blockNumber"]),
            )
            for log in logs
        ]


def mint_logs(client: DatasetContract | ModelContract) -> dict[int, MintLog]:
    """Every mint of a registry since its deployment, by token id (from :func:`event_logs`)."""
    event = {"DatasetNFT": "DatasetMinted", "ModelNFT": "ModelMinted"}[client.NAME]
    logs = event_logs(client.chain, client.contract.events[event](), client.from_block)
    found = (
        MintLog(int(log["args"]["tokenId"]), log["transactionHash"].to_0x_hex(), log["blockNumber"])
        for log in logs
    )
    return {m.token_id: m for m in found}


# How nodes and RPC services word "ask for a smaller range": "query returned more than 10000
# results", "block range is too large", "exceed maximum block range: 5000", "limited to a
# 10,000 block range", "log response size exceeded".
_RANGE_REFUSED = re.compile(r"more than|too (large|big|many|wide)|exceed|range|limit", re.IGNORECASE)


def event_logs(
    chain: Chain, event: Any, from_block: int, argument_filters: dict[str, Any] | None = None
) -> list[Any]:
    """Every log of ``event`` from ``from_block`` to the head, oldest first: the one way events are read.

    Asked in spans of ``chain.log_span`` blocks, since public nodes refuse wide ranges; a span
    the node refuses as too large is halved and asked again (down to one block), and the
    smaller span is kept for the rest of the read.
    """
    head = guard(lambda: chain.w3.eth.block_number, chain.url)
    span = max(1, chain.log_span)
    logs: list[Any] = []
    start = from_block
    while start <= head:
        end = min(head, start + span - 1)
        try:
            page = guard(
                partial(event.get_logs, from_block=start, to_block=end, argument_filters=argument_filters),
                chain.url,
            )
        except ChainError as exc:
            answer = exc.problem.partition("refused the request: ")[2]  # the node's own words (guard)
            if span > 1 and _RANGE_REFUSED.search(answer):
                span //= 2
                continue
            raise
        logs.extend(_vetted_logs(chain, event, page, start, end, argument_filters or {}))
        start = end + 1
    return sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))


def _vetted_logs(
    chain: Chain, event: Any, page: Sequence[Any], start: int, end: int, filters: dict[str, Any]
) -> Sequence[Any]:
    """``page`` once every log in it is of the contract, blocks and arguments asked: a node that
    answers others would put made-up transactions, or another token's events, beside real ones."""
    asked = f"{event.address}'s {event.event_name} logs of blocks {start} to {end}"
    for log in page:
        block, address = log.get("blockNumber"), str(log.get("address", ""))
        if not (isinstance(block, int) and start <= block <= end) or address.lower() != event.address.lower():
            raise ChainError(
                f"the node at {chain.url} answered a log of block {block} from {address or 'no address'} "
                f"to a request for {asked}",
                "the node is faulty or lying; use another node",
            )
        wrong = [k for k, v in filters.items() if log["args"].get(k) != v]
        if wrong:
            raise ChainError(
                f"the node at {chain.url} answered a log whose {wrong[0]} is {log['args'].get(wrong[0])}, "
                f"not {filters[wrong[0]]}, to a request for {asked}",
                "the node is faulty or lying; use another node",
            )
    return page


def checked_address(address: str) -> ChecksumAddress:
    """The checksummed form of an address given in any case.

    Raises:
        InputError: ``address`` is not a 0x-prefixed 20-byte hex address.
    """
    if not isinstance(address, str) or not is_address(address):
        raise InputError(f"{address!r} is not an Ethereum address", "give a 0x-prefixed 20-byte hex address")
    return to_checksum_address(address)


def _minted(sent: Sent, event: Any) -> Minted:
    logs = event.process_receipt(sent.receipt, errors=DISCARD)
    if not logs:
        raise ChainError(
            f"transaction {sent.tx_hash} emitted no mint event",
            "check that the address is a modelmint registry of the contracts this version deploys",
        )
    return Minted(int(logs[0]["args"]["tokenId"]), sent.tx_hash, sent.block, sent.gas_used)
