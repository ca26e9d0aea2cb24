"""A model repo on the Hugging Face Hub, committed without downloading its weights.

``model_info(files_metadata=True)`` gives every LFS file's SHA-256 and size (the LFS pointer
names the content by its SHA-256), so large weight files are never downloaded; the small
files git stores directly come down (into the Hugging Face cache) and are hashed here. The
result is the manifest a local download of the same revision gives.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from modelmint.errors import InputError
from modelmint.hashing import sha256_file
from modelmint.hashing.files import Progress
from modelmint.models._details import CATEGORY_OF_TASK, ModelDetails, iso_utc, majority_dtype
from modelmint.models._files import IGNORED, list_files
from modelmint.models._folder import ST_DTYPES, folder_details
from modelmint.models._manifest import ManifestEntry, WeightsManifest

PREFIX = "hf://"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
_TIMEOUT_S = 20


def parse_repo_ref(ref: str) -> tuple[str, str | None] | None:
    """``org/name`` or ``org/name@revision`` (with or without ``hf://``), else None."""
    repo, _, revision = ref.removeprefix(PREFIX).partition("@")
    return (repo, revision or None) if _REPO_ID.match(repo) else None


class HubRepo:
    """One revision of a Hub model repo; the constructor asks the Hub for its file list.

    Raises:
        InputError: the Hub cannot be reached (offline, ``HF_HUB_OFFLINE``), or has no
            such repo or revision that this user may read.
    """

    kind = "huggingface-hub"

    def __init__(self, repo_id: str, revision: str | None = None, *, guessed: bool = False) -> None:
        from huggingface_hub import HfApi

        self.repo_id = repo_id
        self.label = f"{repo_id}@{revision}" if revision else repo_id
        self._guessed = guessed
        self.info = self._hub(
            lambda: HfApi().model_info(repo_id, revision=revision, files_metadata=True, timeout=_TIMEOUT_S)
        )
        self.revision: str = self.info.sha or revision or "main"
        self.siblings = [
            s for s in (self.info.siblings or []) if not IGNORED.intersection(s.rfilename.split("/"))
        ]
        if not self.siblings:
            raise InputError(f"the Hub repo {self.label} holds no files", "give a repo that holds a model")
        self._downloaded: dict[str, Path] = {}

    @property
    def hash_size(self) -> int:
        """Bytes downloaded and hashed here: the files git stores directly (LFS files are not)."""
        return sum(s.size or 0 for s in self.siblings if s.lfs is None)

    def manifest(self, progress: Progress | None = None) -> WeightsManifest:
        entries = []
        for s in self.siblings:
            if s.lfs is not None:
                entries.append(ManifestEntry(s.rfilename, bytes.fromhex(s.lfs.sha256), int(s.lfs.size)))
            else:
                local = self._download(s.rfilename)
                entries.append(ManifestEntry(s.rfilename, sha256_file(local, progress), local.stat().st_size))
        return WeightsManifest.of(entries)

    def details(self, name: str | None = None) -> ModelDetails:
        """Config-derived facts from the downloaded small files, the rest from the Hub's answer."""
        names = {s.rfilename for s in self.siblings}
        if "config.json" not in names:
            raise InputError(
                f"the Hub repo {self.label} is not a transformers model: it has no config.json",
                "give a repo with a config.json, or download a GGUF file and give its path",
            )
        for wanted in ("config.json", "tokenizer_config.json", "special_tokens_map.json", "README.md"):
            if wanted in names:
                self._download(wanted)
        snapshot = self._download("config.json").parent
        local = folder_details(
            snapshot, list_files(snapshot, follow_symlinks=True), name=name or self.repo_id
        )
        info = self.info
        hub_counts = info.safetensors.parameters.items() if info.safetensors else ()
        by_dtype = {
            ST_DTYPES.get(k, (k.lower(), 0))[0]: int(v) for k, v in hub_counts
        } or local.parameters_by_dtype
        task = info.pipeline_tag or local.pipeline_task
        card = info.card_data.to_dict() if info.card_data is not None else {}
        tagged = (t.split(":", 1)[1] for t in info.tags or () if t.startswith("license:"))
        licence = card.get("license") or next(tagged, None)
        return dataclasses.replace(
            local,
            source=self.kind,
            weights_format=_format_of(names),
            parameter_count=sum(by_dtype.values()) or None,
            parameters_by_dtype=by_dtype,
            dtype=majority_dtype(by_dtype) or local.dtype,
            pipeline_task=task,
            category=CATEGORY_OF_TASK.get(task or ""),
            license=licence if isinstance(licence, str) else local.license,
            last_modified=iso_utc(info.last_modified) if info.last_modified else None,
            repo_id=self.repo_id,
            revision=self.revision,
        )

    def _download(self, filename: str) -> Path:
        if filename not in self._downloaded:
            from huggingface_hub import hf_hub_download

            path = self._hub(
                lambda: hf_hub_download(
                    self.repo_id, filename, revision=self.revision, etag_timeout=_TIMEOUT_S
                )
            )
            self._downloaded[filename] = Path(path)
        return self._downloaded[filename]

    def _hub(self, call: Any) -> Any:
        """Runs one Hub request; every failure becomes one InputError line."""
        import httpx2
        from huggingface_hub.errors import (
            GatedRepoError,
            HfHubHTTPError,
            OfflineModeIsEnabled,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        where = f"{self.label} is not a local file or folder, and " if self._guessed else ""
        try:
            return call()
        except OfflineModeIsEnabled:
            reason = "HF_HUB_OFFLINE is set"
        except (httpx2.TransportError, ConnectionError, TimeoutError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        except GatedRepoError:
            raise InputError(
                f"{where}the Hub repo {self.label} is gated",
                "accept its terms on the Hub and log in with `hf auth login`",
            ) from None
        except RevisionNotFoundError:
            raise InputError(
                f"the Hub repo {self.repo_id} has no revision {self.label.partition('@')[2]}",
                "check the revision",
            ) from None
        except RepositoryNotFoundError:
            raise InputError(
                f"{where}the Hugging Face Hub has no model {self.repo_id} this user can read",
                "check the path or repo id; for a private repo log in with `hf auth login`",
            ) from None
        except HfHubHTTPError as exc:
            reason = str(exc).splitlines()[0]
        raise InputError(
            f"{where}the Hugging Face Hub cannot be reached to read {self.label} ({reason})",
            f"download it where the Hub is reachable (`hf download {self.repo_id} --local-dir DIR`) and give DIR",
        )


def _format_of(names: set[str]) -> str | None:
    for suffix, fmt in ((".safetensors", "safetensors"), (".bin", "pytorch"), (".gguf", "gguf")):
        if any(n.endswith(suffix) for n in names):
            return fmt
    return None
