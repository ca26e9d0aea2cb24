"""The property of the dataset readers: the streaming read and the piecewise hash agree.

Each format has two routes over a file: ``read_*`` yields every datapoint's canonical bytes
(proofs, ``dataset show``), ``hash_*`` hashes pieces in parallel (commit, verify). They must
agree on every input: the same hashes under the same labels, or the same error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from _harness import check

from modelmint.datasets._pieces import Hashed
from modelmint.datasets._progress import Meter
from modelmint.hashing import sha256

Read = Callable[[Path, Meter], Iterator[tuple[str, bytes]]]
Hash = Callable[[Path, Meter], Iterator[Hashed]]


def check_routes(read: Read, hash_: Hash, path: Path) -> None:
    """Both routes over ``path`` parse it alike or refuse it alike."""
    read_result, read_error = check(
        lambda: [(label, sha256(data)) for label, data in read(path, Meter(None))]
    )
    hash_result, hash_error = check(
        lambda: [pair for piece in hash_(path, Meter(None)) for pair in _pairs(piece)]
    )
    assert (read_error is None) == (hash_error is None), f"read: {read_error!r}, hash: {hash_error!r}"
    if read_error is not None:
        assert str(read_error) == str(hash_error), f"read: {read_error}; hash: {hash_error}"
        return
    assert read_result == hash_result, "the read and hash routes give different datapoints"


def _pairs(piece: Hashed) -> list[tuple[str, bytes]]:
    hashes = [piece.hashes[i : i + 32] for i in range(0, len(piece.hashes), 32)]
    labels = list(piece.labels())
    assert len(labels) == len(hashes), f"{len(labels)} labels for {len(hashes)} hashes"
    return list(zip(labels, hashes, strict=True))
