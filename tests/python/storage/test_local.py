"""LocalStore: the embedded, daemon-free content store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelmint.errors import InputError, IntegrityError, StoreError
from modelmint.storage import (
    ContentStore,
    KuboStore,
    LocalStore,
    _local,
    cid_of_bytes,
    cid_of_file,
    open_store,
)
from storage_samples import content


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def _cid_names(store: LocalStore) -> list[str]:
    return sorted(p.name for p in store.root.iterdir() if not p.name.startswith("."))


def test_put_get_round_trip(store: LocalStore) -> None:
    for data in (b"", b"{}", content(1_300_000)):
        cid = store.put(data)
        assert cid == cid_of_bytes(data)
        assert store.has(cid)
        assert store.get(cid) == data
        store.pin(cid)


def test_put_file_streams_into_the_same_cid(store: LocalStore, tmp_path: Path) -> None:
    path = tmp_path / "vector.bin"
    path.write_bytes(content(700_000))
    cid = store.put_file(path)
    assert cid == cid_of_file(path)
    assert store.get(cid) == path.read_bytes()
    assert list((store.root / ".tmp").iterdir()) == []


def test_puts_are_idempotent(store: LocalStore) -> None:
    first = store.put(b"same")
    second = store.put(b"same")
    assert first == second
    assert _cid_names(store) == [first]


def test_a_tampered_copy_is_an_integrity_error_and_a_new_put_repairs_it(store: LocalStore) -> None:
    cid = store.put(b'{"name": "original"}')
    (store.root / cid).write_bytes(b'{"name": "forged"}')
    with pytest.raises(IntegrityError, match="altered"):
        store.get(cid)
    store.put(b'{"name": "original"}')
    assert store.get(cid) == b'{"name": "original"}'


def test_missing_content(store: LocalStore) -> None:
    absent = cid_of_bytes(b"never stored")
    assert not store.has(absent)
    with pytest.raises(StoreError, match="not in the local store"):
        store.get(absent)
    with pytest.raises(StoreError, match="not in the local store"):
        store.pin(absent)


def test_malformed_cids_are_input_errors(store: LocalStore) -> None:
    for call in (store.get, store.has, store.pin):
        with pytest.raises(InputError):
            call("../../etc/passwd")


def test_unreadable_source_file_is_an_input_error(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        store.put_file(tmp_path / "absent.bin")


def test_an_unwritable_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(StoreError, match="cannot write to the local store"):
        LocalStore(blocker / "store").put(b"x")


def test_a_failure_before_the_rename_leaves_nothing_under_a_cid(
    store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_local.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        store.put(content(300_000))
    monkeypatch.undo()
    assert _cid_names(store) == []
    assert list((store.root / ".tmp").iterdir()) == []
    assert not store.has(cid_of_bytes(content(300_000)))


def test_a_killed_writer_leaves_no_half_file_under_a_cid(store: LocalStore) -> None:
    """SIGKILL a process in the middle of put_file: only a stray .part file may remain."""
    script = (
        f"from modelmint.storage import LocalStore; LocalStore({str(store.root)!r}).put_file('/dev/stdin')"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
    assert writer.stdin is not None
    writer.stdin.write(content(600_000))
    writer.stdin.flush()
    parts = store.root / ".tmp"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(p.stat().st_size for p in parts.glob("*.part")):
        time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    writer.stdin.close()
    assert any(p.stat().st_size for p in parts.glob("*.part")), "the writer never started writing"
    assert _cid_names(store) == []


def test_open_store_picks_the_daemon_only_when_asked(tmp_path: Path) -> None:
    local = open_store(tmp_path / "store", None)
    assert isinstance(local, LocalStore)
    assert isinstance(local, ContentStore)
    remote = open_store(tmp_path / "store", "/ip4/127.0.0.1/tcp/5001")
    assert isinstance(remote, KuboStore)
    assert isinstance(remote, ContentStore)
    assert remote.api_url == "http://127.0.0.1:5001"


def test_content_over_the_callers_bound_is_refused_unread(tmp_path):
    store = LocalStore(tmp_path / "store")
    cid = store.put(b"x" * 1000)
    assert store.get(cid, max_bytes=1000) == b"x" * 1000
    with pytest.raises(IntegrityError, match="serves more than 999 bytes"):
        store.get(cid, max_bytes=999)
