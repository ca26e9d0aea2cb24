"""Nonces for one signer shared by every process of a project folder.

Several processes sending with the same key (four ``modelmint dataset mint`` at once, a
batch beside a single mint) each read the node's pending transaction count; two that read it
at the same moment sign two transactions with one nonce, and the node keeps only one of them.
So a process allocates nonces under an exclusive ``flock`` of a file in the project folder,
one file per chain id and address, and sends the transactions it signed *before* it lets the
lock go: the next holder then finds them in the node's pending count.

The file also records the last nonce sent and when, because a node behind a load balancer
can answer a pending count that does not yet hold a transaction it accepted a moment ago.
The next nonce is the larger of the node's pending count and the last sent plus one, except
that a record older than :data:`STALE_S` that the node has not caught up with is dropped
(the node lost those transactions: a restart, an eviction, a reorganisation), because a gap
below the next nonce blocks every later transaction of the signer forever.

A process killed while it holds the lock releases it with its file descriptors. A nonce it
allocated but never sent was never recorded (the record is written after each send), so the
next holder allocates that nonce again and no gap is left.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from modelmint.home import Home

STALE_S = 60.0
"""How long a recorded nonce above the node's pending count is trusted (see the module text)."""

# What nodes answer a nonce that another sender took first (geth, anvil, reth, erigon,
# nethermind spell them differently); the sender re-reads the pending count and signs again.
_NONCE_TAKEN = (
    "nonce too low",
    "nonce is too low",
    "replacement transaction underpriced",
    "underpriced",
    "nonce has already been used",
    "oldnonce",
)


def nonce_taken(message: str) -> bool:
    """Whether a node's refusal of a transaction says its nonce was used by another one."""
    text = message.lower()
    return any(needle in text for needle in _NONCE_TAKEN)


def already_known(message: str) -> bool:
    """Whether a node's refusal says it holds this very transaction already (a retried send):
    it is sent, and must not be signed again with another nonce."""
    text = message.lower()
    # geth and reth say "already known", anvil "transaction already imported"
    return any(needle in text for needle in ("already known", "known transaction", "already imported"))


def lock_path(home: Home, chain_id: int, address: str) -> Path:
    """The lock (and record) file of ``address``'s nonces on chain ``chain_id``."""
    return home.root / "nonces" / f"{chain_id}-{address.lower()}.lock"


class Nonces:
    """The nonces a lock holder may use, from :meth:`NonceLock.hold`."""

    def __init__(self, fd: int, first: int, read_pending: Callable[[], int]) -> None:
        self._fd = fd
        self._read_pending = read_pending
        self.next = first

    def sent(self, nonce: int) -> None:
        """Record that a transaction with ``nonce`` reached the node: the next is ``nonce + 1``."""
        self.next = max(self.next, nonce + 1)
        _write(self._fd, nonce, time.time())

    def resync(self) -> int:
        """After the node said ``next`` was taken: the node's pending count, or the nonce
        after ``next`` if the node's count has not caught up with what it just said."""
        self.next = max(self.next + 1, self._read_pending())
        return self.next


class NonceLock:
    """The inter-process lock of one signer's nonces on one chain."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def hold(self, read_pending: Callable[[], int]) -> Iterator[Nonces]:
        """Hold the lock; ``read_pending`` is the node's pending transaction count of the signer.

        Everything signed with the yielded nonces must be sent before the block ends.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            pending = read_pending()
            recorded = _read(fd)
            first = pending
            if recorded is not None:
                last, at = recorded
                if last + 1 > pending and time.time() - at < STALE_S:
                    first = last + 1  # the node has not counted our last transactions yet
            yield Nonces(fd, first, read_pending)
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def _read(fd: int) -> tuple[int, float] | None:
    try:
        last, at = os.pread(fd, 64, 0).decode().split()
        return int(last), float(at)
    except (ValueError, UnicodeDecodeError):
        return None  # no record yet, or one torn by a machine crash: the node's count is used


def _write(fd: int, nonce: int, at: float) -> None:
    # No fsync: the record only has to outlive the process (a kill), not the machine; after
    # a machine crash the node's pending count is the truth.
    data = f"{nonce} {at:.3f}\n".encode()
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))
