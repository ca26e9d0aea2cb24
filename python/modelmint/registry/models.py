"""Use cases for models: register one as a ModelNFT, verify files against it, trace its lineage,
and read the registry (datasets and models) back as records.

Registering and verifying hash with the same manifest routine; verifying, lineage and the
listings read nothing but the chain and the content store, so a third party with neither
the original files nor this project folder can run them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelmint.chain.client import Chain
from modelmint.chain.contracts import (
    DatasetContract,
    DatasetRecord,
    FingerprintKind,
    FingerprintRecord,
    MintCommitment,
    MintLog,
    ModelContract,
    ModelRecord,
    mint_logs,
    two_step_default,
)
from modelmint.errors import InputError, IntegrityError, ModelmintError
from modelmint.hashing.canonical import canonical_json
from modelmint.models import (
    MANIFEST_SCHEME,
    FileDifference,
    ModelDetails,
    ModelSource,
    WeightsManifest,
    open_model,
)
from modelmint.models._details import iso_utc
from modelmint.models._manifest import TREE as MANIFEST_TREE
from modelmint.registry.claims import Claim, claims_of, own_claim
from modelmint.storage import ContentStore, parse_uri, to_uri

METADATA_SCHEMA = "modelmint.model-metadata.v1"
KINDS = ("dataset", "model")
#: The columns of ``modelmint list --csv``: the seed registry's table, for datasets and models.
CSV_COLUMNS = (
    "ref", "kind", "token_id", "name", "architecture", "model_type", "parameters", "dtype", "vocab_size",
    "context_length", "special_tokens", "pipeline_task", "category", "license", "last_modified", "datapoints",
    "root", "parent_id", "dataset_ids", "owner", "minted_at", "block", "tx_hash", "metadata_uri", "chain_id",
    "contract",
)  # fmt: skip


@dataclass(frozen=True)
class ModelRegistration:
    """What a model mint produced (or found already on-chain)."""

    token_id: int
    chain_id: int
    contract: str
    name: str | None
    weights_root: str
    metadata_uri: str
    manifest_uri: str | None  # None only when an existing token's metadata cannot be read
    parent_id: int
    dataset_ids: tuple[int, ...]
    file_count: int
    total_size: int
    parameter_count: int | None
    tx_hash: str | None
    block: int | None
    gas_used: int | None
    already_registered: bool
    claimed_at: int = 0
    #: Every claim of the weights root, earliest first, this one included (docs/security.md).
    claims: tuple[Claim, ...] = ()
    #: The commit transaction of a two-step (front-running-proof) mint, None for one step.
    commit_tx_hash: str | None = None
    commit_gas_used: int | None = None
    #: The OML commitment made in the mint's transaction (``oml=``), if any.
    oml: Any = None

    @property
    def other_claims(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.token_id != self.token_id)


@dataclass(frozen=True)
class ModelVerification:
    """Local files against a token's manifest, by path; ``ok`` when they are the same files."""

    token_id: int
    weights_root: str
    local_root: str
    checked: int
    matching: int
    differing: list[FileDifference] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.local_root == self.weights_root and not (self.differing or self.missing or self.extra)


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


@dataclass(frozen=True)
class RegistryRecord:
    """One token of either registry, with what its metadata says (None where unreadable)."""

    kind: str
    token_id: int
    chain_id: int
    contract: str
    name: str | None
    root: str
    owner: str
    minted_at: int
    metadata_uri: str
    tx_hash: str | None
    block: int | None
    architecture: str | None = None
    parameter_count: int | None = None
    datapoint_count: int | None = None
    parent_id: int = 0
    dataset_ids: tuple[int, ...] = ()
    metadata: dict[str, Any] | None = None
    fingerprints: tuple[FingerprintRecord, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.token_id}"

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (camelCase), fingerprints and metadata included."""
        return {
            "ref": self.ref,
            "kind": self.kind,
            "tokenId": self.token_id,
            "name": self.name,
            "architecture": self.architecture,
            "parameterCount": self.parameter_count,
            "datapointCount": self.datapoint_count,
            "root": self.root,
            "parentId": self.parent_id,
            "datasetIds": list(self.dataset_ids),
            "owner": self.owner,
            "mintedAt": iso_utc(self.minted_at * 10**9),
            "chainId": self.chain_id,
            "contract": self.contract,
            "block": self.block,
            "txHash": self.tx_hash,
            "metadataUri": self.metadata_uri,
            "fingerprints": [
                {
                    "kind": f.kind.name,
                    "commitment": _hex(f.commitment),
                    "committedAt": f.committed_at,
                    "uri": f.uri,
                }
                for f in self.fingerprints
                if f.committed
            ],
            "metadata": self.metadata,
        }

    def row(self) -> dict[str, Any]:
        """A flat row for CSV (columns :data:`CSV_COLUMNS`): the record and its model facts."""
        facts = _model_facts(self.metadata)
        values = {
            "ref": self.ref,
            "kind": self.kind,
            "token_id": self.token_id,
            "name": self.name,
            "architecture": self.architecture,
            "model_type": facts.get("modelType"),
            "parameters": self.parameter_count,
            "dtype": facts.get("dtype"),
            "vocab_size": facts.get("vocabSize"),
            "context_length": facts.get("contextLength"),
            "special_tokens": " ".join(f"{k}={v}" for k, v in (facts.get("specialTokens") or {}).items()),
            "pipeline_task": facts.get("pipelineTask"),
            "category": facts.get("category"),
            "license": facts.get("license"),
            "last_modified": facts.get("lastModified"),
            "datapoints": self.datapoint_count,
            "root": self.root,
            "parent_id": self.parent_id or None,
            "dataset_ids": " ".join(str(i) for i in self.dataset_ids),
            "owner": self.owner,
            "minted_at": iso_utc(self.minted_at * 10**9),
            "block": self.block,
            "tx_hash": self.tx_hash,
            "metadata_uri": self.metadata_uri,
            "chain_id": self.chain_id,
            "contract": self.contract,
        }
        return {column: values[column] for column in CSV_COLUMNS}


def register_model(
    chain: Chain,
    store: ContentStore,
    model: str | Path | ModelSource,
    *,
    dataset_ids: Sequence[int] = (),
    parent_id: int = 0,
    name: str | None = None,
    description: str | None = None,
    owner: str | None = None,
    image: str | Path | None = None,
    follow_symlinks: bool = False,
    progress: Callable[[int], None] | None = None,
    two_step: bool | None = None,
    oml: Sequence[Any] | None = None,
    oml_secrets: Path | None = None,
) -> ModelRegistration:
    """Hash a model's files, store its manifest and metadata, and mint a ModelNFT.

    Re-running on weights the owner already claims reports that token instead of failing:
    the mint is idempotent. Weights claimed by someone else are claimed again, and the result
    lists every claimant (``claims``). Content is stored before the mint; it is
    content-addressed, so a failed mint (an unknown parent or dataset) leaves nothing that
    blocks a retry.

    Args:
        model: a model folder, a GGUF file, a Hub repo id, or a source from :func:`open_model`.
        dataset_ids: DatasetNFT tokens the model was trained on.
        parent_id: the ModelNFT this model was derived from (fine-tuned, quantised), 0 for none.
        name: token name [default: the model's own name, or its folder or file name].
        image: the picture for the token (a fingerprint picture): a file stored in the
            content store, or an ``ipfs://`` URI.
        progress: called with the bytes just hashed, possibly from several threads in turn.
        two_step: commit-reveal (two transactions, cannot be front-run) or one transaction;
            [default: two steps on every chain but the devnet].
        oml: OML fingerprints to commit in the mint's own transaction, so the commitment
            provably existed when the model was registered; ``oml_secrets`` is where their
            salts go [default: the project folder].
    """
    contract = ModelContract(chain)
    to = owner or chain.signer.address
    # Cheap checks first, so a wrong --parent or a truncated shard fails before gigabytes are hashed.
    contract.check_lineage(to, parent_id, dataset_ids)
    source = open_model(model, follow_symlinks=follow_symlinks)
    details = source.details(name)
    manifest = source.manifest(progress)
    claims = claims_of(contract, manifest.root)
    mine = own_claim(claims, to)
    if mine:
        if oml:
            raise InputError(
                f"already registered as {mine.describe('model')}: --oml-commit applies to a new mint only",
                f"commit the fingerprints on it with `modelmint fingerprint oml commit --token {mine.token_id}`",
            )
        record = contract.record(mine.token_id)
        return _registration(
            chain,
            contract,
            record,
            _metadata_or_none(store, record.metadata_uri),
            manifest,
            None,
            claims=claims,
        )

    manifest_uri = to_uri(store.put(manifest.canonical()))
    metadata = model_metadata(
        details=details,
        manifest=manifest,
        manifest_uri=manifest_uri,
        name=name,
        description=description,
        parent_id=parent_id,
        dataset_ids=dataset_ids,
        image=_image_uri(store, image),
    )
    metadata_uri = to_uri(store.put(canonical_json(metadata)))
    two = two_step_default(chain) if two_step is None else two_step
    commit = contract.commit_mint(manifest.root, chain.signer.address) if two else None
    prepared = None
    if oml:
        from modelmint.registry.oml import prepare_oml

        # OML leaves name their token, so they are built for the id this mint will give;
        # the contract refuses the mint (ModelUnexpectedTokenId) if another mint came first.
        prepared = prepare_oml(chain, store, contract, contract.next_token_id(), oml, oml_secrets)
    at_mint = prepared.at_mint() if prepared else None
    if commit is not None:
        minted = contract.reveal_mint(
            to, manifest.root, metadata_uri, parent_id, dataset_ids, commit.salt, at_mint
        )
    elif at_mint is not None:
        minted = contract.mint_with_fingerprint(
            to, manifest.root, metadata_uri, parent_id, dataset_ids, at_mint
        )
    else:
        minted = contract.mint(to, manifest.root, metadata_uri, parent_id, dataset_ids)
    return _registration(
        chain, contract, contract.record(minted.token_id), metadata, manifest, minted,
        claims=claims_of(contract, manifest.root), commit=commit,
        oml=prepared.result(chain, contract.address, minted) if prepared else None,
    )  # fmt: skip


def verify_model(
    chain: Chain,
    store: ContentStore,
    model: str | Path | ModelSource,
    token_id: int,
    *,
    follow_symlinks: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ModelVerification:
    """Hash a model's files and compare them, by path, with the manifest of model ``token_id``.

    The manifest comes from the token's metadata in the content store and is checked
    against the on-chain weights root before it is trusted.
    """
    record = _existing_model(ModelContract(chain), token_id)
    expected = load_manifest(store, record, read_model_metadata(store, record))
    actual = open_model(model, follow_symlinks=follow_symlinks).manifest(progress)
    diff = expected.compare(actual)
    bad = {d.path for d in diff.differing} | set(diff.extra)
    return ModelVerification(
        token_id=token_id,
        weights_root=_hex(record.weights_root),
        local_root=_hex(actual.root),
        checked=len(actual.files),
        matching=sum(1 for f in actual.files if f.path not in bad),
        differing=diff.differing,
        missing=diff.missing,
        extra=diff.extra,
    )


def lineage(chain: Chain, store: ContentStore, token_id: int) -> Lineage:
    """Model ``token_id``, its training datasets, and its ancestors', read from the chain.

    Names come from the metadata in the content store when it is there; the structure
    needs only the chain.
    """
    models, datasets = ModelContract(chain), DatasetContract(chain)
    records = [_existing_model(models, token_id)]
    # A parent existed before its child was minted, so ids strictly decrease and this ends.
    while 0 < records[-1].parent_id < records[-1].token_id:
        records.append(models.record(records[-1].parent_id))
    node: Lineage | None = None
    for record in reversed(records):
        metadata = _metadata_or_none(store, record.metadata_uri)
        nodes = tuple(_dataset_node(store, datasets.record(i)) for i in record.dataset_ids)
        node = Lineage(
            token_id=record.token_id,
            name=_name(metadata),
            architecture=_model_facts(metadata).get("architecture"),
            weights_root=_hex(record.weights_root),
            owner=record.owner,
            minted_at=record.minted_at,
            datasets=nodes,
            parent=node,
        )
    assert node is not None
    return node


def list_records(chain: Chain, store: ContentStore, kind: str | None = None) -> list[RegistryRecord]:
    """Every registered dataset, then every model, in token order (``kind`` keeps one of them)."""
    if kind is not None and kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}", "use dataset or model")
    out: list[RegistryRecord] = []
    if kind in (None, "dataset"):
        datasets = DatasetContract(chain)
        logs = mint_logs(datasets)
        out += [
            _dataset_record(chain, datasets, store, i, logs.get(i))
            for i in range(1, datasets.total_minted() + 1)
        ]
    if kind in (None, "model"):
        models = ModelContract(chain)
        logs = mint_logs(models)
        out += [
            _model_record(chain, models, store, i, logs.get(i)) for i in range(1, models.total_minted() + 1)
        ]
    return out


def show(chain: Chain, store: ContentStore, ref: str) -> RegistryRecord:
    """One record in full, fingerprint commitments included, by ``dataset/N``, ``model/N`` or ``N``.

    Raises:
        InputError: the reference is malformed, names no token, or is a bare number that is
            both a dataset and a model.
    """
    kind, token_id = resolve_ref(chain, ref)
    if kind == "dataset":
        datasets = DatasetContract(chain)
        return _dataset_record(chain, datasets, store, token_id, mint_logs(datasets).get(token_id))
    models = ModelContract(chain)
    record = _model_record(chain, models, store, token_id, mint_logs(models).get(token_id))
    return dataclasses.replace(
        record, fingerprints=tuple(models.fingerprint(token_id, k) for k in FingerprintKind)
    )


def resolve_ref(chain: Chain, ref: str) -> tuple[str, int]:
    """``dataset/N`` or ``model/N`` as given; a bare ``N`` when exactly one registry has token N."""
    kind, _, number = ref.strip().rpartition("/")
    if not number.isdigit() or int(number) == 0 or kind not in ("", *KINDS):
        raise InputError(
            f"{ref!r} is not a token reference", "write dataset/N, model/N, or N when only one exists"
        )
    token_id = int(number)
    if kind:
        if token_id > _registry(chain, kind).total_minted():
            raise InputError(f"there is no {kind} {token_id}", "list the tokens with `modelmint list`")
        return kind, token_id
    # Ids are sequential from 1 and tokens are never burned, so N exists iff N <= totalMinted.
    found = [k for k in KINDS if token_id <= _registry(chain, k).total_minted()]
    if len(found) == 2:
        raise InputError(
            f"{token_id} is both dataset {token_id} and model {token_id}",
            f"say which: dataset/{token_id} or model/{token_id}",
        )
    if not found:
        raise InputError(
            f"no dataset or model has token id {token_id}", "list the tokens with `modelmint list`"
        )
    return found[0], token_id


def model_metadata(
    *,
    details: ModelDetails,
    manifest: WeightsManifest,
    manifest_uri: str,
    name: str | None,
    description: str | None,
    parent_id: int,
    dataset_ids: Sequence[int],
    image: str | None,
) -> dict[str, Any]:
    """The ERC-721 metadata JSON of a model token (stored as RFC 8785 canonical JSON; docs/models.md)."""
    root_hex = _hex(manifest.root)
    title = name or details.name
    traits: list[tuple[str, Any, bool]] = [
        ("kind", "model", False),
        ("architecture", details.architecture, False),
        ("model type", details.model_type, False),
        ("parameters", details.parameter_count, True),
        ("dtype", details.dtype, False),
        ("context length", details.context_length, True),
        ("vocabulary size", details.vocab_size, True),
        ("pipeline task", details.pipeline_task, False),
        ("category", details.category, False),
        ("license", details.license, False),
        ("files", len(manifest.files), True),
        ("weights root", root_hex, False),
        ("parent model", parent_id or None, True),
        ("training datasets", len(dataset_ids) or None, True),
    ]
    attributes = [
        {"trait_type": t, "value": v, **({"display_type": "number"} if number else {})}
        for t, v, number in traits
        if v is not None
    ]
    size = f"{details.parameter_count:,}-parameter " if details.parameter_count else ""
    doc: dict[str, Any] = {
        "name": title,
        "description": description
        or f"{size}{details.architecture or 'model'} registered with modelmint; weights root {root_hex}.",
        "attributes": attributes,
        "modelmint": {
            "schema": METADATA_SCHEMA,
            "kind": "model",
            "weightsRoot": root_hex,
            "manifest": manifest_uri,
            "manifestScheme": MANIFEST_SCHEME,
            "tree": MANIFEST_TREE,
            "parentModelId": parent_id,
            "datasetIds": list(dataset_ids),
            "totalSize": manifest.total_size,
            "files": [{"path": f.path, "size": f.size} for f in manifest.files],
            "model": details.to_json(),
        },
    }
    if image:
        doc["image"] = image
    return doc


def read_model_metadata(store: ContentStore, record: ModelRecord) -> dict[str, Any]:
    """The token's metadata, checked to be modelmint model metadata.

    Raises:
        IntegrityError: it is not (the token was minted by something else).
    """
    try:
        metadata = json.loads(store.get(parse_uri(record.metadata_uri)))
        if metadata["modelmint"]["schema"] != METADATA_SCHEMA:
            raise ValueError
        parse_uri(metadata["modelmint"]["manifest"])
    except (ValueError, KeyError, TypeError, InputError):
        raise IntegrityError(
            f"the metadata of model {record.token_id} ({record.metadata_uri}) is not modelmint model metadata",
            "the token was not registered by modelmint; nothing can be verified against it",
        ) from None
    return metadata


def load_manifest(store: ContentStore, record: ModelRecord, metadata: dict[str, Any]) -> WeightsManifest:
    """The token's manifest from the content store, checked against the on-chain weights root."""
    uri = metadata["modelmint"]["manifest"]
    manifest = WeightsManifest.from_json(store.get(parse_uri(uri)), f"the manifest {uri}")
    if manifest.root != record.weights_root:
        raise IntegrityError(
            f"the manifest {uri} of model {record.token_id} does not give its on-chain weights root",
            "the metadata points at the wrong manifest; the token cannot be verified",
        )
    return manifest


def draw_lineage(tree: Lineage, path: Path) -> None:
    """Draw the lineage as a PNG with matplotlib and networkx (no Graphviz needed).

    Ancestors run top to bottom, oldest first; each model's datasets sit to its left.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = nx.DiGraph()
    pos: dict[str, tuple[float, float]] = {}
    labels: dict[str, str] = {}
    colors: dict[str, str] = {}
    models = list(tree.chain())[::-1]
    for row, m in enumerate(models):
        key = f"model/{m.token_id}"
        pos[key], colors[key] = (0.0, -row), "#dbe9f6"
        labels[key] = "\n".join(x for x in (f"model {m.token_id}", m.name, m.architecture) if x)
        if row:
            graph.add_edge(f"model/{models[row - 1].token_id}", key)
        for col, d in enumerate(m.datasets, start=1):
            dkey = f"dataset/{d.token_id}@{m.token_id}"
            pos[dkey], colors[dkey] = (-1.6 * col, -row), "#fdebd0"
            labels[dkey] = "\n".join(x for x in (f"dataset {d.token_id}", d.name) if x)
            graph.add_edge(dkey, key)
        graph.add_node(key)
    width = 2.6 + 2.2 * max((len(m.datasets) for m in models), default=0)
    fig, ax = plt.subplots(figsize=(width, 1.0 + 1.4 * len(models)))
    texts = nx.draw_networkx_labels(
        graph, pos, labels=labels, ax=ax, font_size=8, bbox={"boxstyle": "round,pad=0.4", "ec": "#555555"}
    )
    for key, text in texts.items():  # colour each label box by kind
        text.get_bbox_patch().set_facecolor(colors[key])
    for source, target in graph.edges:  # arrows clipped to the label boxes, so heads stay visible
        ax.annotate(
            "", xy=pos[target], xytext=pos[source],
            arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.2, "mutation_scale": 14,
                        "patchA": texts[source].get_bbox_patch(), "patchB": texts[target].get_bbox_patch()},
        )  # fmt: skip
    ax.set_title(f"lineage of model {tree.token_id}", fontsize=10)
    xs, ys = [x for x, _ in pos.values()], [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _registration(
    chain: Chain,
    contract: ModelContract,
    record: ModelRecord,
    metadata: dict[str, Any] | None,
    manifest: WeightsManifest,
    sent: Any,
    *,
    claims: Sequence[Claim] = (),
    commit: MintCommitment | None = None,
    oml: Any = None,
) -> ModelRegistration:
    meta = (metadata or {}).get("modelmint") or {}
    return ModelRegistration(
        token_id=record.token_id,
        chain_id=chain.chain_id,
        contract=contract.address,
        name=_name(metadata),
        weights_root=_hex(record.weights_root),
        metadata_uri=record.metadata_uri,
        manifest_uri=meta.get("manifest"),
        parent_id=record.parent_id,
        dataset_ids=record.dataset_ids,
        file_count=len(manifest.files),
        total_size=manifest.total_size,
        parameter_count=_model_facts(metadata).get("parameterCount"),
        tx_hash=sent.tx_hash if sent else None,
        block=sent.block if sent else None,
        gas_used=sent.gas_used if sent else None,
        already_registered=sent is None,
        claimed_at=record.claimed_at,
        claims=tuple(claims),
        commit_tx_hash=commit.sent.tx_hash if commit else None,
        commit_gas_used=commit.sent.gas_used if commit else None,
        oml=oml,
    )


def _dataset_record(
    chain: Chain, contract: DatasetContract, store: ContentStore, token_id: int, log: MintLog | None
) -> RegistryRecord:
    record = contract.record(token_id)
    metadata = _metadata_or_none(store, record.metadata_uri)
    return RegistryRecord(
        kind="dataset",
        token_id=token_id,
        chain_id=chain.chain_id,
        contract=contract.address,
        name=_name(metadata),
        root=_hex(record.merkle_root),
        owner=record.owner,
        minted_at=record.minted_at,
        metadata_uri=record.metadata_uri,
        tx_hash=log.tx_hash if log else None,
        block=log.block if log else None,
        datapoint_count=record.datapoint_count,
        parent_id=record.predecessor_id,
        metadata=metadata,
    )


def _model_record(
    chain: Chain, contract: ModelContract, store: ContentStore, token_id: int, log: MintLog | None
) -> RegistryRecord:
    record = contract.record(token_id)
    metadata = _metadata_or_none(store, record.metadata_uri)
    facts = _model_facts(metadata)
    return RegistryRecord(
        kind="model",
        token_id=token_id,
        chain_id=chain.chain_id,
        contract=contract.address,
        name=_name(metadata),
        root=_hex(record.weights_root),
        owner=record.owner,
        minted_at=record.minted_at,
        metadata_uri=record.metadata_uri,
        tx_hash=log.tx_hash if log else None,
        block=log.block if log else None,
        architecture=facts.get("architecture"),
        parameter_count=facts.get("parameterCount"),
        parent_id=record.parent_id,
        dataset_ids=record.dataset_ids,
        metadata=metadata,
    )


def _dataset_node(store: ContentStore, record: DatasetRecord) -> DatasetNode:
    return DatasetNode(
        token_id=record.token_id,
        name=_name(_metadata_or_none(store, record.metadata_uri)),
        merkle_root=_hex(record.merkle_root),
        datapoint_count=record.datapoint_count,
        predecessor_id=record.predecessor_id,
    )


def _existing_model(models: ModelContract, token_id: int) -> ModelRecord:
    if not models.exists(token_id):
        raise InputError(
            f"there is no model {token_id}", "list the models with `modelmint list --kind model`"
        )
    return models.record(token_id)


def _registry(chain: Chain, kind: str) -> DatasetContract | ModelContract:
    if kind == "dataset":
        return DatasetContract(chain)
    return ModelContract(chain)


def _metadata_or_none(store: ContentStore, uri: str) -> dict[str, Any] | None:
    """A token's metadata JSON if the store has it, else None: names are a convenience."""
    try:
        value = json.loads(store.get(parse_uri(uri)))
    except (ModelmintError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _model_facts(metadata: dict[str, Any] | None) -> dict[str, Any]:
    facts = ((metadata or {}).get("modelmint") or {}).get("model")
    return facts if isinstance(facts, dict) else {}


def _name(metadata: dict[str, Any] | None) -> str | None:
    name = (metadata or {}).get("name")
    return name if isinstance(name, str) else None


def _image_uri(store: ContentStore, image: str | Path | None) -> str | None:
    if image is None:
        return None
    if isinstance(image, str) and image.startswith("ipfs://"):
        parse_uri(image)
        return image
    return to_uri(store.put_file(Path(image)))


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _dot_label(*parts: str | None) -> str:
    """A DOT label of the given lines, quotes and backslashes escaped."""
    return "\\n".join(p.replace("\\", "\\\\").replace('"', '\\"') for p in parts if p)
