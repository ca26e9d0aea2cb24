"""Batches progress reports so a reader can report every line without slowing down."""

from __future__ import annotations

from modelmint.hashing.files import Progress

_EVERY = 1 << 20


class Meter:
    """Accumulates consumed bytes and passes them on about once a MiB, and at the end."""

    __slots__ = ("_pending", "_progress")

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._pending = 0

    def __call__(self, n: int) -> None:
        if self._progress is not None:
            self._pending += n
            if self._pending >= _EVERY:
                self.flush()

    def flush(self) -> None:
        if self._progress is not None and self._pending:
            self._progress(self._pending)
            self._pending = 0
