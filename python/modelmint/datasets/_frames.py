"""Messages between modelmint and the processes it starts (hashing workers, the Ray driver):
each a pickle prefixed by its length, 8 bytes little-endian, over a pipe."""

from __future__ import annotations

import pickle
from typing import IO, Any


def write_frame(stream: IO[bytes], message: object) -> None:
    """Writes one message and flushes it.

    Raises:
        OSError: the pipe is closed (the other process stopped).
    """
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> tuple[bool, Any]:
    """Reads one message: ``(True, message)``, or ``(False, None)`` when the stream ends
    before a whole message (the other process closed it or stopped)."""
    header = stream.read(8)
    if len(header) != 8:
        return False, None
    size = int.from_bytes(header, "little")
    data = stream.read(size)
    if len(data) != size:
        return False, None
    return True, pickle.loads(data)
