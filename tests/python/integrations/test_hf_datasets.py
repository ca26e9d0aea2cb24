"""In-memory ``datasets`` objects hash to the same datapoints and root as the same rows in a
JSONL file or a ``save_to_disk`` folder; tokenised columns are left out unless chosen."""

from __future__ import annotations

import json

import pytest

from modelmint.datasets import (
    PREPROCESSING_COLUMNS,
    hash_dataset,
    hash_memory_dataset,
    iter_memory_datapoints,
)
from modelmint.errors import InputError
from modelmint.integrations.hf_datasets import commit_hf_dataset
from modelmint.registry import commit_dataset
from tests_support import REPO

datasets = pytest.importorskip("datasets")

ROWS = [
    {"id": 1, "text": "héllo", "score": 0.5, "tags": ["a", "b"], "meta": {"z": 1, "a": "w"}},
    {"id": 2, "text": "line\nbreak", "score": 1.0, "tags": ["d"], "meta": {"z": 2, "a": "x"}},
    {"id": 3, "text": "", "score": -2.25, "tags": ["c"], "meta": {"z": 3, "a": "y"}},
]


def _jsonl(path, rows):
    # Not canonical on purpose: other key order, spaces, escapes; the canonical form evens them out.
    path.write_text("".join(json.dumps(dict(reversed(list(r.items()))), indent=None) + "\n" for r in rows))
    return path


def test_a_streaming_dataset_has_the_root_of_the_same_rows_as_jsonl(tmp_path):
    stream = datasets.IterableDataset.from_generator(lambda: iter(ROWS))
    assert stream.features is None  # a stream that learns its columns from the rows
    from_stream = hash_memory_dataset(stream)
    from_file = hash_dataset(_jsonl(tmp_path / "rows.jsonl", ROWS))
    assert from_stream.hashes == from_file.hashes
    assert from_stream.tree().root == from_file.tree().root
    assert from_stream.count == 3
    assert from_stream.scheme == "modelmint.jsonl.v1"


def test_a_dataset_and_a_dataset_dict_match_their_save_to_disk_folders(tmp_path):
    ds = datasets.Dataset.from_list(ROWS).shuffle(seed=1)  # an indices mapping, flattened by save_to_disk
    ds.save_to_disk(tmp_path / "ds")
    assert hash_memory_dataset(ds).hashes == hash_dataset(tmp_path / "ds").hashes
    assert hash_memory_dataset(ds.to_iterable_dataset(num_shards=2)).hashes == hash_memory_dataset(ds).hashes
    dd = datasets.DatasetDict({"train": ds, "test": ds.select([0])})
    dd.save_to_disk(tmp_path / "dd")
    assert hash_memory_dataset(dd).hashes == hash_dataset(tmp_path / "dd").hashes
    labels = [label for label, _ in iter_memory_datapoints(dd)]
    assert labels == [
        "test row 1",
        "train row 1",
        "train row 2",
        "train row 3",
    ]  # splits in byte order, as on disk


def test_an_extension_feature_in_memory_hashes_as_saved(tmp_path):
    features = datasets.Features(
        {"grid": datasets.Array2D((2, 2), "int32"), "label": datasets.ClassLabel(names=["a", "b"])}
    )
    ds = datasets.Dataset.from_dict(
        {"grid": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], "label": [1, 0]}, features=features
    )
    ds.save_to_disk(tmp_path / "grid")
    assert hash_memory_dataset(ds).hashes == hash_dataset(tmp_path / "grid").hashes
    assert next(iter_memory_datapoints(ds))[1] == b'{"grid":[[1,2],[3,4]],"label":1}'


def test_tokenised_columns_are_left_out_unless_chosen(tmp_path):
    raw = datasets.Dataset.from_list(ROWS)
    tokenised = raw.map(lambda r: {"input_ids": [1, 2], "attention_mask": [1, 1], "labels": [1, 2]})
    assert {"input_ids", "attention_mask", "labels"} <= PREPROCESSING_COLUMNS
    assert hash_memory_dataset(tokenised).hashes == hash_memory_dataset(raw).hashes
    text_only = [json.loads(d) for _, d in iter_memory_datapoints(tokenised, columns=["text", "input_ids"])]
    assert text_only[0] == {"input_ids": [1, 2], "text": "héllo"}
    with pytest.raises(InputError, match="no column 'body'"):
        list(iter_memory_datapoints(raw, columns=["body"]))
    with pytest.raises(InputError, match="only tokenised columns"):
        list(iter_memory_datapoints(tokenised.select_columns(["input_ids", "labels"])))
    with pytest.raises(InputError, match="not a Hugging Face dataset"):
        list(iter_memory_datapoints([{"text": "a"}]))
    with pytest.raises(InputError, match="no rows"):
        list(iter_memory_datapoints(raw.select([])))


def test_an_in_memory_dataset_reuses_the_token_of_its_rows(chain, deployed, store, tmp_path, registries):
    minted = commit_hf_dataset(registries, datasets.Dataset.from_list(ROWS), name="rows")
    assert not minted.already_registered
    assert minted.datapoint_count == 3
    again = commit_dataset(registries, _jsonl(tmp_path / "rows.jsonl", ROWS))
    assert again.already_registered
    assert again.token_id == minted.token_id


def test_the_hashing_doc_example_for_a_datasets_object_runs():
    doc = (REPO / "docs" / "hashing.md").read_text()
    section = doc[
        doc.index("### 7.1 The same rows as a `datasets` object") : doc.index("## 8. Model weights manifest")
    ]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "docs/hashing.md §7.1", "exec"), {})
    assert (
        "ad617f538249cc3dde31b4517a8be69d6693ef1a6adaafd369a2057fcf80ac4a" in doc.split("### 7.1")[0]
    )  # §7's root
