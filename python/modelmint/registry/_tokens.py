"""What the registry use cases share when they read a token's metadata back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelmint.errors import IntegrityError, ModelmintError
from modelmint.registry.metadata import ModelMetadata
from modelmint.storage import ContentStore, parse_uri, read_document
from modelmint.storage.documents import METADATA_MAX_BYTES, json_type


def read_token_metadata(store: ContentStore, uri: str, what: str) -> dict[str, Any]:
    """A token's metadata JSON object, read as an untrusted document (storage.documents).

    ``what`` names it in errors (``"the metadata of dataset 3"``).

    Raises:
        IntegrityError: it is larger than METADATA_MAX_BYTES, not strict JSON, or not an object.
        StoreError: the store cannot serve it.
    """
    value = read_document(store, parse_uri(uri), what=what, max_bytes=METADATA_MAX_BYTES)
    if not isinstance(value, dict):
        raise IntegrityError(
            f"{what} ({uri}) is {json_type(value)}, not a JSON object",
            "the token was not minted by modelmint; nothing in it is used",
        )
    return value


def metadata_or_none(store: ContentStore, uri: str) -> dict[str, Any] | None:
    """A token's metadata JSON if the store has it and it is a readable object, else None:
    for names and facts, which are a convenience."""
    try:
        return read_token_metadata(store, uri, "the metadata")
    except ModelmintError:
        return None


def model_facts(metadata: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The model facts of model metadata, each of its documented type; none when it is not."""
    try:
        return ModelMetadata.from_document(metadata).model
    except IntegrityError:
        return {}


def token_name(metadata: Mapping[str, Any] | None) -> str | None:
    name = (metadata or {}).get("name")
    return name if isinstance(name, str) else None
