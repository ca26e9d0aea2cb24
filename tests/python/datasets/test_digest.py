"""The public dataset API: format detection, paths, digests, progress, trees."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmint.datasets import FORMATS, detect_format, hash_dataset, input_size, iter_datapoint_hashes
from modelmint.errors import InputError
from modelmint.hashing import MerkleTree, sha256
from tests_support import save_arrow_dataset


@pytest.fixture
def datasets(tmp_path: Path) -> dict[str, Path]:
    """One small dataset per format, each with 2^k datapoints for some k."""
    (tmp_path / "d.jsonl").write_text("".join(f'{{"i": {i}}}\n' for i in range(8)))
    (tmp_path / "d.csv").write_text("i\n" + "".join(f"{i}\n" for i in range(4)))
    pq.write_table(pa.table({"i": list(range(16))}), tmp_path / "d.parquet", row_group_size=5)
    folder = tmp_path / "files"
    folder.mkdir()
    for i in range(2):
        (folder / f"{i}.bin").write_bytes(bytes([i]) * 2_000_000)
    hf = save_arrow_dataset(
        tmp_path / "hf", pa.table({"i": list(range(5))}), pa.table({"i": list(range(5, 8))})
    )
    return {
        "jsonl": tmp_path / "d.jsonl",
        "csv": tmp_path / "d.csv",
        "parquet": tmp_path / "d.parquet",
        "folder": folder,
        "hf-datasets": hf,
    }


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.jsonl", "jsonl"),
        ("a.NDJSON", "jsonl"),
        ("a.jsonlines", "jsonl"),
        ("a.csv", "csv"),
        ("a.parquet", "parquet"),
        ("a.pq", "parquet"),
    ],
)
def test_detect_format_by_extension(tmp_path: Path, name: str, fmt: str) -> None:
    (tmp_path / name).write_text("x")
    assert detect_format(tmp_path / name) == fmt


def test_detect_format_of_a_folder(tmp_path: Path) -> None:
    assert detect_format(tmp_path) == "folder"


def test_detect_format_of_a_saved_hugging_face_dataset(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{}")
    assert detect_format(tmp_path) == "folder"  # both marker files, or dataset_dict.json
    (tmp_path / "dataset_info.json").write_text("{}")
    assert detect_format(tmp_path) == "hf-datasets"
    (tmp_path / "dd").mkdir()
    (tmp_path / "dd" / "dataset_dict.json").write_text('{"splits": []}')
    assert detect_format(tmp_path / "dd") == "hf-datasets"


@pytest.mark.parametrize(
    ("setup", "fmt", "message"),
    [
        ("missing", None, "does not exist"),
        ("data.json", None, "cannot tell the dataset format"),
        ("data.jsonl", "xml", "unknown dataset format 'xml'"),
        ("dir", "csv", "is a folder, not a csv dataset"),
        ("data.jsonl", "hf-datasets", "is a file, not a hf-datasets dataset"),
    ],
)
def test_path_and_format_errors(tmp_path: Path, setup: str, fmt: str | None, message: str) -> None:
    path = tmp_path / setup
    if setup == "dir":
        path.mkdir()
    elif setup != "missing":
        path.write_text("1\n")
    with pytest.raises(InputError, match=message):
        hash_dataset(path, fmt)
    with pytest.raises(InputError, match=message):
        iter_datapoint_hashes(path, fmt)  # checked at the call, before iteration


def test_unreadable_path_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match=r"cannot read .*Not a directory"):
        hash_dataset(tmp_path / "file" / "data.jsonl")


def test_special_file_is_refused() -> None:
    with pytest.raises(InputError, match="neither a regular file nor a folder"):
        hash_dataset("/dev/null", "jsonl")


def test_a_single_file_is_a_one_file_folder_dataset(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(b"\x89PNG")
    assert list(iter_datapoint_hashes(path, "folder")) == [("cat.png", sha256(b"\x89PNG"))]


def test_explicit_format_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text('{"a": 1}\n')
    assert hash_dataset(path, "jsonl").count == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_digest_matches_the_stream_and_builds_a_tree(datasets: dict[str, Path], fmt: str) -> None:
    digest = hash_dataset(datasets[fmt])
    stream = list(iter_datapoint_hashes(datasets[fmt]))
    assert digest.format == fmt
    assert digest.scheme == f"modelmint.{fmt}.v1"
    assert digest.count == len(stream)
    assert digest.count & (digest.count - 1) == 0
    assert digest.hashes == b"".join(h for _, h in stream)
    tree = digest.tree()
    assert tree.root == MerkleTree.build([h for _, h in stream]).root
    assert all(MerkleTree.verify(tree.root, digest.hash_at(i), tree.proof(i)) for i in range(digest.count))


@pytest.mark.parametrize("fmt", FORMATS)
def test_progress_adds_up_to_the_input_size(datasets: dict[str, Path], fmt: str) -> None:
    calls: list[int] = []
    hash_dataset(datasets[fmt], progress=calls.append)
    assert sum(calls) == input_size(datasets[fmt]) > 0
    assert all(c > 0 for c in calls)
    if fmt == "folder":
        assert len(calls) >= 3  # 4 MB in about one call a MiB, not one call at the end
