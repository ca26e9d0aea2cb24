#!/usr/bin/env python3
"""Fuzz target: the metadata loader (modelmint.storage.documents.parse_document, and
modelmint.registry.metadata's DatasetMetadata / ModelMetadata ``from_document``).

Any bytes as a token's metadata document, in a process that has imported web3 (as the CLI
has): it loads as dataset or model metadata, or raises a ModelmintError. The content store
serves these bytes, so whoever minted a token chooses them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from _harness import check, instrumented, main

with instrumented(__name__):
    import modelmint.chain.client  # noqa: F401 -- web3 as the CLI has it: the recursion limit raised
    from modelmint.registry.metadata import DatasetMetadata, ModelMetadata
    from modelmint.storage.documents import parse_document

#: The cap the registry reads metadata with is its own; any cap will do for the property.
_MAX_BYTES = 1 << 20


def test_one_input(data: bytes) -> None:
    document, _ = check(lambda: parse_document(data, what="the metadata", max_bytes=_MAX_BYTES))
    if document is None:
        return
    check(lambda: DatasetMetadata.from_document(document))
    check(lambda: ModelMetadata.from_document(document))


def seeds() -> Iterator[bytes]:
    root = "0x" + "ab" * 32
    dataset = {
        "name": "train",
        "description": "Dataset of 2 datapoints",
        "attributes": [{"trait_type": "kind", "value": "dataset"}],
        "modelmint": {
            "schema": "modelmint.metadata.v1",
            "kind": "dataset",
            "format": "jsonl",
            "hashScheme": "jcs-sha256",
            "datapointCount": 2,
            "merkleRoot": root,
            "tree": "oz-standard-merkle-tree.v1",
            "leaves": "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            "shards": [{"name": "a.jsonl", "datapoints": 1}, {"name": "b.jsonl", "datapoints": 1}],
        },
    }
    model = {
        "name": "tiny",
        "image": "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        "modelmint": {
            "schema": "modelmint.metadata.v1",
            "kind": "model",
            "weightsRoot": root,
            "manifest": "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            "manifestScheme": "modelmint.manifest.v1",
            "tree": "oz-standard-merkle-tree.v1",
            "parentModelId": 1,
            "datasetIds": [1, 2],
            "totalSize": 1234,
            "files": [{"path": "model.safetensors", "size": 1234}],
            "model": {"architecture": "LlamaForCausalLM", "parameterCount": 135},
        },
    }
    yield json.dumps(dataset).encode()
    yield json.dumps(model).encode()
    yield b'{"modelmint": "boom"}'
    yield b'{"modelmint": {"format": 1, "leaves": [], "shards": [{"name": 1}], "datapointCount": true}}'
    yield b'{"modelmint": {"schema": "x", "datasetIds": ["a", -1, 1e400], "parentModelId": "7"}}'
    yield b"[" * 64 + b"]" * 64
    yield b"[" * 300_000  # the segfault of issue 14: deeper than the C stack once web3 has imported
    yield b'{"a": 1, "a": 2}'
    yield b"\xef\xbb\xbf{}"
    yield b"1" * 5000


if __name__ == "__main__":
    main("metadata", test_one_input, seeds)
