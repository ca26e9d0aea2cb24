"""Shard files committed as one dataset: a documented order, datapoints concatenated."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmint.datasets import (
    SHARD_SCHEME,
    hash_dataset,
    hash_shards,
    iter_shard_hashes,
    shard_order_key,
    shards_input_size,
)
from modelmint.errors import InputError
from modelmint.hashing import sha256


def test_order_key_counts_the_shard_index_as_a_number() -> None:
    names = [
        "train-10-of-12.parquet",
        "train-2-of-12.parquet",
        "test-00000-of-00001.parquet",
        "train-00000-of-00012.parquet",
        "b.parquet",
        "a/z.parquet",
        "a.parquet",
    ]
    assert sorted(names, key=shard_order_key) == [
        "a.parquet",
        "a/z.parquet",
        "b.parquet",
        "test-00000-of-00001.parquet",
        "train-00000-of-00012.parquet",
        "train-2-of-12.parquet",
        "train-10-of-12.parquet",
    ]


@pytest.fixture
def shards(tmp_path: Path) -> list[Path]:
    """Three Parquet shards named so that byte order and shard order differ."""
    paths = []
    for index, rows in [(0, [0, 1]), (2, [2, 3, 4]), (10, [5])]:
        path = tmp_path / "data" / f"train-{index}-of-11.parquet"
        path.parent.mkdir(exist_ok=True)
        pq.write_table(pa.table({"i": rows}), path)
        paths.append(path)
    return paths


def test_shards_are_concatenated_in_shard_order_whatever_the_given_order(
    shards: list[Path], tmp_path: Path
) -> None:
    digest = hash_shards(list(reversed(shards)))
    assert (digest.format, digest.scheme, digest.count) == ("parquet", SHARD_SCHEME, 6)
    assert digest.hashes == b"".join(sha256(b'{"i":%d}' % i) for i in range(6))
    assert digest.shards == (
        ("train-0-of-11.parquet", 2),
        ("train-2-of-11.parquet", 3),
        ("train-10-of-11.parquet", 1),
    )
    assert hash_shards([shards[1], shards[0], shards[2]]).hashes == digest.hashes
    pq.write_table(pa.table({"i": list(range(6))}), tmp_path / "whole.parquet")
    assert hash_dataset(tmp_path / "whole.parquet").hashes == digest.hashes


def test_labels_and_progress_name_each_shard(shards: list[Path]) -> None:
    labels = [label for label, _ in iter_shard_hashes(shards)]
    assert labels[:3] == [
        "train-0-of-11.parquet row 1",
        "train-0-of-11.parquet row 2",
        "train-2-of-11.parquet row 1",
    ]
    calls: list[int] = []
    hash_shards(shards, progress=calls.append)
    assert sum(calls) == shards_input_size(shards) == sum(p.stat().st_size for p in shards)


def test_names_are_relative_to_the_common_folder(tmp_path: Path) -> None:
    for split in ("a", "b"):
        (tmp_path / split).mkdir()
        (tmp_path / split / "part.jsonl").write_text(f'"{split}"\n')
    digest = hash_shards([tmp_path / "b" / "part.jsonl", tmp_path / "a" / "part.jsonl"])
    assert [name for name, _ in digest.shards] == ["a/part.jsonl", "b/part.jsonl"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("mixed", "shards must share one format"),
        ("twice", "is given twice"),
        ("folder", "is a folder dataset, which cannot be a shard"),
        ("empty shard", "holds no datapoints"),
        ("missing", "does not exist"),
        ("none", "no shard files given"),
    ],
)
def test_bad_shard_sets_are_refused(tmp_path: Path, setup: str, message: str) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("1\n")
    b.write_text("2\n")
    paths: list[Path] = {
        "mixed": [a, tmp_path / "c.csv"],
        "twice": [a, tmp_path / "." / "a.jsonl"],
        "folder": [a, tmp_path],
        "empty shard": [a, b, tmp_path / "e.jsonl"],
        "missing": [a, tmp_path / "nope.jsonl"],
        "none": [],
    }[setup]
    (tmp_path / "c.csv").write_text("x\n1\n")
    (tmp_path / "e.jsonl").write_text("")
    with pytest.raises(InputError, match=message):
        hash_shards(paths)


def test_a_hard_link_is_the_same_shard(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("1\n")
    os.link(tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    with pytest.raises(InputError, match="is given twice"):
        hash_shards([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
