"""Loading a causal LM folder and writing a trained one, the one way both fine-tunes do it.

A model is loaded in float32 on the CPU (a trainer moves it to a GPU). A child model (:mod:`modelmint.models.finetune`) and an OML-fingerprinted model
(:mod:`modelmint.fingerprints.oml.embed`) are saved alike: the weights as safetensors with
their config and generation config, and the base model's tokenizer files copied byte for
byte, in a folder built beside the output and renamed into place.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelmint._files import build_dir_atomic
from modelmint.errors import InputError

#: Tokenizer files a Hugging Face folder may carry; a trained model gets its base's, byte for byte.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
)


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Within the block, transformers draws no tqdm bars and logs errors only; restored after.

    modelmint reports progress itself (rich, on a terminal); the library's bars for loading
    and writing a 135M model would be noise on every command and in notebooks.
    """
    from transformers.utils import logging

    bars, verbosity = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()  # type: ignore[no-untyped-call]


def check_model_folder(path: Path) -> None:
    """Raises InputError if ``path`` is not a Hugging Face model folder (no config.json)."""
    if not (Path(path) / "config.json").is_file():
        raise InputError(
            f"{path} is not a Hugging Face model folder (no config.json)", "give the folder of a causal LM"
        )


def load_model(path: Path, *, train: bool = False) -> Any:
    """The causal LM in folder ``path``, in float32 on the CPU, in training mode or not.

    Raises:
        InputError: ``path`` is not a model folder, or the model in it cannot be loaded.
    """
    import torch
    from transformers import AutoModelForCausalLM

    check_model_folder(path)
    try:
        with quiet_transformers():
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(
            f"cannot load the model in {path} ({exc})", "give a Hugging Face causal LM folder"
        ) from None
    model.train(train)
    return model


def save_trained(model: Any, base: Path, out: Path, *, overwrite: bool, tokenizer: Any = None) -> None:
    """Writes ``model`` to folder ``out`` with the tokenizer files of folder ``base``.

    ``out`` is built beside itself and renamed into place, so it is never half written; an
    existing ``out`` is replaced only with ``overwrite``. When ``base`` has none of
    :data:`TOKENIZER_FILES`, ``tokenizer`` (if given) is saved instead.
    """
    model.config.use_cache = True
    with build_dir_atomic(out, replace=overwrite) as folder, quiet_transformers():
        model.save_pretrained(folder)
        copied = 0
        for name in TOKENIZER_FILES:
            if (base / name).is_file():
                shutil.copyfile(base / name, folder / name)
                copied += 1
        if not copied and tokenizer is not None:
            tokenizer.save_pretrained(folder)
