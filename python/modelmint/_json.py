"""The one JSON form of every value modelmint hands out: ``--json`` output, files and documents.

Keys are camelCase, like ERC-721 metadata and the rest of the on-chain world's JSON. A value
whose form a document specifies (a proof, a record, a deployment) has a ``to_json`` method,
and that form is used; any other frozen dataclass becomes an object of its fields.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data: the one routine behind every JSON modelmint writes.

    Dataclass fields become camelCase keys, while a mapping keeps its keys as they are (stored
    metadata, whose keys are a published form); bytes become 0x-hex, enums their name, paths
    text, tuples lists. A value with a ``to_json`` method gives that method's form.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        method = getattr(value, "to_json", None)
        if callable(method):
            return to_json(method())
        return {camel(f.name): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # a path, or any other value with a text form


def dumps(value: Any) -> str:
    """:func:`to_json` of ``value`` as indented text, newline-terminated."""
    return json.dumps(to_json(value), indent=2) + "\n"


def camel(name: str) -> str:
    """``token_id`` -> ``tokenId``: a Python field name in the JSON form."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
