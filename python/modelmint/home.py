"""The project folder: where local state lives (default ``./.modelmint``, or ``$MODELMINT_HOME``).

Nothing in it is needed to verify a record: the chain and the content store are enough.
It holds conveniences only: the running devnet, deployments per chain id, the local
content store, encrypted keystores and caches.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, path: str | os.PathLike[str] | None = None) -> Home:
        chosen = path or os.environ.get("MODELMINT_HOME") or ".modelmint"
        return cls(Path(chosen).expanduser().resolve())

    @property
    def devnet_file(self) -> Path:
        return self.root / "devnet.json"

    @property
    def devnet_log(self) -> Path:
        return self.root / "devnet.log"

    @property
    def deployments_dir(self) -> Path:
        return self.root / "deployments"

    @property
    def store_dir(self) -> Path:
        return self.root / "store"

    @property
    def keystore_dir(self) -> Path:
        return self.root / "keystores"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"
