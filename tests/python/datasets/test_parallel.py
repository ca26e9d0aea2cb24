"""Hashing in pieces on several cores gives the serial result bit for bit, names errors by
their true line and row, refuses a dataset that changes while it is hashed, and keeps
memory to the hashes."""

from __future__ import annotations

import csv
import json
import os
import random
import threading
import time
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmint.datasets import (
    _folder,
    _jsonl,
    _parquet,
    _pieces,
    _progress,
    hash_dataset,
    iter_datapoint_hashes,
    iter_datapoints,
)
from modelmint.errors import InputError
from modelmint.hashing import MerkleTree, leaf_hash, node_hash, sha256


@pytest.fixture
def serial(monkeypatch: pytest.MonkeyPatch):
    """Returns a function running a call with one piece and no worker process."""

    def run(call):
        with monkeypatch.context() as m:
            m.setattr(_pieces, "PIECE_BYTES", 1 << 40)
            m.setattr(_pieces, "cores", lambda: 1)
            m.setattr(_parquet, "_TASK_ROWS", 1 << 40)
            return call()

    return run


@pytest.fixture
def pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small pieces on two worker processes, whatever the machine's cores."""
    monkeypatch.setattr(_pieces, "PIECE_BYTES", 300)
    monkeypatch.setattr(_pieces, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(_pieces, "cores", lambda: 2)
    monkeypatch.setattr(_parquet, "_TASK_ROWS", 7)


def _outcome(call):
    try:
        return "ok", call()
    except InputError as e:
        return "error", str(e)


def _digest_and_labels(path: Path):
    digest = hash_dataset(path)
    return digest.hashes, [label for label, _ in iter_datapoint_hashes(path)]


def _jsonl_text(rng: random.Random, lines: int) -> bytes:
    out = [b"\xef\xbb\xbf"]
    for i in range(lines):
        choice = rng.random()
        if choice < 0.05:
            out.append(b"   \r\n")
        elif choice < 0.1:
            out.append(b"\n")
        else:
            text = rng.choice(["a", "caf\u00e9", "\U0001f600", "x" * rng.randint(0, 80)])
            value = {"i": i, "text": text, "v": rng.choice([1, 2.5, 1e-7, None])}
            end = b"\r\n" if choice < 0.3 else b"\n"
            out.append(json.dumps(value, ensure_ascii=choice < 0.5).encode() + end)
    return b"".join(out)


def test_jsonl_pieces_equal_serial(tmp_path: Path, serial, pieces) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(_jsonl_text(random.Random(1), 400) + b'"no newline at the end"')
    expected = serial(lambda: _digest_and_labels(path))
    assert _digest_and_labels(path) == expected
    assert expected[0] == b"".join(sha256(data) for _, data in iter_datapoints(path))
    assert len(_pieces.line_ranges(path, 0, path.stat().st_size)) > 20


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b'{"a": 1,}', "Expecting property name"),
        (b"9007199254740993", "outside the JSON safe range"),
        (b'{"k": 1, "k": 2}', "repeats the key"),
        (b'"caf\xe9"', "is not valid UTF-8"),
    ],
)
def test_jsonl_errors_in_a_later_piece_name_the_true_line(
    tmp_path: Path, serial, pieces, bad: bytes, message: str
) -> None:
    lines = _jsonl_text(random.Random(2), 300).split(b"\n")
    lines[217] = bad
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\n".join(lines))
    expected = serial(lambda: _outcome(lambda: hash_dataset(path)))
    assert expected[0] == "error"
    assert "line 218" in expected[1]
    assert message in expected[1]
    assert _outcome(lambda: hash_dataset(path)) == expected
    assert _outcome(lambda: list(iter_datapoint_hashes(path))) == expected


def _write_csv(path: Path, rng: random.Random, rows: int, stray_quotes: bool = False) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator=rng.choice(["\n", "\r\n"]))
        writer.writerow(["id", "text", "label"])
        for i in range(rows):
            parts = ["a", "two\nlines", "three\r\nmore\nlines", 'say "hi"', "x,y", "é"]
            text = " ".join(rng.choice(parts) for _ in range(rng.randint(0, 5)))
            writer.writerow([i, text, rng.randint(0, 3)])
            if i % 37 == 0:
                f.write("\n")
            if stray_quotes and i % 11 == 0:
                f.write(f'{i}a"b,c"d,e\n')  # quotes inside unquoted fields are kept as they are


@pytest.mark.parametrize("stray_quotes", [False, True])
def test_csv_pieces_equal_serial(tmp_path: Path, serial, pieces, stray_quotes: bool) -> None:
    path = tmp_path / "d.csv"
    _write_csv(path, random.Random(3), 300, stray_quotes)
    expected = serial(lambda: _digest_and_labels(path))
    assert _digest_and_labels(path) == expected
    assert expected[0] == b"".join(sha256(data) for _, data in iter_datapoints(path))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1,2,3,4\n", "has 4 fields but the header has 3"),
        ('1,"2"x,3\n', "malformed CSV"),
        ("1,\udcff,3\n", "not valid UTF-8"),
    ],
)
def test_csv_errors_in_a_later_piece_name_the_true_row_and_line(
    tmp_path: Path, serial, pieces, bad: str, message: str
) -> None:
    path = tmp_path / "d.csv"
    _write_csv(path, random.Random(4), 200)
    with open(path, "ab") as f:
        f.write(bad.encode("utf-8", "surrogateescape") + b"5,6,7\n")
    expected = serial(lambda: _outcome(lambda: hash_dataset(path)))
    assert expected[0] == "error"
    assert message in expected[1]
    assert _outcome(lambda: hash_dataset(path)) == expected


def test_csv_unterminated_quote_at_the_end(tmp_path: Path, serial, pieces) -> None:
    path = tmp_path / "d.csv"
    _write_csv(path, random.Random(5), 100)
    with open(path, "a") as f:
        f.write('1,"never closed\n' + "more\n" * 50)
    expected = serial(lambda: _outcome(lambda: hash_dataset(path)))
    assert expected[0] == "error"
    assert "malformed CSV (unexpected end of data)" in expected[1]
    assert _outcome(lambda: hash_dataset(path)) == expected


def _parquet_table(rows: int) -> pa.Table:
    texts = [f"row {i} " + "é" * (i % 7) for i in range(rows)]
    return pa.table({"i": list(range(rows)), "text": texts, "f": [i / 8 for i in range(rows)]})


def test_parquet_row_groups_equal_serial(tmp_path: Path, serial, pieces) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(_parquet_table(100), path, row_group_size=6)
    expected = serial(lambda: _digest_and_labels(path))
    assert _digest_and_labels(path) == expected
    assert expected[0] == b"".join(sha256(data) for _, data in iter_datapoints(path))


def test_parquet_error_in_a_later_row_group_names_the_true_row(tmp_path: Path, serial, pieces) -> None:
    values = list(range(100))
    values[83] = 2**60
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"i": values}), path, row_group_size=6)
    expected = serial(lambda: _outcome(lambda: hash_dataset(path)))
    assert expected[0] == "error"
    assert "row 84" in expected[1]
    assert _outcome(lambda: hash_dataset(path)) == expected


def _folder_of_files(root: Path, count: int = 40) -> Path:
    rng = random.Random(6)
    for i in range(count):
        path = root / f"d{i % 4}" / f"f{i:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.choice([0, 1, 100, 2047, 2048, (1 << 20) + 3])))
    return root


def test_folder_threads_equal_serial(tmp_path: Path, serial, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _folder_of_files(tmp_path / "files")
    expected = serial(lambda: _digest_and_labels(root))
    monkeypatch.setattr(_pieces, "cores", lambda: 4)
    monkeypatch.setattr(_folder, "_BLOCK", 3)
    calls: list[int] = []
    assert _digest_and_labels(root) == expected
    assert hash_dataset(root, progress=calls.append).hashes == expected[0]
    assert sum(calls) == sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_progress_adds_up_in_pieces(tmp_path: Path, pieces, fmt: str) -> None:
    path = tmp_path / f"d.{fmt}"
    if fmt == "jsonl":
        path.write_bytes(_jsonl_text(random.Random(7), 200))
    elif fmt == "csv":
        _write_csv(path, random.Random(7), 200)
    else:
        pq.write_table(_parquet_table(100), path, row_group_size=5)
    calls: list[int] = []
    hash_dataset(path, progress=calls.append)
    assert sum(calls) == path.stat().st_size


def test_worker_failures() -> None:
    assert (
        list(_pieces.run_in_order(_pieces.file_state, [(Path("/no/such/file"),)] * 3, workers=2))
        == [None] * 3
    )
    with pytest.raises(RuntimeError, match="hashing worker process failed"):
        list(_pieces.run_in_order(leaf_hash, [(b"short",), (b"x",)], workers=2))


# A dataset that changes while it is hashed is refused.


def _aged(path: Path) -> Path:
    """Backdates a file so a change made now shows in its times, however coarse the clock."""
    old = time.time() - 60
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (old, old))
    time.sleep(0.05)  # the change time set by utime is now in the past too
    return path


def _make(tmp_path: Path, fmt: str) -> Path:
    path = tmp_path / f"d.{fmt}"
    if fmt == "jsonl":
        path.write_bytes(_jsonl_text(random.Random(8), 300))
    elif fmt == "csv":
        _write_csv(path, random.Random(8), 300)
    elif fmt == "parquet":
        pq.write_table(_parquet_table(200), path, row_group_size=10)
    else:
        path = _folder_of_files(tmp_path / "files", 12)
    return _aged(path)


@pytest.fixture(autouse=True)
def _progress_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress is passed on at every report, not once a MiB, so a change can be made mid-way."""
    monkeypatch.setattr(_progress, "_EVERY", 1)


def _change_on_first_progress(change):
    state = {"done": False}

    def progress(_n: int) -> None:
        if not state["done"]:
            state["done"] = True
            change()

    return progress


@pytest.mark.parametrize(
    ("how", "parallel"), [("append", True), ("append", False), ("replace", True), ("rewrite in place", False)]
)
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_file_that_changes_while_hashed_is_refused(
    tmp_path: Path, request, fmt: str, how: str, parallel: bool
) -> None:
    if parallel:
        request.getfixturevalue("pieces")
    path = _make(tmp_path, fmt)
    content = path.read_bytes()

    def change() -> None:
        if how == "append":
            with open(path, "ab") as f:
                f.write(b'{"late": 1}\n' if fmt == "jsonl" else b"9,late,1\n")
        elif how == "replace":
            other = tmp_path / "other"
            other.write_bytes(content)
            os.replace(other, path)
        else:
            with open(path, "r+b") as f:
                f.write(content[:1])  # same bytes, same size: only the times tell

    with pytest.raises(InputError, match="changed while it was being hashed"):
        hash_dataset(path, progress=_change_on_first_progress(change))


@pytest.mark.parametrize("how", ["append", "replace", "add", "remove", "rewrite in place"])
def test_a_folder_that_changes_while_hashed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr(_pieces, "cores", lambda: 2)
    root = _make(tmp_path, "folder")
    victim = [p for p in sorted(root.rglob("*.bin")) if p.stat().st_size][
        -1
    ]  # hashed late: changed before it is read

    def change() -> None:
        if how == "append":
            with open(victim, "ab") as f:
                f.write(b"more")
        elif how == "replace":
            other = tmp_path / "other"
            other.write_bytes(victim.read_bytes())
            os.replace(other, victim)
        elif how == "add":
            (root / "new.txt").write_bytes(b"new")
        elif how == "remove":
            victim.unlink()
        else:
            with open(victim, "r+b") as f:
                f.write(victim.read_bytes()[:1])

    with pytest.raises(InputError, match="changed while it was being hashed"):
        hash_dataset(root, progress=_change_on_first_progress(change))


def test_a_writer_appending_during_hashing_is_caught(
    tmp_path: Path, pieces, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _make(tmp_path, "jsonl")
    # The C route hashes these pieces in microseconds: slow each down, so the writer's
    # appends surely land while the file is being hashed.
    hash_lines = _jsonl.hash_lines
    monkeypatch.setattr(_jsonl, "hash_lines", lambda data: (time.sleep(0.01), hash_lines(data))[1])
    started, stop = threading.Event(), threading.Event()

    def writer() -> None:
        with open(path, "ab") as f:
            while not stop.is_set():
                f.write(b'{"appended": true}\n')
                f.flush()
                started.set()
                time.sleep(0.001)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        started.wait(5)
        with pytest.raises(InputError, match="changed while it was being hashed"):
            hash_dataset(path)
    finally:
        stop.set()
        thread.join()


def test_an_unchanged_dataset_is_accepted_twice(tmp_path: Path, pieces) -> None:
    path = _make(tmp_path, "jsonl")
    assert hash_dataset(path) == hash_dataset(path)


# Memory: hashes, not Python objects; the tree keeps 38 bytes a datapoint.


def test_hashing_holds_hashes_not_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pieces, "PIECE_BYTES", 1 << 16)
    monkeypatch.setattr(_pieces, "cores", lambda: 1)  # in this process, where tracemalloc sees it
    n = 40_000
    path = tmp_path / "d.jsonl"
    path.write_text("".join(f'{{"i": {i}, "t": "{"x" * 20}"}}\n' for i in range(n)))
    tracemalloc.start()
    try:
        digest = hash_dataset(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.count == n
    # The digest's 32 bytes a datapoint, one piece and its lines: a Python object per
    # datapoint alone (a 33-byte bytes object is 66 bytes) would pass 2 MiB.
    assert peak < 32 * n + 16 * (1 << 16) + (512 << 10), peak


@pytest.mark.parametrize("n", [1, 2, 3, 63, 64, 65, 127, 128, 129, 1000, 4097])
def test_tree_keeps_few_nodes_and_recomputes_the_rest(n: int) -> None:
    rng = random.Random(n)
    pool = [rng.randbytes(32) for _ in range(max(1, n // 3))]
    hashes = [rng.choice(pool) for _ in range(n)]
    tree = MerkleTree.build(hashes)
    # The reference: every node, as docs/hashing.md section 4 spells it.
    leaves = sorted(leaf_hash(h) for h in hashes)
    nodes = [b""] * (2 * n - 1)
    for k, leaf in enumerate(leaves):
        nodes[2 * n - 2 - k] = leaf
    for i in range(n - 2, -1, -1):
        nodes[i] = node_hash(nodes[2 * i + 1], nodes[2 * i + 2])
    assert [tree._node(i) for i in range(2 * n - 1)] == nodes
    assert [bytes(row) for row in tree.nodes] == nodes
    assert tree.root == nodes[0]
    kept = tree._leaves.nbytes + tree._order.nbytes + tree._top.nbytes
    assert kept <= 38 * n + 32 * 63, (kept, n)
    for position in rng.sample(range(n), min(n, 50)):
        assert MerkleTree.verify(tree.root, hashes[position], tree.proof(position))
        assert nodes[int(tree.tree_indices()[position])] == leaf_hash(hashes[position])
