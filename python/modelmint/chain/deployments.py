"""Deploying the contracts and finding them again: ``deployments/<chainId>.json``.

The record is written only after both contracts are mined, so a failed deploy leaves
nothing behind. On load, the code at each address is checked against the recorded code
hash: a devnet restarted since the deploy (fresh chain, same id) is caught with a clear
message instead of calls failing obscurely against empty addresses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from modelmint._files import write_atomic
from modelmint._json import camel, to_json
from modelmint.chain.artifacts import load_artifact
from modelmint.chain.client import Chain, guard
from modelmint.errors import ChainError
from modelmint.home import Home


@dataclass(frozen=True)
class DeployedContract:
    address: str
    tx_hash: str
    block: int
    gas_used: int
    bytecode_hash: str  # keccak256 of the creation bytecode (the build artifact)
    code_hash: str  # keccak256 of the runtime code at the address (EXTCODEHASH)


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    block: int
    contracts: dict[str, DeployedContract]

    def address(self, name: str) -> str:
        """The address of contract ``name`` (``DatasetNFT`` or ``ModelNFT``)."""
        return self.contracts[name].address

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        """Reads the file format, :func:`modelmint._json.to_json` of a deployment."""
        fields = {camel(f): f for f in DeployedContract.__dataclass_fields__}
        contracts = {
            name: DeployedContract(**{fields[k]: v for k, v in item.items()})
            for name, item in data["contracts"].items()
        }
        return cls(chain_id=int(data["chainId"]), block=int(data["block"]), contracts=contracts)


def deployment_file(chain: Chain, home: Home | None = None) -> Path:
    """Where the deployment on ``chain`` is recorded in project folder ``home`` [default: the chain's]."""
    return (home or chain.home).deployments_dir / f"{chain.chain_id}.json"


def deploy(chain: Chain, home: Home | None = None) -> Deployment:
    """Deploy DatasetNFT, then ModelNFT pointing at it, and record both in ``home`` [default: the chain's]."""
    deployed: dict[str, DeployedContract] = {}
    dataset_address, sent = chain.deploy("DatasetNFT")
    deployed["DatasetNFT"] = _describe(chain, "DatasetNFT", dataset_address, sent)
    model_address, sent = chain.deploy("ModelNFT", dataset_address)
    deployed["ModelNFT"] = _describe(chain, "ModelNFT", model_address, sent)
    deployment = Deployment(chain_id=chain.chain_id, block=deployed["DatasetNFT"].block, contracts=deployed)
    write_atomic(deployment_file(chain, home), (json.dumps(to_json(deployment), indent=2) + "\n").encode())
    return deployment


def load(chain: Chain, home: Home | None = None) -> Deployment:
    """The deployment on this chain recorded in ``home`` [default: the chain's project folder],
    checked against the code actually there.

    Raises:
        ChainError: none is recorded, the record is unreadable, or the chain was reset since.
    """
    path = deployment_file(chain, home)
    try:
        deployment = Deployment.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ChainError(
            f"modelmint is not deployed on chain {chain.chain_id} (no {path})",
            "deploy the registries on this chain first, or give their addresses",
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ChainError(f"{path} is unreadable ({exc})", "deploy the registries again to write it") from None
    if deployment.chain_id != chain.chain_id:
        # The file is named by the chain id, so this is an edited or misplaced record.
        raise ChainError(
            f"{path} records a deployment on chain {deployment.chain_id}, but the node at {chain.url} "
            f"reports chain {chain.chain_id}",
            f"connect to a node of chain {deployment.chain_id}, or deploy the registries again",
        )
    for name, contract in deployment.contracts.items():
        address = to_checksum_address(contract.address)
        code = guard(partial(chain.w3.eth.get_code, address), chain.url)
        if "0x" + keccak(bytes(code)).hex() != contract.code_hash:
            raise ChainError(
                f"the {name} recorded in {path} is not at {contract.address} any more "
                "(the chain was reset since the deploy)",
                "deploy the registries again",
            )
    return deployment


def _describe(chain: Chain, name: str, address: str, sent: Any) -> DeployedContract:
    checksummed = to_checksum_address(address)
    code = guard(lambda: chain.w3.eth.get_code(checksummed), chain.url)
    return DeployedContract(
        address=address,
        tx_hash=sent.tx_hash,
        block=sent.block,
        gas_used=sent.gas_used,
        bytecode_hash="0x" + keccak(load_artifact(name).bytecode).hex(),
        code_hash="0x" + keccak(bytes(code)).hex(),
    )
