"""Hugging Face ``datasets`` folders: rows mapped as Parquet rows, in a documented order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from modelmint.datasets import detect_format, hash_dataset, input_size, iter_datapoints
from modelmint.errors import InputError
from tests_support import save_arrow_dataset

hf = pytest.importorskip("datasets")


@pytest.fixture(autouse=True)
def _quiet() -> None:
    hf.disable_progress_bars()


def test_a_saved_dataset_hashes_like_the_same_rows_in_parquet(tmp_path: Path) -> None:
    features = hf.Features(
        {
            "text": hf.Value("string"),
            "label": hf.ClassLabel(names=["neg", "pos"]),
            "scores": hf.Sequence(hf.Value("float32")),
            "meta": {"source": hf.Value("string"), "year": hf.Value("int16")},
            "blob": hf.Value("binary"),
        }
    )
    rows = {
        "text": ["caf\u00e9", "b", "c", "b", "e", "f", "g"],
        "label": [0, 1, 1, 1, 0, 0, 1],
        "scores": [[0.1], [], [1.5, 2.0], [], [0.0], [3.0], [4.0]],
        "meta": [{"source": "web", "year": 2020 + i} for i in range(7)],
        "blob": [bytes([i]) for i in range(7)],
    }
    ds = hf.Dataset.from_dict(rows, features=features)
    ds.save_to_disk(tmp_path / "ds", num_shards=3)
    ds.to_parquet(tmp_path / "ds.parquet")
    assert len(list((tmp_path / "ds").glob("*.arrow"))) == 3
    digest = hash_dataset(tmp_path / "ds")
    assert (digest.format, digest.scheme, digest.count) == ("hf-datasets", "modelmint.hf-datasets.v1", 7)
    assert digest.hashes == hash_dataset(tmp_path / "ds.parquet").hashes
    first = next(iter(iter_datapoints(tmp_path / "ds")))
    assert first == (
        "row 1",
        '{"blob":"AA==","label":0,"meta":{"source":"web","year":2020},"scores":[0.10000000149011612],"text":"café"}'.encode(),
    )


def test_a_dataset_dict_reads_splits_in_name_order(tmp_path: Path) -> None:
    train = hf.Dataset.from_dict({"x": [1, 2, 3]})
    test = hf.Dataset.from_dict({"x": [9]})
    hf.DatasetDict({"train": train, "test": test, "validation": test}).save_to_disk(tmp_path / "dd")
    assert json.loads((tmp_path / "dd" / "dataset_dict.json").read_text())["splits"][0] == "train"
    labels = [label for label, _ in iter_datapoints(tmp_path / "dd")]
    assert labels == ["test row 1", "train row 1", "train row 2", "train row 3", "validation row 1"]
    again = tmp_path / "reordered"
    hf.DatasetDict({"validation": test, "test": test, "train": train}).save_to_disk(again)
    assert hash_dataset(again).hashes == hash_dataset(tmp_path / "dd").hashes


def test_rows_follow_select_and_shuffle(tmp_path: Path) -> None:
    ds = hf.Dataset.from_dict({"i": list(range(10))}).shuffle(seed=3).select(range(6))
    ds.save_to_disk(tmp_path / "ds", num_shards=2)
    expected = [b'{"i":%d}' % row["i"] for row in ds]
    assert [data for _, data in iter_datapoints(tmp_path / "ds")] == expected
    assert [r["i"] for r in hf.load_from_disk(str(tmp_path / "ds"))] == [r["i"] for r in ds]


def test_array_features_map_as_nested_lists_whether_or_not_registered(tmp_path: Path) -> None:
    features = hf.Features(
        {
            "pixels": hf.Array2D(shape=(2, 2), dtype="uint8"),
            "seq": hf.List(hf.Array2D(shape=(1, 2), dtype="int32")),
        }
    )
    ds = hf.Dataset.from_dict(
        {"pixels": [np.arange(4, dtype="uint8").reshape(2, 2)], "seq": [[np.zeros((1, 2), dtype="int32")]]},
        features=features,
    )
    ds.save_to_disk(tmp_path / "ds")
    # This process has imported `datasets`, so pyarrow decodes its extension types;
    # the CLI need not have: the storage type decides either way.
    assert list(iter_datapoints(tmp_path / "ds")) == [("row 1", b'{"pixels":[[0,1],[2,3]],"seq":[[[0,0]]]}')]


def test_an_empty_dataset_is_refused(tmp_path: Path) -> None:
    hf.Dataset.from_dict({"x": []}).save_to_disk(tmp_path / "ds")
    with pytest.raises(InputError, match="holds no datapoints"):
        hash_dataset(tmp_path / "ds")


def test_progress_adds_up(tmp_path: Path) -> None:
    hf.Dataset.from_dict({"t": ["x" * 1000] * 3000}).save_to_disk(tmp_path / "ds", num_shards=2)
    calls: list[int] = []
    hash_dataset(tmp_path / "ds", progress=calls.append)
    assert sum(calls) == input_size(tmp_path / "ds") > 3_000_000
    assert len(calls) >= 3


def test_an_explicit_folder_format_reads_the_files(tmp_path: Path) -> None:
    save_arrow_dataset(tmp_path / "ds", pa.table({"x": [1]}))
    assert detect_format(tmp_path / "ds") == "hf-datasets"
    assert hash_dataset(tmp_path / "ds", "folder").count == 3  # the arrow file and two JSON files


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing file", r"cannot read .*data-00001-of-00002.arrow, listed in .*state.json"),
        ("no list", "has no list of data files"),
        ("escaping name", "is not a data file name in the folder"),
        ("state not json", "state.json is not valid JSON"),
        ("corrupt arrow", "is not a readable Arrow stream|cannot be read"),
        ("indices", "keeps an indices mapping"),
    ],
)
def test_damaged_folders_are_refused(tmp_path: Path, damage: str, message: str) -> None:
    folder = save_arrow_dataset(tmp_path / "ds", pa.table({"x": [1, 2]}), pa.table({"x": [3]}))
    state = json.loads((folder / "state.json").read_text())
    if damage == "missing file":
        (folder / "data-00001-of-00002.arrow").unlink()
    elif damage == "no list":
        del state["_data_files"]
    elif damage == "escaping name":
        state["_data_files"][0]["filename"] = "../elsewhere.arrow"
    elif damage == "state not json":
        (folder / "state.json").write_text("{")
    elif damage == "corrupt arrow":
        (folder / "data-00000-of-00002.arrow").write_bytes(b"\xff" * 64)
    elif damage == "indices":
        state["_indices_data_files"] = [{"filename": "indices.arrow"}]
    if damage not in ("state not json", "corrupt arrow", "missing file"):
        (folder / "state.json").write_text(json.dumps(state))
    with pytest.raises(InputError, match=message):
        hash_dataset(folder)


@pytest.mark.parametrize(
    ("splits", "message"),
    [("[]", "lists no splits"), ('["a", "a"]', "lists a split twice"), ('["../x"]', "is not a split name")],
)
def test_bad_dataset_dicts_are_refused(tmp_path: Path, splits: str, message: str) -> None:
    (tmp_path / "dd").mkdir()
    (tmp_path / "dd" / "dataset_dict.json").write_text(f'{{"splits": {splits}}}')
    with pytest.raises(InputError, match=message):
        hash_dataset(tmp_path / "dd")


def test_values_outside_the_mapping_name_the_file_and_row(tmp_path: Path) -> None:
    folder = save_arrow_dataset(tmp_path / "ds", pa.table({"x": [1.0]}), pa.table({"x": [2.0, float("nan")]}))
    with pytest.raises(InputError, match=r"data-00001-of-00002.arrow row 2: number nan is not finite"):
        hash_dataset(folder)
