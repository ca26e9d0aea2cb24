"""Reading content of unknown size from an untrusted store without unbounded memory."""

from __future__ import annotations

from collections.abc import Iterable

from modelmint.errors import IntegrityError

# The most ``ContentStore.get`` reads when the caller gives no bound of its own: larger than any
# document modelmint writes except the leaf lists of very large datasets, whose readers know
# their size (32 bytes a datapoint) and pass it.
MAX_GET_BYTES = 1 << 30


def read_bounded(chunks: Iterable[bytes], max_bytes: int, cid: str, source: str) -> bytes:
    """Join ``chunks``, refusing as soon as they pass ``max_bytes``."""
    parts: list[bytes] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise too_large(cid, source, max_bytes)
        parts.append(chunk)
    return b"".join(parts)


def too_large(cid: str, source: str, max_bytes: int) -> IntegrityError:
    return IntegrityError(
        f"{source} serves more than {max_bytes:,} bytes for {cid}, more than the document can hold",
        "the content is not what was committed, or the store is hostile: fetch it from another store",
    )
