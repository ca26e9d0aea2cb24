"""``ProvenanceCallback``: a ``transformers`` Trainer callback that registers what it trains.

At the end of training (and, with ``at_each_save``, at every checkpoint) the main process
saves the model, commits each training dataset (an existing token is reused), finds or
registers the base model by its weights root, mints the fine-tuned model with its lineage,
optionally commits its HuRef fingerprint and an OML commitment, and writes its model card.
Other ranks (``torchrun``, accelerate, DeepSpeed) do nothing, so a run mints once.

Training never fails because of provenance: a step that fails (the node or content store
unreachable, a refused mint) is logged as a warning and leaves ``modelmint-provenance.json``
in the output folder, which ``modelmint model resume-provenance OUTPUT_DIR`` (or
:func:`~modelmint.integrations.provenance.resume_provenance`) completes later.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from modelmint.errors import ModelmintError
from modelmint.integrations.hf_datasets import TrainingData
from modelmint.integrations.provenance import (
    RECORD_FILE,
    RESUME_COMMAND,
    Connection,
    ModelEntry,
    ProvenanceRecord,
    complete,
    new_record,
)

logger = logging.getLogger("modelmint")

MODEL_FOLDER = "model"
"""Where the final model is saved, under the Trainer's ``output_dir`` (beside the
checkpoints, which a model folder must not contain)."""


class ProvenanceCallback(TrainerCallback):
    """Registers the model a Trainer trains, with its lineage, when training ends.

    Pass it in ``Trainer(callbacks=[...])``, or with ``callback.attach(trainer)``, which also
    sends the token ids through ``trainer.log`` to every attached tracker (TensorBoard,
    Weights & Biases, MLflow, ...). Either way they go to ``trainer.state.log_history``
    (``trainer_state.json``) and to the ``modelmint`` logger.

    Args:
        datasets: the training datasets: ``datasets`` objects (``Dataset``, ``DatasetDict``,
            ``IterableDataset``; give the raw rows, before tokenising), dataset paths,
            DatasetNFT ids, or :class:`~modelmint.integrations.hf_datasets.TrainingData` to
            choose columns or names per dataset.
        base_model: the model fine-tuned: a folder, GGUF file, Hub repo id or ModelNFT id
            [default: the model's ``config._name_or_path`` when that is a local folder; else
            none, for a model trained from scratch].
        base_hub_id: the card's ``base_model`` front matter [default: the base token's name].
        columns: the columns of in-memory datasets that make a datapoint [default: all but
            the tokenised ones]; a ``TrainingData`` sets its own.
        name: the model token's name [default: the folder name].
        model_dir: where the final model is saved [default: ``output_dir/model``]; replaced
            if it exists.
        at_each_save: also register every checkpoint folder the Trainer saves.
        huref: also compute and commit the HuRef fingerprint of each registered model.
        oml_fingerprints: an OML fingerprint file (``modelmint fingerprint oml generate``)
            to commit on the model, e.g. the pairs embedded during this run.
        home, rpc_url, keystore, ipfs_api: as the CLI's ``--home``, ``--rpc-url``,
            ``--keystore`` and ``--ipfs-api`` [default: the same defaults].
        strict: raise instead of leaving a record when a step fails (tests, CI).
    """

    def __init__(
        self,
        datasets: Sequence[Any] = (),
        *,
        base_model: str | os.PathLike[str] | int | None = None,
        base_hub_id: str | None = None,
        columns: Sequence[str] | None = None,
        name: str | None = None,
        model_dir: str | os.PathLike[str] | None = None,
        at_each_save: bool = False,
        huref: bool = False,
        oml_fingerprints: str | os.PathLike[str] | None = None,
        home: str | os.PathLike[str] | None = None,
        rpc_url: str | None = None,
        keystore: str | os.PathLike[str] | None = None,
        ipfs_api: str | None = None,
        strict: bool = False,
    ) -> None:
        self.datasets = [
            d if isinstance(d, TrainingData) else TrainingData(d, columns=columns) for d in datasets
        ]
        self.base_model = base_model
        self.base_hub_id = base_hub_id
        self.name = name
        self.model_dir = Path(model_dir) if model_dir else None
        self.at_each_save = at_each_save
        self.huref = huref
        self.oml_fingerprints = oml_fingerprints
        self.connection = Connection(
            home=str(Path(home).resolve())
            if home
            else str(Path(os.environ.get("MODELMINT_HOME") or ".modelmint").resolve()),
            rpc_url=rpc_url,
            keystore=str(keystore) if keystore else None,
            ipfs_api=ipfs_api,
        )
        self.strict = strict
        self.record: ProvenanceRecord | None = None
        """The run's record once a registration was tried (main process only)."""
        self._trainer: Any = None

    def attach(self, trainer: Any) -> ProvenanceCallback:
        """Adds this callback to ``trainer`` and logs through it (to its trackers too)."""
        trainer.add_callback(self)
        self._trainer = trainer
        return self

    def on_save(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if self.at_each_save and _main_process(state):
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                self._register(args, state, model, folder)

    def on_train_end(
        self,
        args: Any,
        state: Any,
        control: Any,
        model: Any = None,
        processing_class: Any = None,
        **kwargs: Any,
    ) -> None:
        try:
            if _main_process(state):
                self._finish(args, state, model, processing_class)
        finally:
            _wait_for_everyone()

    def _finish(self, args: Any, state: Any, model: Any, processing_class: Any) -> None:
        folder = self.model_dir or Path(args.output_dir) / MODEL_FOLDER
        if _zero3():
            self._warn(
                f"DeepSpeed ZeRO-3 shards the weights, so they are not saved here: save them with "
                f"trainer.save_model({str(folder)!r}), then run `{RESUME_COMMAND} {args.output_dir}`"
            )
            self._register(args, state, model, folder, run=False)
            return
        try:
            _save(model, processing_class, folder)
        except Exception as e:
            if self.strict:
                raise
            logger.exception("modelmint: the final model could not be saved to %s", folder)
            self._warn(f"nothing was registered: save the model yourself ({e})")
            return
        self._register(args, state, model, folder)

    def _register(self, args: Any, state: Any, model: Any, folder: Path, *, run: bool = True) -> None:
        output_dir = Path(args.output_dir)
        try:
            if self.record is None:
                self.record = new_record(
                    output_dir, self.datasets, self._base(model), base_hub_id=self.base_hub_id,
                    connection=self.connection, name=self.name, huref=self.huref, oml_fingerprints=self.oml_fingerprints,
                )  # fmt: skip
            self.record.models.append(
                ModelEntry(folder=_inside(folder, output_dir), step=int(state.global_step))
            )
            self.record.save(output_dir)
            if run:
                complete(output_dir, self.record)
                self._log(state, folder)
        except Exception as e:
            if self.strict:
                raise
            if not isinstance(e, ModelmintError):
                logger.exception("modelmint: provenance failed unexpectedly")
            if self.record is None:  # the datasets or base could not even be recorded
                self._warn(
                    f"the model was trained and saved to {folder}, but its provenance could not be recorded ({e})"
                )
                return
            self._warn(
                f"the model was trained and saved, but not registered ({e}); the steps left are in "
                f"{output_dir / RECORD_FILE}: complete them with `{RESUME_COMMAND} {output_dir}`"
            )

    def _base(self, model: Any) -> str | os.PathLike[str] | int | None:
        if self.base_model is not None:
            return self.base_model
        source = getattr(getattr(model, "config", None), "_name_or_path", "") or ""
        return source if source and (Path(source) / "config.json").is_file() else None

    def _log(self, state: Any, folder: Path) -> None:
        assert self.record is not None
        entry = next(m for m in reversed(self.record.models) if Path(m.folder).name == folder.name)
        logs: dict[str, Any] = {
            "modelmint/model_token": entry.token_id,
            "modelmint/parent_token": self.record.base.token_id if self.record.base else 0,
        }
        for number, d in enumerate(self.record.datasets, 1):
            logs[f"modelmint/dataset_token_{number}"] = d.token_id
        logger.warning(
            "modelmint: %s registered as model %s (weights root %s), parent %s, datasets %s",
            folder, entry.token_id, entry.weights_root, logs["modelmint/parent_token"],
            ", ".join(str(d.token_id) for d in self.record.datasets) or "none",
        )  # fmt: skip
        if self._trainer is not None:
            self._trainer.log(dict(logs))
        else:
            state.log_history.append({**logs, "step": state.global_step})

    def _warn(self, message: str) -> None:
        logger.warning("modelmint: %s", message)


def _main_process(state: Any) -> bool:
    """The world's process zero: the Trainer's own flag, and accelerate's where it runs."""
    if not getattr(state, "is_world_process_zero", True):
        return False
    try:
        from accelerate import PartialState
    except ImportError:
        return True
    return PartialState().is_main_process if PartialState._shared_state else True


def _wait_for_everyone() -> None:
    """Holds every rank at the end of training until process zero has registered: a rank that
    left first would exit under torchrun, which then stops process zero in the middle of its
    transactions (and gloo aborts a process that exits under a live peer)."""
    try:
        import torch.distributed as dist
    except ImportError:
        return
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


def _zero3() -> bool:
    try:
        from transformers.integrations.deepspeed import is_deepspeed_zero3_enabled
    except ImportError:
        return False
    return bool(is_deepspeed_zero3_enabled())  # type: ignore[no-untyped-call]  # unannotated in transformers


def _save(model: Any, processing_class: Any, folder: Path) -> None:
    """The final weights (safetensors) and tokenizer, written beside the folder and renamed
    into place, so the registered folder is never half written."""
    from modelmint._files import build_dir_atomic

    with build_dir_atomic(folder, replace=True) as scratch:
        model.save_pretrained(scratch)
        if processing_class is not None and hasattr(processing_class, "save_pretrained"):
            processing_class.save_pretrained(scratch)


def _inside(folder: Path, output_dir: Path) -> str:
    try:
        return str(folder.resolve().relative_to(output_dir.resolve()))
    except ValueError:
        return str(folder.resolve())
