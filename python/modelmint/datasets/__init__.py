"""Datasets read as datapoints and hashed for commitment.

A dataset is a JSONL, CSV or Parquet file, a folder of files, a Hugging Face ``datasets``
folder written by ``save_to_disk``, or several shard files of one format. Each reader turns
it into datapoints with canonical bytes (rules in docs/hashing.md) in a fixed order;
:func:`hash_dataset` (:func:`hash_shards`) gives their SHA-256 for the Merkle tree, and
:func:`iter_datapoint_hashes` (:func:`iter_shard_hashes`) is the same routine as a stream,
for verifying. A ``datasets`` object in memory is read by :func:`iter_memory_datapoints`
(:func:`hash_memory_dataset`) as the same datapoints its rows have saved or as JSONL.
"""

from modelmint.datasets._digest import (
    FORMATS,
    DatasetDigest,
    detect_format,
    hash_dataset,
    input_size,
    iter_datapoint_hashes,
    iter_datapoints,
    scheme_of,
)
from modelmint.datasets._memory import (
    PREPROCESSING_COLUMNS,
    committed_columns,
    hash_memory_dataset,
    is_in_memory_dataset,
    iter_memory_datapoints,
    write_memory_jsonl,
)
from modelmint.datasets._shards import (
    SHARD_FORMATS,
    SHARD_SCHEME,
    hash_shards,
    iter_shard_hashes,
    shard_order_key,
    shards_input_size,
)
from modelmint.hashing.files import Progress

__all__ = [
    "FORMATS",
    "PREPROCESSING_COLUMNS",
    "SHARD_FORMATS",
    "SHARD_SCHEME",
    "DatasetDigest",
    "Progress",
    "committed_columns",
    "detect_format",
    "hash_dataset",
    "hash_memory_dataset",
    "hash_shards",
    "input_size",
    "is_in_memory_dataset",
    "iter_datapoint_hashes",
    "iter_datapoints",
    "iter_memory_datapoints",
    "iter_shard_hashes",
    "scheme_of",
    "shard_order_key",
    "shards_input_size",
    "write_memory_jsonl",
]
