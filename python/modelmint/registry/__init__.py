"""The use cases that join hashing, storage and the chain; the CLI, tests and notebook call these.

Every one takes a :class:`Registries` value: the chain, the two contracts' addresses and the
content store.
"""

from modelmint.registry.datasets import (
    DatapointCheck,
    DatasetCommitment,
    DatasetVerification,
    commit_dataset,
    export_tree,
    verify_datapoints,
)
from modelmint.registry.fingerprints import (
    Candidate,
    HurefCommitment,
    Identification,
    commit_huref,
    identify,
    register_with_huref,
)
from modelmint.registry.lineage import DatasetNode, Lineage, lineage
from modelmint.registry.models import ModelRegistration, ModelVerification, register_model, verify_model
from modelmint.registry.oml import (
    OmlCommitment,
    OmlReveal,
    OmlVerification,
    commit_oml,
    reveal_oml,
    verify_oml,
)
from modelmint.registry.proofs import DatapointProof, ProofCheck, check_proof, prove_datapoints, read_proof
from modelmint.registry.records import RegistryRecord, list_records, show
from modelmint.registry.registries import Registries

__all__ = [
    "Candidate",
    "DatapointCheck",
    "DatapointProof",
    "DatasetCommitment",
    "DatasetNode",
    "DatasetVerification",
    "HurefCommitment",
    "Identification",
    "Lineage",
    "ModelRegistration",
    "ModelVerification",
    "OmlCommitment",
    "OmlReveal",
    "OmlVerification",
    "ProofCheck",
    "Registries",
    "RegistryRecord",
    "check_proof",
    "commit_dataset",
    "commit_huref",
    "commit_oml",
    "export_tree",
    "identify",
    "lineage",
    "list_records",
    "prove_datapoints",
    "read_proof",
    "register_model",
    "register_with_huref",
    "reveal_oml",
    "show",
    "verify_datapoints",
    "verify_model",
    "verify_oml",
]
