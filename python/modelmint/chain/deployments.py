"""Deploying the contracts and finding them again: ``deployments/<chainId>.json``.

The record is written only after both contracts are mined, so a failed deploy leaves
nothing behind. On load, the code at each address is checked against the recorded code
hash: a devnet restarted since the deploy (fresh chain, same id) is caught with a clear
message instead of calls failing obscurely against empty addresses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from modelmint._files import write_atomic
from modelmint.chain.artifacts import load_artifact
from modelmint.chain.client import Chain, guard
from modelmint.errors import ChainError


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

    def to_json(self) -> dict[str, Any]:
        """The file format: camelCase keys, like the rest of the on-chain world's JSON."""
        contracts = {name: {_camel(k): v for k, v in asdict(c).items()} for name, c in self.contracts.items()}
        return {"chainId": self.chain_id, "block": self.block, "contracts": contracts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        fields = {_camel(f): f for f in DeployedContract.__dataclass_fields__}
        contracts = {
            name: DeployedContract(**{fields[k]: v for k, v in item.items()})
            for name, item in data["contracts"].items()
        }
        return cls(chain_id=int(data["chainId"]), block=int(data["block"]), contracts=contracts)


def deployment_file(chain: Chain) -> Path:
    return chain.home.deployments_dir / f"{chain.chain_id}.json"


def deploy(chain: Chain) -> Deployment:
    """Deploy DatasetNFT, then ModelNFT pointing at it, and record both."""
    deployed: dict[str, DeployedContract] = {}
    dataset_address, sent = chain.deploy("DatasetNFT")
    deployed["DatasetNFT"] = _describe(chain, "DatasetNFT", dataset_address, sent)
    model_address, sent = chain.deploy("ModelNFT", dataset_address)
    deployed["ModelNFT"] = _describe(chain, "ModelNFT", model_address, sent)
    deployment = Deployment(chain_id=chain.chain_id, block=deployed["DatasetNFT"].block, contracts=deployed)
    write_atomic(deployment_file(chain), (json.dumps(deployment.to_json(), indent=2) + "\n").encode())
    return deployment


def load(chain: Chain) -> Deployment:
    """The recorded deployment on this chain, checked against the code actually there."""
    path = deployment_file(chain)
    try:
        deployment = Deployment.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ChainError(
            f"modelmint is not deployed on chain {chain.chain_id} (no {path})", "run `modelmint deploy`"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ChainError(
            f"{path} is unreadable ({exc})", "run `modelmint deploy` to write it again"
        ) from None
    for name, contract in deployment.contracts.items():
        code = guard(lambda: chain.w3.eth.get_code(contract.address), chain.url)
        if "0x" + keccak(bytes(code)).hex() != contract.code_hash:
            raise ChainError(
                f"the {name} recorded in {path} is not at {contract.address} any more "
                "(the chain was reset since the deploy)",
                "run `modelmint deploy` again",
            )
    return deployment


def contract(chain: Chain, deployment: Deployment, name: str) -> Any:
    """A web3 contract object for one deployed contract."""
    return chain.w3.eth.contract(address=deployment.contracts[name].address, abi=load_artifact(name).abi)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _describe(chain: Chain, name: str, address: str, sent: Any) -> DeployedContract:
    code = guard(lambda: chain.w3.eth.get_code(address), chain.url)
    return DeployedContract(
        address=address,
        tx_hash=sent.tx_hash,
        block=sent.block,
        gas_used=sent.gas_used,
        bytecode_hash="0x" + keccak(load_artifact(name).bytecode).hex(),
        code_hash="0x" + keccak(bytes(code)).hex(),
    )
