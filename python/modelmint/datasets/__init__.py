"""Datasets read as datapoints and hashed for commitment.

A dataset is a JSONL, CSV or Parquet file, or a folder of files. Each reader turns it into
datapoints with canonical bytes (rules in docs/hashing.md) in a fixed order;
:func:`hash_dataset` gives their SHA-256 for the Merkle tree, and
:func:`iter_datapoint_hashes` is the same routine as a stream, for verifying.
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
from modelmint.datasets._progress import Progress

__all__ = [
    "FORMATS",
    "DatasetDigest",
    "Progress",
    "detect_format",
    "hash_dataset",
    "input_size",
    "iter_datapoint_hashes",
    "iter_datapoints",
    "scheme_of",
]
