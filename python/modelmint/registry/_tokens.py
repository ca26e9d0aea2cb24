"""What the registry use cases share when they read a token's metadata back."""

from __future__ import annotations

import json
from typing import Any

from modelmint.errors import ModelmintError
from modelmint.storage import ContentStore, parse_uri


def metadata_or_none(store: ContentStore, uri: str) -> dict[str, Any] | None:
    """A token's metadata JSON if the store has it, else None: names are a convenience."""
    try:
        value = json.loads(store.get(parse_uri(uri)))
    except (ModelmintError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def model_facts(metadata: dict[str, Any] | None) -> dict[str, Any]:
    facts = ((metadata or {}).get("modelmint") or {}).get("model")
    return facts if isinstance(facts, dict) else {}


def token_name(metadata: dict[str, Any] | None) -> str | None:
    name = (metadata or {}).get("name")
    return name if isinstance(name, str) else None
