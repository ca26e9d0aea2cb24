"""A model's lineage: its training datasets, its parent's, up to the first model, read from the chain.

The structure needs only the chain; names come from the metadata in the content store when
it is there. Drawing it is the CLI's (``model lineage --png``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from modelmint.chain.contracts import DatasetRecord
from modelmint.hashing import to_hex
from modelmint.registry._tokens import metadata_or_none, model_facts, token_name
from modelmint.registry.models import existing_model
from modelmint.registry.registries import Registries
from modelmint.storage import ContentStore


@dataclass(frozen=True)
class DatasetNode:
    token_id: int
    name: str | None
    merkle_root: str
    datapoint_count: int
    predecessor_id: int


@dataclass(frozen=True)
class Lineage:
    """A model, the datasets it was trained on, and the same for its parent, up to the first model."""

    token_id: int
    name: str | None
    architecture: str | None
    weights_root: str
    owner: str
    minted_at: int
    datasets: tuple[DatasetNode, ...]
    parent: Lineage | None

    def chain(self) -> Iterator[Lineage]:
        """This model, then its parent, grandparent, ... (newest first)."""
        node: Lineage | None = self
        while node is not None:
            yield node
            node = node.parent

    def to_dot(self) -> str:
        """The lineage as a Graphviz DOT digraph: parents above children, datasets beside."""
        lines = ["digraph lineage {", '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
        datasets: dict[int, DatasetNode] = {}
        for m in self.chain():
            label = _dot_label(f"model {m.token_id}", m.name, m.architecture)
            lines.append(f'  "model/{m.token_id}" [label="{label}", fillcolor="#dbe9f6"];')
            for d in m.datasets:
                datasets[d.token_id] = d
                lines.append(f'  "dataset/{d.token_id}" -> "model/{m.token_id}" [label="trained on"];')
            if m.parent is not None:
                lines.append(f'  "model/{m.parent.token_id}" -> "model/{m.token_id}" [label="parent of"];')
        for d in datasets.values():
            label = _dot_label(f"dataset {d.token_id}", d.name, f"{d.datapoint_count:,} datapoints")
            lines.append(f'  "dataset/{d.token_id}" [label="{label}", shape=cylinder, fillcolor="#fdebd0"];')
        lines.append("}")
        return "\n".join(lines) + "\n"


def lineage(registries: Registries, token_id: int) -> Lineage:
    """Model ``token_id``, its training datasets, and its ancestors', read from the chain.

    Names come from the metadata in the content store when it is there; the structure
    needs only the chain.
    """
    store, models, datasets = registries.store, registries.model_contract, registries.dataset_contract
    records = [existing_model(models, token_id)]
    # A parent existed before its child was minted, so ids strictly decrease and this ends.
    while 0 < records[-1].parent_id < records[-1].token_id:
        records.append(models.record(records[-1].parent_id))
    node: Lineage | None = None
    for record in reversed(records):
        metadata = metadata_or_none(store, record.metadata_uri)
        nodes = tuple(_dataset_node(store, datasets.record(i)) for i in record.dataset_ids)
        node = Lineage(
            token_id=record.token_id,
            name=token_name(metadata),
            architecture=model_facts(metadata).get("architecture"),
            weights_root=to_hex(record.weights_root),
            owner=record.owner,
            minted_at=record.minted_at,
            datasets=nodes,
            parent=node,
        )
    assert node is not None
    return node


def _dataset_node(store: ContentStore, record: DatasetRecord) -> DatasetNode:
    return DatasetNode(
        token_id=record.token_id,
        name=token_name(metadata_or_none(store, record.metadata_uri)),
        merkle_root=to_hex(record.merkle_root),
        datapoint_count=record.datapoint_count,
        predecessor_id=record.predecessor_id,
    )


def _dot_label(*parts: str | None) -> str:
    """A DOT label of the given lines, quotes and backslashes escaped."""
    return "\\n".join(p.replace("\\", "\\\\").replace('"', '\\"') for p in parts if p)
