"""Where a model comes from: a local folder, a GGUF file, or a Hub repo id; one interface for all."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from modelmint.errors import InputError
from modelmint.hashing.files import ListedFile, Progress
from modelmint.models._details import ModelDetails
from modelmint.models._files import hash_files, list_files
from modelmint.models._folder import check_model_folder, folder_details
from modelmint.models._gguf import check_gguf, gguf_details
from modelmint.models._hub import PREFIX, HubRepo, parse_repo_ref
from modelmint.models._manifest import WeightsManifest


class ModelSource(Protocol):
    """A model opened for hashing and description; :func:`open_model` returns one."""

    kind: str
    """``huggingface-folder``, ``gguf`` or ``huggingface-hub``."""
    label: str
    """The path or repo id, for messages."""

    @property
    def hash_size(self) -> int:
        """Bytes :meth:`manifest` reads and hashes (the progress total)."""
        ...

    def manifest(self, progress: Progress | None = None) -> WeightsManifest:
        """Hash every file into the weights manifest (the expensive step)."""
        ...

    def details(self, name: str | None = None) -> ModelDetails:
        """Read the facts for the metadata from headers and configs (cheap)."""
        ...


class LocalModel:
    """A Hugging Face model folder or a GGUF file on this machine, listed when opened."""

    def __init__(self, path: Path, *, follow_symlinks: bool = False, workers: int | None = None) -> None:
        self.path = path
        self.label = str(path)
        self._follow = follow_symlinks
        self._workers = workers
        self.files: list[ListedFile] = list_files(path, follow_symlinks=follow_symlinks)
        if path.is_dir():
            self.kind = "huggingface-folder"
            check_model_folder(path, self.files)
        else:
            self.kind = "gguf"
            check_gguf(path)

    @property
    def hash_size(self) -> int:
        return sum(f.size for f in self.files)

    def manifest(self, progress: Progress | None = None) -> WeightsManifest:
        entries = hash_files(
            self.path, self.files, follow_symlinks=self._follow, progress=progress, workers=self._workers
        )
        return WeightsManifest.of(entries)

    def details(self, name: str | None = None) -> ModelDetails:
        if self.kind == "gguf":
            return gguf_details(self.path, self.files[0], name)
        return folder_details(self.path, self.files, name)


def open_model(
    ref: str | Path | ModelSource, *, follow_symlinks: bool = False, workers: int | None = None
) -> ModelSource:
    """Open a model by reference, checking it looks like one before anything is hashed.

    Args:
        ref: a Hugging Face model folder (config.json and weights), a ``.gguf`` file, or a
            Hub repo id (``org/name``, ``org/name@revision`` or ``hf://org/name``); a path
            that exists here wins over a repo id of the same spelling. A source passes through.
        follow_symlinks: hash the targets of symbolic links to files instead of refusing them.
        workers: hashing threads [default: the number of CPUs].

    Raises:
        InputError: the path does not exist and is no repo id, is not a model, or the Hub
            cannot be read.
    """
    if not isinstance(ref, (str, Path)):
        return ref
    text = str(ref)
    repo = parse_repo_ref(text)
    if text.startswith(PREFIX):
        if repo is None:
            raise InputError(f"{text} is not a Hub repo id", "write hf://org/name or hf://org/name@revision")
        return HubRepo(*repo)
    path = Path(ref).expanduser()
    if path.exists():
        return LocalModel(path, follow_symlinks=follow_symlinks, workers=workers)
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link to nothing", "give the model's real path")
    if repo is not None and not isinstance(ref, Path):
        return HubRepo(*repo, guessed=True)
    raise InputError(
        f"{path} does not exist", "give a model folder, a .gguf file, or a Hub repo id (org/name)"
    )
