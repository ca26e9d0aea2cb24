"""modelmint: provenance of datasets and models on Ethereum.

The public API is these names, each imported on first use so that ``import modelmint``
stays fast (no web3, torch or transformers until a function needs them)::

    import modelmint

    chain = modelmint.Chain.connect(modelmint.Home.resolve(), "http://127.0.0.1:8545")
    registries = modelmint.Registries.from_project(".modelmint", chain)
    dataset = modelmint.commit_dataset(registries, "train.jsonl")
    assert modelmint.verify_datapoints(registries, "train.jsonl", dataset.token_id).ok

Every use case takes a :class:`Registries` value (the chain, the two contracts' addresses
and the content store); docs/api.md walks through them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from modelmint._version import __version__

#: Public name -> (module, attribute).
_EXPORTS: dict[str, tuple[str, str]] = {
    # Where the registries are
    "Registries": ("modelmint.registry.registries", "Registries"),
    "Chain": ("modelmint.chain.client", "Chain"),
    "Home": ("modelmint.home", "Home"),
    "open_store": ("modelmint.storage", "open_store"),
    "deploy": ("modelmint.registry.registries", "deploy"),
    "start_devnet": ("modelmint.chain.devnet", "start"),
    "stop_devnet": ("modelmint.chain.devnet", "stop"),
    # Datasets
    "commit_dataset": ("modelmint.registry.datasets", "commit_dataset"),
    "commit_datasets": ("modelmint.registry.datasets", "commit_datasets"),
    "verify_datapoints": ("modelmint.registry.datasets", "verify_datapoints"),
    "export_tree": ("modelmint.registry.datasets", "export_tree"),
    "prove_datapoints": ("modelmint.registry.proofs", "prove_datapoints"),
    "check_proof": ("modelmint.registry.proofs", "check_proof"),
    "read_proof": ("modelmint.registry.proofs", "read_proof"),
    # Models
    "register_model": ("modelmint.registry.models", "register_model"),
    "verify_model": ("modelmint.registry.models", "verify_model"),
    "lineage": ("modelmint.registry.lineage", "lineage"),
    "list_records": ("modelmint.registry.records", "list_records"),
    "show": ("modelmint.registry.records", "show"),
    "smollm2_135m": ("modelmint.models.bundled", "smollm2_135m"),
    "finetune": ("modelmint.models.finetune", "finetune"),
    # Fingerprints
    "fingerprint": ("modelmint.fingerprints.huref", "fingerprint"),
    "commit_fingerprint": ("modelmint.registry.fingerprints", "commit_huref"),
    "identify": ("modelmint.registry.fingerprints", "identify"),
    "commit_oml": ("modelmint.registry.oml", "commit_oml"),
    "reveal_oml": ("modelmint.registry.oml", "reveal_oml"),
    "verify_oml": ("modelmint.registry.oml", "verify_oml"),
    # Values that cross the boundary, and their one JSON form
    "DatasetCommitment": ("modelmint.registry.datasets", "DatasetCommitment"),
    "DatasetMintResult": ("modelmint.registry.datasets", "DatasetMintResult"),
    "DatasetVerification": ("modelmint.registry.datasets", "DatasetVerification"),
    "DatapointProof": ("modelmint.registry.proofs", "DatapointProof"),
    "ProofCheck": ("modelmint.registry.proofs", "ProofCheck"),
    "ModelRegistration": ("modelmint.registry.models", "ModelRegistration"),
    "ModelVerification": ("modelmint.registry.models", "ModelVerification"),
    "Lineage": ("modelmint.registry.lineage", "Lineage"),
    "RegistryRecord": ("modelmint.registry.records", "RegistryRecord"),
    "DatasetMetadata": ("modelmint.registry.metadata", "DatasetMetadata"),
    "ModelMetadata": ("modelmint.registry.metadata", "ModelMetadata"),
    "HurefCommitment": ("modelmint.registry.fingerprints", "HurefCommitment"),
    "Identification": ("modelmint.registry.fingerprints", "Identification"),
    "OmlCommitment": ("modelmint.registry.oml", "OmlCommitment"),
    "OmlReveal": ("modelmint.registry.oml", "OmlReveal"),
    "OmlVerification": ("modelmint.registry.oml", "OmlVerification"),
    "to_json": ("modelmint._json", "to_json"),
    # Errors
    "ModelmintError": ("modelmint.errors", "ModelmintError"),
    "InputError": ("modelmint.errors", "InputError"),
    "IntegrityError": ("modelmint.errors", "IntegrityError"),
    "ChainError": ("modelmint.errors", "ChainError"),
    "RevertError": ("modelmint.errors", "RevertError"),
    "StoreError": ("modelmint.errors", "StoreError"),
}

__all__ = [
    "Chain",
    "ChainError",
    "DatapointProof",
    "DatasetCommitment",
    "DatasetMetadata",
    "DatasetMintResult",
    "DatasetVerification",
    "Home",
    "HurefCommitment",
    "Identification",
    "InputError",
    "IntegrityError",
    "Lineage",
    "ModelMetadata",
    "ModelRegistration",
    "ModelVerification",
    "ModelmintError",
    "OmlCommitment",
    "OmlReveal",
    "OmlVerification",
    "ProofCheck",
    "Registries",
    "RegistryRecord",
    "RevertError",
    "StoreError",
    "__version__",
    "check_proof",
    "commit_dataset",
    "commit_datasets",
    "commit_fingerprint",
    "commit_oml",
    "deploy",
    "export_tree",
    "finetune",
    "fingerprint",
    "identify",
    "lineage",
    "list_records",
    "open_store",
    "prove_datapoints",
    "read_proof",
    "register_model",
    "reveal_oml",
    "show",
    "smollm2_135m",
    "start_devnet",
    "stop_devnet",
    "to_json",
    "verify_datapoints",
    "verify_model",
    "verify_oml",
]

if TYPE_CHECKING:
    from modelmint._json import to_json
    from modelmint.chain.client import Chain
    from modelmint.chain.devnet import start as start_devnet
    from modelmint.chain.devnet import stop as stop_devnet
    from modelmint.errors import (
        ChainError,
        InputError,
        IntegrityError,
        ModelmintError,
        RevertError,
        StoreError,
    )
    from modelmint.fingerprints.huref import fingerprint
    from modelmint.home import Home
    from modelmint.models.bundled import smollm2_135m
    from modelmint.models.finetune import finetune
    from modelmint.registry.datasets import (
        DatasetCommitment,
        DatasetMintResult,
        DatasetVerification,
        commit_dataset,
        commit_datasets,
        export_tree,
        verify_datapoints,
    )
    from modelmint.registry.fingerprints import HurefCommitment, Identification, identify
    from modelmint.registry.fingerprints import commit_huref as commit_fingerprint
    from modelmint.registry.lineage import Lineage, lineage
    from modelmint.registry.metadata import DatasetMetadata, ModelMetadata
    from modelmint.registry.models import ModelRegistration, ModelVerification, register_model, verify_model
    from modelmint.registry.oml import (
        OmlCommitment,
        OmlReveal,
        OmlVerification,
        commit_oml,
        reveal_oml,
        verify_oml,
    )
    from modelmint.registry.proofs import (
        DatapointProof,
        ProofCheck,
        check_proof,
        prove_datapoints,
        read_proof,
    )
    from modelmint.registry.records import RegistryRecord, list_records, show
    from modelmint.registry.registries import Registries, deploy
    from modelmint.storage import open_store


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'modelmint' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
