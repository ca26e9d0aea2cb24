"""The provenance record of a training run, and the one routine that completes it.

A training run's provenance is a short list of steps: commit each training dataset, find or
register the base model, register each saved model with its lineage, commit its
fingerprints, write its card. :class:`ProvenanceRecord` lists them with what each produced
and lives in the run's output folder as ``modelmint-provenance.json``, rewritten after every
step. :func:`complete` runs the steps not yet done; each one is idempotent on the chain too
(an existing root or weights report their token), so a run cut short anywhere (the chain
down, the content store away, the process killed) completes later with
:func:`resume_provenance`, or ``modelmint model resume-provenance OUTPUT_DIR``.

In-memory datasets cannot be read again after the training script ends, so their rows are
written to the record's folder (``modelmint-provenance/``) as canonical JSONL before the
first step, and removed once committed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelmint._files import write_atomic
from modelmint.chain.client import Chain
from modelmint.datasets import is_in_memory_dataset, write_memory_jsonl
from modelmint.datasets._memory import MEMORY_FORMAT
from modelmint.errors import InputError
from modelmint.home import Home
from modelmint.integrations.hf_datasets import TrainingData, dataset_name
from modelmint.storage import open_store

if TYPE_CHECKING:
    from modelmint.registry.registries import Registries

RECORD_FILE = "modelmint-provenance.json"
DATA_FOLDER = "modelmint-provenance"
RECORD_SCHEMA = "modelmint.training-provenance.v1"
RESUME_COMMAND = "modelmint model resume-provenance"


@dataclass
class Connection:
    """Where the record is completed: the project folder, node, key and content store
    (None: the defaults the CLI uses). The keystore's password is never recorded."""

    home: str | None = None
    rpc_url: str | None = None
    keystore: str | None = None
    ipfs_api: str | None = None

    def open(self, configure: Callable[[Chain], None] | None = None) -> Registries:
        """Connects to the node and opens the registries the project folder records for it;
        ``configure`` sets the connection up first (a front end's fee cap, a browser wallet).

        Raises:
            ChainError: the node cannot be reached, or nothing is deployed on it.
        """
        from modelmint.registry.registries import Registries

        home = Home.resolve(self.home)
        chain = Chain.connect(home, self.rpc_url, Path(self.keystore) if self.keystore else None)
        if configure is not None:
            configure(chain)
        return Registries.from_project(home, chain, open_store(home.store_dir, self.ipfs_api))


@dataclass
class DatasetEntry:
    name: str | None
    path: str | None  # None for a token given by id
    fmt: str | None = None
    hub_id: str | None = None
    token_id: int | None = None
    merkle_root: str | None = None
    materialised: bool = False  # rows written from memory into the record's folder


@dataclass
class BaseEntry:
    model: str | None  # a folder, a GGUF file or a Hub repo id; None for a token given by id
    token_id: int | None = None
    weights_root: str | None = None
    hub_id: str | None = None


@dataclass
class ModelEntry:
    folder: str
    step: int
    token_id: int | None = None
    weights_root: str | None = None
    huref: str | None = None  # the committed fingerprint's SHA-256, once committed
    oml: str | None = None  # the committed OML root, once committed
    card: bool = False


@dataclass
class ProvenanceRecord:
    """What a training run registers, step by step (the ``modelmint-provenance.json`` file)."""

    datasets: list[DatasetEntry]
    base: BaseEntry | None
    models: list[ModelEntry] = field(default_factory=list)
    connection: Connection = field(default_factory=Connection)
    name: str | None = None
    huref: bool = False
    oml_fingerprints: str | None = None
    status: str = "pending"
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def to_json(self) -> dict[str, Any]:
        return {"schema": RECORD_SCHEMA, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, data: Any, where: str) -> ProvenanceRecord:
        try:
            if data.get("schema") != RECORD_SCHEMA:
                raise KeyError("schema")
            base = data["base"]
            return cls(
                datasets=[DatasetEntry(**d) for d in data["datasets"]],
                base=BaseEntry(**base) if base else None,
                models=[ModelEntry(**m) for m in data["models"]],
                connection=Connection(**data["connection"]),
                name=data["name"],
                huref=bool(data["huref"]),
                oml_fingerprints=data["oml_fingerprints"],
                status=str(data["status"]),
                error=data["error"],
            )
        except (AttributeError, KeyError, TypeError) as e:
            raise InputError(
                f"{where} is not a modelmint provenance record ({e})",
                "give the output folder of a training run",
            ) from None

    def save(self, output_dir: Path) -> None:
        write_atomic(Path(output_dir) / RECORD_FILE, (json.dumps(self.to_json(), indent=2) + "\n").encode())


def record_path(output_dir: str | os.PathLike[str]) -> Path:
    return Path(output_dir) / RECORD_FILE


def load_record(output_dir: str | os.PathLike[str]) -> ProvenanceRecord:
    """The record of a run's output folder.

    Raises:
        InputError: there is none, or it is not readable.
    """
    path = record_path(output_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{output_dir} holds no {RECORD_FILE}",
            "give the output folder of a training run with the ProvenanceCallback",
        ) from None
    except (OSError, ValueError) as e:
        raise InputError(
            f"{path} is not readable JSON ({e})", "give the output folder of a training run"
        ) from None
    return ProvenanceRecord.from_json(data, str(path))


def new_record(
    output_dir: Path,
    datasets: Sequence[TrainingData],
    base: str | os.PathLike[str] | int | None,
    *,
    base_hub_id: str | None = None,
    connection: Connection | None = None,
    name: str | None = None,
    huref: bool = False,
    oml_fingerprints: str | os.PathLike[str] | None = None,
) -> ProvenanceRecord:
    """A record of the run's data and base, with in-memory datasets written out as JSONL
    (the slow part: every row is read once)."""
    entries = []
    for number, item in enumerate(datasets, 1):
        data = item.data
        if isinstance(data, bool):
            raise InputError(
                f"dataset {number} is {data!r}", "give a datasets object, a dataset path or a DatasetNFT id"
            )
        if isinstance(data, int):
            entries.append(DatasetEntry(name=item.name, path=None, hub_id=item.hub_id, token_id=data))
        elif is_in_memory_dataset(data):
            folder = Path(output_dir) / DATA_FOLDER
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"dataset-{number}.jsonl"
            write_memory_jsonl(data, target, item.columns)
            entries.append(DatasetEntry(
                name=item.name or dataset_name(data), path=_relative(target, output_dir), fmt=MEMORY_FORMAT,
                hub_id=item.hub_id, materialised=True,
            ))  # fmt: skip
        elif isinstance(data, (str, os.PathLike)):
            entries.append(
                DatasetEntry(
                    name=item.name, path=_relative(Path(data).resolve(), output_dir), hub_id=item.hub_id
                )
            )
        else:
            raise InputError(
                f"dataset {number} is a {type(data).__name__}",
                "give a datasets.Dataset, DatasetDict or IterableDataset, a dataset path, or a DatasetNFT id",
            )
    if base is None:
        base_entry = None
    elif isinstance(base, bool):
        raise InputError(
            f"base={base!r} names no model", "give a model folder, a Hub repo id or a ModelNFT id"
        )
    elif isinstance(base, int):
        base_entry = BaseEntry(model=None, token_id=base, hub_id=base_hub_id)
    else:
        local = Path(base)
        model = _relative(local.resolve(), output_dir) if local.exists() else str(base)  # else a Hub repo id
        base_entry = BaseEntry(model=model, hub_id=base_hub_id)
    return ProvenanceRecord(
        datasets=entries,
        base=base_entry,
        connection=connection or Connection(),
        name=name,
        huref=huref,
        oml_fingerprints=str(Path(oml_fingerprints).resolve()) if oml_fingerprints else None,
    )


def complete(  # noqa: PLR0912, PLR0915 -- one check per field of the record, in the order the spec lists them
    output_dir: Path, record: ProvenanceRecord, configure: Callable[[Chain], None] | None = None
) -> ProvenanceRecord:
    """Runs every step of ``record`` not yet done, saving the record after each.

    Raises:
        ModelmintError: a step failed (the chain or store unreachable, a refused mint); the
            record keeps what the earlier steps produced and the error, for a later resume.
    """
    from modelmint.integrations.cards import write_card
    from modelmint.models import open_model
    from modelmint.registry import commit_dataset, register_model, show
    from modelmint.registry.datasets import hash_paths

    output_dir = Path(output_dir)
    try:
        registries = record.connection.open(configure)
        chain = registries.chain
        for d in record.datasets:
            if d.token_id is not None and d.merkle_root is not None:
                continue
            if d.token_id is not None:  # given by id: check it exists, note its root
                shown = show(registries, f"dataset/{d.token_id}")
                d.merkle_root, d.name = shown.root, d.name or shown.name
            else:
                path = _absolute(d.path, output_dir)
                root = hash_paths(path, d.fmt).tree().root
                claimed = _claimed(chain, registries.dataset_contract, root)
                if claimed:
                    d.token_id, d.merkle_root = claimed, "0x" + root.hex()
                else:
                    committed = commit_dataset(registries, path, name=d.name, fmt=d.fmt)
                    d.token_id, d.merkle_root = committed.token_id, committed.merkle_root
            record.save(output_dir)
            if d.materialised:  # after the save: a record that still needs the rows keeps them
                _absolute(d.path, output_dir).unlink(missing_ok=True)
        parent_id = 0
        if record.base is not None:
            b = record.base
            if b.weights_root is None:
                if b.token_id is not None:
                    b.weights_root = show(registries, f"model/{b.token_id}").root
                else:
                    assert b.model is not None  # a base without a token id is a folder or a Hub id
                    source = open_model(
                        b.model if _is_hub_id(b.model, output_dir) else _absolute(b.model, output_dir)
                    )
                    root = source.manifest().root
                    claimed = _claimed(chain, registries.model_contract, root)
                    if claimed:
                        b.token_id, b.weights_root = claimed, "0x" + root.hex()
                    else:
                        registered = register_model(registries, source)
                        b.token_id, b.weights_root = registered.token_id, registered.weights_root
                record.save(output_dir)
            assert b.token_id is not None  # found or registered above
            parent_id = b.token_id
        dataset_ids = [int(d.token_id) for d in record.datasets]  # type: ignore[arg-type]
        for m in record.models:
            folder = _absolute(m.folder, output_dir)
            if m.token_id is None:
                made = register_model(
                    registries, folder, parent_id=parent_id, dataset_ids=dataset_ids, name=record.name
                )
                m.token_id, m.weights_root = made.token_id, made.weights_root
                record.save(output_dir)
            if record.huref and m.huref is None:
                from modelmint.registry.fingerprints import commit_huref

                m.huref = commit_huref(registries, folder, m.token_id).sha256
                record.save(output_dir)
            if record.oml_fingerprints and m.oml is None:
                from modelmint.fingerprints.oml.file import read_fingerprints
                from modelmint.registry import commit_oml

                m.oml = commit_oml(
                    registries, m.token_id, read_fingerprints(Path(record.oml_fingerprints))
                ).root
                record.save(output_dir)
            if not m.card:
                write_card(
                    registries, folder, m.token_id, base_model=record.base.hub_id if record.base else None,
                    dataset_names=[d.hub_id for d in record.datasets],
                )  # fmt: skip
                m.card = True
                record.save(output_dir)
        _remove_empty(output_dir / DATA_FOLDER)
        record.status, record.error = "complete", None
        record.save(output_dir)
        return record
    except Exception as e:
        record.status, record.error = "pending", str(e) or type(e).__name__
        record.save(output_dir)
        raise


def resume_provenance(
    output_dir: str | os.PathLike[str],
    *,
    home: str | os.PathLike[str] | None = None,
    rpc_url: str | None = None,
    keystore: str | os.PathLike[str] | None = None,
    ipfs_api: str | None = None,
    configure: Callable[[Chain], None] | None = None,
) -> ProvenanceRecord:
    """Completes the provenance record a training run left in ``output_dir``.

    Arguments given replace the recorded connection (a node that moved, another key). A
    complete record is returned as it is. ``configure`` sets the connection up before
    anything is sent (the CLI's fee cap and confirmations, a browser wallet).

    Raises:
        InputError: ``output_dir`` holds no record.
        ModelmintError: a step failed again; the record says which and keeps the rest.
    """
    output_dir = Path(output_dir)
    record = load_record(output_dir)
    if record.complete:
        return record
    c = record.connection
    record.connection = Connection(
        home=str(home) if home is not None else c.home,
        rpc_url=rpc_url or c.rpc_url,
        keystore=str(keystore) if keystore is not None else c.keystore,
        ipfs_api=ipfs_api or c.ipfs_api,
    )
    return complete(output_dir, record, configure)


def _claimed(chain: Chain, contract: Any, root: bytes) -> int | None:
    """The token already claiming ``root``: the signer's own claim, else the earliest.

    The base and the data are found before anything is minted, so a run points its lineage
    at the token the world already knows instead of claiming someone else's root again.
    """
    from modelmint.registry.claims import claims_of, own_claim

    claims = claims_of(contract, root)
    if not claims:
        return None
    return (own_claim(claims, chain.signer.address) or claims[0]).token_id


def _relative(path: Path, output_dir: Path) -> str:
    """A path inside the output folder relative to it, so the folder can move; else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path(output_dir).resolve()))
    except ValueError:
        return str(Path(path).resolve())


def _absolute(path: str | None, output_dir: Path) -> Path:
    assert path is not None
    p = Path(path)
    return p if p.is_absolute() else output_dir / p


def _is_hub_id(model: str | None, output_dir: Path) -> bool:
    return model is not None and not _absolute(model, output_dir).exists() and not Path(model).is_absolute()


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # absent, or holds rows still to commit
        folder.rmdir()
