"""The use cases that join hashing, storage and the chain; the CLI, tests and notebook call these."""

from modelmint.registry.datasets import (
    DatapointCheck,
    DatasetCommitment,
    DatasetVerification,
    commit_dataset,
    verify_datapoints,
)

__all__ = ["DatapointCheck", "DatasetCommitment", "DatasetVerification", "commit_dataset", "verify_datapoints"]
