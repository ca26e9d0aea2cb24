"""The issue's list of awkward datasets, through the real command: a one-line error each, or a
documented result (docs/hashing.md §1)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests_support import save_arrow_dataset


def _corrupt_parquet(d: Path) -> Path:
    path = d / "data.parquet"
    pq.write_table(pa.table({"text": [f"row {i}" * 20 for i in range(200)]}), path, compression="none")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _ragged_csv(d: Path) -> Path:
    (d / "data.csv").write_bytes(b"text,label\na,1\nb\n")
    return d / "data.csv"


def _non_utf8_jsonl(d: Path) -> Path:
    (d / "data.jsonl").write_bytes(b'{"t": "ok"}\n{"t": "caf\xe9"}\n')
    return d / "data.jsonl"


def _non_utf8_csv(d: Path) -> Path:
    (d / "data.csv").write_bytes(b"t\nok\ncaf\xe9\n")
    return d / "data.csv"


def _empty(name: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_bytes(b"")
        return d / name

    return make


def _symlink_loop(d: Path) -> Path:
    (d / "loop.jsonl").symlink_to("loop.jsonl")
    return d / "loop.jsonl"


def _folder_with_symlink_loop(d: Path) -> Path:
    root = d / "images"
    root.mkdir()
    (root / "cat.png").write_bytes(b"\x89PNG")
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("a")
    return root


def _folder_linking_to_itself(d: Path) -> Path:
    root = d / "images"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "cat.png").write_bytes(b"\x89PNG")
    (root / "sub" / "up").symlink_to("..")
    return root


def _corrupt_hf_dataset(d: Path) -> Path:
    folder = save_arrow_dataset(d / "hf", pa.table({"x": [1, 2]}))
    (folder / "data-00000-of-00001.arrow").write_bytes(b"ARROW1" + b"\xff" * 40)
    return folder


def _unknown_extension(d: Path) -> Path:
    (d / "data.txt").write_text('{"a": 1}\n')
    return d / "data.txt"


@pytest.mark.parametrize(
    ("make", "needles"),
    [
        (_corrupt_parquet, ["data.parquet is not a readable Parquet file"]),
        (_ragged_csv, ["data.csv row 2 (line 3) has 1 fields but the header has 2"]),
        (_non_utf8_jsonl, ["data.jsonl line 2 is not valid UTF-8 (byte 0xe9"]),
        (_non_utf8_csv, ["data.csv line 3 is not valid UTF-8"]),
        (_empty("data.jsonl"), ["data.jsonl holds no datapoints"]),
        (_empty("data.csv"), ["data.csv has no header row"]),
        (_empty("data.parquet"), ["data.parquet is not a readable Parquet file", "0 bytes"]),
        (_symlink_loop, ["cannot read", "loop.jsonl", "Too many levels of symbolic links"]),
        (_folder_with_symlink_loop, ["images: ", "is a symbolic link"]),
        (_folder_linking_to_itself, ["images: sub/up is a symbolic link"]),
        (_corrupt_hf_dataset, ["data-00000-of-00001.arrow"]),
        (_unknown_extension, ["cannot tell the dataset format of", "data.txt"]),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_bad_datasets_fail_in_one_line(cli, deployed, tmp_path, make, needles):
    cli("dataset", "mint", str(make(tmp_path))).assert_user_error(*needles)


def test_a_shard_that_is_a_symlink_loop_fails_in_one_line(cli, deployed, tmp_path):
    (tmp_path / "train-0-of-2.jsonl").write_text("1\n")
    loop = _symlink_loop(tmp_path)
    cli("dataset", "mint", str(tmp_path / "train-0-of-2.jsonl"), str(loop)).assert_user_error(
        "Too many levels of symbolic links"
    )


def _mint(cli, *args: str) -> dict:
    result = cli("dataset", "mint", *args, "--json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_zero_byte_file_is_a_valid_datapoint_of_a_folder(cli, deployed, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "empty.bin").write_bytes(b"")
    (folder / "full.bin").write_bytes(b"x")
    assert _mint(cli, str(folder))["datapointCount"] == 2
    other = tmp_path / "another-empty-file"
    other.write_bytes(b"")  # same bytes, other name: the same datapoint
    assert cli("dataset", "verify", str(other), "--token", "1").code == 0


def test_a_dataset_of_one_datapoint_has_an_empty_proof(cli, deployed, tmp_path):
    data = tmp_path / "one.jsonl"
    data.write_text('{"only": true}\n')
    record = _mint(cli, str(data))
    assert record["datapointCount"] == 1
    proof = tmp_path / "proof.json"
    assert cli("dataset", "prove", str(data), "--token", "1", "--out", str(proof)).code == 0
    written = json.loads(proof.read_text())
    assert written["proof"] == []
    assert written["leaf"] == record["merkleRoot"]
    assert cli("dataset", "check-proof", str(proof)).code == 0


def test_exactly_2_to_the_k_datapoints_and_duplicates(cli, deployed, tmp_path):
    data = tmp_path / "eight.jsonl"
    lines = [f'{{"i": {i % 6}}}' for i in range(8)]  # rows 7 and 8 repeat rows 1 and 2
    data.write_text("\n".join(lines) + "\n")
    assert _mint(cli, str(data))["datapointCount"] == 8  # every repeat keeps its position
    every = cli("dataset", "verify", str(data), "--token", "1", "--json")
    assert every.code == 0
    assert json.loads(every.stdout)["included"] == 8
    dup = tmp_path / "dup.jsonl"
    dup.write_text(lines[6] + "\n")
    proved = cli("dataset", "prove", str(dup), "--token", "1")
    assert proved.code == 0
    assert json.loads(proved.stdout)["position"] == 0
    proof = tmp_path / "p.json"
    assert cli("dataset", "prove", "--token", "1", "--index", "6", "--out", str(proof)).code == 0
    assert cli("dataset", "check-proof", str(proof)).code == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_fails_in_one_line(cli, deployed, tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text("1\n")
    data.chmod(0)
    cli("dataset", "mint", str(data)).assert_user_error("cannot read", "Permission denied")
