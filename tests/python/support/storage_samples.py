"""Test content for the storage tests: deterministic bytes at the sizes where the DAG layout changes."""

from __future__ import annotations

import functools
import hashlib
import socket
from dataclasses import dataclass

KIB = 1024
CHUNK = 256 * KIB


@dataclass(frozen=True)
class Sample:
    name: str
    size: int

    @property
    def data(self) -> bytes:
        return content(self.size)


# The sizes around every boundary of the layout: raw block, two leaves, a full node, a second level.
SAMPLES = [
    Sample("0B", 0),
    Sample("1B", 1),
    Sample("1.7KB", 1_700),
    Sample("256KiB", CHUNK),
    Sample("256KiB+1", CHUNK + 1),
    Sample("1.3MB", 1_300_000),
    Sample("174x256KiB", 174 * CHUNK),
    Sample("174x256KiB+1", 174 * CHUNK + 1),
]


@functools.cache
def content(size: int) -> bytes:
    """Deterministic, incompressible test bytes, cut to ``size``.

    Block ``i`` is 64 KiB of SHAKE-128 over ``b"modelmint-storage-test" || uint64_be(i)``. Every
    256 KiB chunk differs, so a misplaced leaf changes the CID.
    """
    blocks = (size + 65_535) // 65_536
    stream = b"".join(
        hashlib.shake_128(b"modelmint-storage-test" + i.to_bytes(8, "big")).digest(65_536)
        for i in range(blocks)
    )
    return stream[:size]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
