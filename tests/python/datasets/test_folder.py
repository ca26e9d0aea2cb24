"""Folder datapoints: every regular file's bytes, ordered by UTF-8 relative path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelmint.datasets import hash_dataset, iter_datapoint_hashes, iter_datapoints
from modelmint.errors import InputError
from modelmint.hashing import sha256


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    files = {
        "a.txt": b"a",
        "a/b.txt": b"ab",
        "B.txt": b"B",
        ".hidden": b"h",
        "\u00e9t\u00e9.txt": b"ete",
        "z/y/x.bin": b"\x00\xff",
        "dup.txt": b"a",
        "empty": b"",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "empty-dir").mkdir()
    return root


EXPECTED_ORDER = [
    ".hidden",
    "B.txt",
    "a.txt",
    "a/b.txt",
    "dup.txt",
    "empty",
    "z/y/x.bin",
    "\u00e9t\u00e9.txt",
]


def test_files_in_utf8_path_order(folder: Path) -> None:
    datapoints = list(iter_datapoints(folder))
    assert [label for label, _ in datapoints] == EXPECTED_ORDER
    assert dict(datapoints)["z/y/x.bin"] == b"\x00\xff"


def test_streamed_hashes_match_the_bytes(folder: Path) -> None:
    hashes = list(iter_datapoint_hashes(folder))
    assert hashes == [(label, sha256(data)) for label, data in iter_datapoints(folder)]
    digest = hash_dataset(folder)
    assert (digest.format, digest.scheme, digest.count) == ("folder", "modelmint.folder.v1", 8)
    assert digest.hash_at(2) == digest.hash_at(4) == sha256(b"a")  # duplicates are fine


def test_a_linked_dataset_folder_is_followed(folder: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(folder)
    assert hash_dataset(link).hashes == hash_dataset(folder).hashes


@pytest.mark.parametrize("target", ["a.txt", "z", "/etc/hostname", "missing"])
def test_symlinks_inside_are_refused_by_name(folder: Path, target: str) -> None:
    (folder / "z" / "link").symlink_to(target)
    with pytest.raises(InputError, match=r"z/link is a symbolic link"):
        hash_dataset(folder)


def test_special_files_are_refused(folder: Path) -> None:
    os.mkfifo(folder / "pipe")
    with pytest.raises(InputError, match="pipe is not a regular file"):
        hash_dataset(folder)


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    with pytest.raises(InputError, match="holds no datapoints"):
        hash_dataset(tmp_path / "d")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_an_input_error(folder: Path) -> None:
    (folder / "a.txt").chmod(0)
    with pytest.raises(InputError, match="cannot read"):
        hash_dataset(folder)


def test_non_utf8_name_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    try:
        (root / os.fsdecode(b"bad\xff")).write_bytes(b"x")
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    with pytest.raises(InputError, match="is not valid UTF-8"):
        hash_dataset(root)
