"""The registry read back as records: every dataset and model token listed, or one shown in full.

Listings read nothing but the chain (records and mint events) and the content store (names
and facts from each token's metadata), so anyone can run them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from modelmint.chain.contracts import (
    DatasetContract,
    FingerprintKind,
    FingerprintRecord,
    MintLog,
    ModelContract,
    mint_logs,
)
from modelmint.errors import InputError, ModelmintError
from modelmint.hashing import to_hex
from modelmint.models._details import iso_utc
from modelmint.registry._tokens import model_facts, read_token_metadata
from modelmint.registry.metadata import DatasetMetadata, ModelMetadata
from modelmint.registry.registries import Registries

_Metadata = TypeVar("_Metadata", DatasetMetadata, ModelMetadata)

KINDS = ("dataset", "model")
#: The columns of ``modelmint list --csv``: the seed registry's table, for datasets and models.
CSV_COLUMNS = (
    "ref", "kind", "token_id", "name", "architecture", "model_type", "parameters", "dtype", "vocab_size",
    "context_length", "special_tokens", "pipeline_task", "category", "license", "last_modified", "datapoints",
    "root", "parent_id", "dataset_ids", "owner", "minted_at", "block", "tx_hash", "metadata_uri", "chain_id",
    "contract", "error",
)  # fmt: skip


@dataclass(frozen=True)
class RegistryRecord:
    """One token of either registry, with what its metadata says.

    A token whose metadata cannot be read (not in the store, too large, not JSON, not modelmint
    metadata: anyone can mint one) is still listed from its on-chain fields: ``error`` says
    why, and the fields from metadata are None.
    """

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
    error: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.token_id}"

    def to_json(self) -> dict[str, Any]:
        """The record as JSON (camelCase), fingerprints and metadata included; ``error`` only
        for a record whose metadata cannot be read."""
        out = {
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
                    "commitment": to_hex(f.commitment),
                    "committedAt": f.committed_at,
                    "uri": f.uri,
                }
                for f in self.fingerprints
                if f.committed
            ],
            "metadata": self.metadata,
        }
        if self.error is not None:
            out["error"] = self.error
        return out

    def row(self) -> dict[str, Any]:
        """A flat row for CSV (columns :data:`CSV_COLUMNS`): the record and its model facts."""
        facts = model_facts(self.metadata)
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
            "error": self.error,
        }
        return {column: values[column] for column in CSV_COLUMNS}


def list_records(registries: Registries, kind: str | None = None) -> list[RegistryRecord]:
    """Every registered dataset, then every model, in token order (``kind`` keeps one of them).

    A token whose metadata cannot be read is listed with its ``error``; the others are not affected.
    """
    if kind is not None and kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}", "use dataset or model")
    out: list[RegistryRecord] = []
    if kind in (None, "dataset"):
        datasets = registries.dataset_contract
        logs = mint_logs(datasets)
        out += [_dataset_record(registries, i, logs.get(i)) for i in range(1, datasets.total_minted() + 1)]
    if kind in (None, "model"):
        models = registries.model_contract
        logs = mint_logs(models)
        out += [_model_record(registries, i, logs.get(i)) for i in range(1, models.total_minted() + 1)]
    return out


def show(registries: Registries, ref: str) -> RegistryRecord:
    """One record in full, fingerprint commitments included, by ``dataset/N``, ``model/N`` or ``N``.

    A token whose metadata cannot be read is shown from its on-chain fields, with its ``error``.

    Raises:
        InputError: the reference is malformed, names no token, or is a bare number that is
            both a dataset and a model.
    """
    kind, token_id = resolve_ref(registries, ref)
    if kind == "dataset":
        return _dataset_record(registries, token_id, mint_logs(registries.dataset_contract).get(token_id))
    models = registries.model_contract
    record = _model_record(registries, token_id, mint_logs(models).get(token_id))
    return dataclasses.replace(
        record, fingerprints=tuple(models.fingerprint(token_id, k) for k in FingerprintKind)
    )


def resolve_ref(registries: Registries, ref: str) -> tuple[str, int]:
    """``dataset/N`` or ``model/N`` as given; a bare ``N`` when exactly one registry has token N."""
    kind, _, number = ref.strip().rpartition("/")
    if not number.isdigit() or int(number) == 0 or kind not in ("", *KINDS):
        raise InputError(
            f"{ref!r} is not a token reference", "write dataset/N, model/N, or N when only one exists"
        )
    token_id = int(number)
    if kind:
        if token_id > _registry(registries, kind).total_minted():
            raise InputError(
                f"there is no {kind} {token_id}", "list the tokens with list_records", hint="list-tokens"
            )
        return kind, token_id
    # Ids are sequential from 1 and tokens are never burned, so N exists iff N <= totalMinted.
    found = [k for k in KINDS if token_id <= _registry(registries, k).total_minted()]
    if len(found) == 2:
        raise InputError(
            f"{token_id} is both dataset {token_id} and model {token_id}",
            f"say which: dataset/{token_id} or model/{token_id}",
        )
    if not found:
        raise InputError(
            f"no dataset or model has token id {token_id}",
            "list the tokens with list_records",
            hint="list-tokens",
        )
    return found[0], token_id


def _metadata_or_error(
    registries: Registries, kind: type[_Metadata], uri: str, token: str
) -> tuple[_Metadata | None, str | None]:
    """A token's metadata read and checked as ``kind``, or the error that stopped it: that
    record's error, not the listing's."""
    what = f"the metadata of {token}"
    try:
        document = read_token_metadata(registries.store, uri, what)
        return kind.from_document(document, f"{what} ({uri})"), None
    except ModelmintError as exc:
        return None, str(exc)


def _dataset_record(registries: Registries, token_id: int, log: MintLog | None) -> RegistryRecord:
    record = registries.dataset_contract.record(token_id)
    metadata, error = _metadata_or_error(
        registries, DatasetMetadata, record.metadata_uri, f"dataset {token_id}"
    )
    return RegistryRecord(
        kind="dataset",
        token_id=token_id,
        chain_id=registries.chain.chain_id,
        contract=registries.datasets,
        name=metadata.name if metadata else None,
        root=to_hex(record.merkle_root),
        owner=record.owner,
        minted_at=record.minted_at,
        metadata_uri=record.metadata_uri,
        tx_hash=log.tx_hash if log else None,
        block=log.block if log else None,
        datapoint_count=record.datapoint_count,
        parent_id=record.predecessor_id,
        metadata=dict(metadata.document) if metadata else None,
        error=error,
    )


def _model_record(registries: Registries, token_id: int, log: MintLog | None) -> RegistryRecord:
    record = registries.model_contract.record(token_id)
    metadata, error = _metadata_or_error(registries, ModelMetadata, record.metadata_uri, f"model {token_id}")
    facts = metadata.model if metadata else {}
    return RegistryRecord(
        kind="model",
        token_id=token_id,
        chain_id=registries.chain.chain_id,
        contract=registries.models,
        name=metadata.name if metadata else None,
        root=to_hex(record.weights_root),
        owner=record.owner,
        minted_at=record.minted_at,
        metadata_uri=record.metadata_uri,
        tx_hash=log.tx_hash if log else None,
        block=log.block if log else None,
        architecture=facts.get("architecture"),
        parameter_count=facts.get("parameterCount"),
        parent_id=record.parent_id,
        dataset_ids=record.dataset_ids,
        metadata=dict(metadata.document) if metadata else None,
        error=error,
    )


def _registry(registries: Registries, kind: str) -> DatasetContract | ModelContract:
    return registries.dataset_contract if kind == "dataset" else registries.model_contract
