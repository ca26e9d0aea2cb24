"""Typed clients of the deployed contracts: Python values in, frozen records out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.logs import DISCARD

from modelmint.chain import deployments
from modelmint.chain.client import Chain, Sent
from modelmint.errors import ChainError


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


class DatasetContract:
    """DatasetNFT: one token per Merkle root of datapoint hashes."""

    NAME = "DatasetNFT"

    def __init__(self, chain: Chain, deployment: deployments.Deployment | None = None) -> None:
        self.chain = chain
        self.deployment = deployment or deployments.load(chain)
        self.contract = deployments.contract(chain, self.deployment, self.NAME)
        self.address: str = self.contract.address

    def mint(self, to: str, root: bytes, count: int, metadata_uri: str, predecessor_id: int = 0) -> Minted:
        fns = self.contract.functions
        if predecessor_id:
            fn = fns.mintVersion(to, root, count, metadata_uri, predecessor_id)
        else:
            fn = fns.mint(to, root, count, metadata_uri)
        sent = self.chain.send(fn)
        return _minted(sent, self.contract.events.DatasetMinted())

    def token_of_root(self, root: bytes) -> int:
        return int(self.chain.call(self.contract.functions.tokenOfRoot(root)))

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
        )

    def total_minted(self) -> int:
        return int(self.chain.call(self.contract.functions.totalMinted()))

    def verify_datapoint(self, token_id: int, datapoint_hash: bytes, proof: list[bytes]) -> bool:
        return bool(self.chain.call(self.contract.functions.verifyDatapoint(token_id, datapoint_hash, proof)))

    def multi_verify(self, token_id: int, hashes: list[bytes], proof: list[bytes], flags: list[bool]) -> bool:
        fn = self.contract.functions.multiVerifyDatapoints(token_id, hashes, proof, flags)
        return bool(self.chain.call(fn))


def _minted(sent: Sent, event: Any) -> Minted:
    logs = event.process_receipt(sent.receipt, errors=DISCARD)
    if not logs:
        raise ChainError(f"transaction {sent.tx_hash} emitted no mint event", "check the deployment with `modelmint deploy`")
    return Minted(int(logs[0]["args"]["tokenId"]), sent.tx_hash, sent.block, sent.gas_used)
