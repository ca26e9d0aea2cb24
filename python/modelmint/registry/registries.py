"""Where the registries are: the chain, the two contracts' addresses and the content store.

Every use case takes one :class:`Registries` value and finds nothing on its own: build it
from known addresses (a third party verifying against a published deployment) or from a
project folder's recorded deployment (the CLI, the notebook).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from modelmint.chain import deployments
from modelmint.chain.client import Chain
from modelmint.chain.contracts import DatasetContract, ModelContract, checked_address
from modelmint.home import Home
from modelmint.storage import ContentStore, open_store


@dataclass(frozen=True)
class Registries:
    """The DatasetNFT and ModelNFT on one chain, and the content store their metadata is in.

    Attributes:
        chain: the connection (node and signer) every call and transaction goes through.
        datasets: the DatasetNFT's address.
        models: the ModelNFT's address.
        store: the content store of metadata, leaf lists, manifests and fingerprints.
        from_block: where event queries start, the deployment's block when it is known
            [default: 0, the whole chain].
    """

    chain: Chain
    datasets: str
    models: str
    store: ContentStore
    from_block: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "datasets", checked_address(self.datasets))
        object.__setattr__(self, "models", checked_address(self.models))

    @classmethod
    def from_deployment(
        cls, chain: Chain, deployment: deployments.Deployment, store: ContentStore
    ) -> Registries:
        """The registries of a recorded deployment."""
        return cls(
            chain=chain,
            datasets=deployment.address(DatasetContract.NAME),
            models=deployment.address(ModelContract.NAME),
            store=store,
            from_block=deployment.block,
        )

    @classmethod
    def from_project(
        cls, home: Home | str | os.PathLike[str], chain: Chain, store: ContentStore | None = None
    ) -> Registries:
        """The registries recorded in project folder ``home`` for ``chain``'s chain id.

        Args:
            store: the content store [default: the project folder's local store].

        Raises:
            ChainError: no deployment is recorded for this chain, or the chain was reset since.
        """
        folder = home if isinstance(home, Home) else Home(Path(home).expanduser().resolve())
        deployment = deployments.load(chain, folder)
        return cls.from_deployment(chain, deployment, store or open_store(folder.store_dir, None))

    def with_chain(self, chain: Chain) -> Registries:
        """The same registries through another connection (another signer or node)."""
        return dataclasses.replace(self, chain=chain)

    @cached_property
    def dataset_contract(self) -> DatasetContract:
        """The DatasetNFT's client."""
        return DatasetContract(self.chain, self.datasets, from_block=self.from_block)

    @cached_property
    def model_contract(self) -> ModelContract:
        """The ModelNFT's client."""
        return ModelContract(self.chain, self.models, from_block=self.from_block)


def deploy(chain: Chain, home: Home | None = None, store: ContentStore | None = None) -> Registries:
    """Deploy a DatasetNFT and a ModelNFT pointing at it, record them in project folder ``home``
    [default: the chain's], and return them as registries.

    Args:
        store: the content store [default: the project folder's local store].
    """
    folder = home or chain.home
    deployment = deployments.deploy(chain, folder)
    return Registries.from_deployment(chain, deployment, store or open_store(folder.store_dir, None))
