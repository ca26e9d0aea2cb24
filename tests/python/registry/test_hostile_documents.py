"""Issue 14, findings 1, 2 and 7: documents from the content store are untrusted.

Anyone can mint a token whose metadata, manifest or fingerprint bundle is hostile: deeply
nested (which crashed the process once web3 had raised the recursion limit), of the wrong
shape, of the wrong field types, too large, or not served at all. Each is that record's or
that candidate's error, in one line, and every other record is listed, shown or ranked as
before. Real anvil, real local store, tokens minted straight on the contracts.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from modelmint.chain.contracts import FingerprintKind
from modelmint.errors import IntegrityError
from modelmint.fingerprints import huref
from modelmint.fingerprints.huref import _bundle
from modelmint.fingerprints.huref._tokens import TokenSet, ids_sha256
from modelmint.registry import commit_dataset, list_records, show, verify_datapoints
from modelmint.registry.fingerprints import identify
from modelmint.registry.lineage import lineage
from modelmint.registry.models import METADATA_SCHEMA
from modelmint.storage import cid_of_bytes, parse_uri, to_uri
from modelmint.storage.documents import METADATA_MAX_BYTES, parse_document
from tests_support import SAMPLE

#: About 240 KB of nested arrays: json.loads of it crashed a process that had imported web3.
NESTED = b"[" * 240_000


def _root(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _dataset_with(registries, content: bytes, label: str, count: int = 1) -> int:
    uri = to_uri(registries.store.put(content))
    datasets = registries.dataset_contract
    return datasets.mint(datasets.chain.signer.address, _root(label), count, uri).token_id


def _model_with(registries, content: bytes, label: str) -> int:
    uri = to_uri(registries.store.put(content))
    models = registries.model_contract
    return models.mint(models.chain.signer.address, _root(label), uri).token_id


def _json(value) -> bytes:
    return json.dumps(value).encode()


def _model_metadata(**facts) -> dict:
    return {
        "name": "a model",
        "modelmint": {
            "schema": METADATA_SCHEMA,
            "weightsRoot": "0x" + "11" * 32,
            "manifest": to_uri(cid_of_bytes(b"a manifest")),
            "model": facts,
        },
    }


def test_list_and_show_survive_nested_metadata_and_report_each_bad_record_in_one_line(
    cli, registries, deployed
) -> None:
    good = commit_dataset(registries, SAMPLE / "train.jsonl", name="corpus").token_id
    nested = _dataset_with(registries, NESTED, "nested")
    boom = _dataset_with(registries, b'{"modelmint": "boom"}', "boom")

    listed = cli("list")
    assert listed.code == 0, listed  # not a segfault (-11), not a traceback; junk tokens only warn
    for ref in (f"dataset/{good}", f"dataset/{nested}", f"dataset/{boom}", "corpus"):
        assert ref in listed.stdout  # every token is listed, the good one with its name
    errors = [line for line in listed.stderr.splitlines() if line.strip()]
    assert len(errors) == 2, listed.stderr
    assert errors[0].startswith(f"warning: dataset/{nested}: the metadata of dataset {nested} (ipfs://")
    assert "nested too deeply" in errors[0]
    assert errors[1].startswith(f"warning: dataset/{boom}: the metadata of dataset {boom} (ipfs://")
    assert "modelmint is a string, not an object" in errors[1]
    assert "Traceback" not in listed.stderr

    as_json = cli("list", "--json")
    assert as_json.code == 0
    records = {r["ref"]: r for r in json.loads(as_json.stdout)}
    assert "error" not in records[f"dataset/{good}"]  # a good record's form is unchanged
    assert records[f"dataset/{good}"]["name"] == "corpus"
    assert "nested too deeply" in records[f"dataset/{nested}"]["error"]
    assert records[f"dataset/{nested}"]["metadata"] is None
    assert records[f"dataset/{boom}"]["datapointCount"] == 1  # the on-chain fields are all there

    cli("show", f"dataset/{nested}").assert_user_error(f"dataset/{nested}: ", "nested too deeply")
    shown = cli("show", f"dataset/{good}")
    assert shown.code == 0, shown.stderr


def test_a_nested_manifest_is_refused_in_one_line(cli, registries, tiny_model) -> None:
    manifest = to_uri(registries.store.put(NESTED))
    metadata = _model_metadata()
    metadata["modelmint"]["manifest"] = manifest
    token = _model_with(registries, _json(metadata), "nested manifest")
    cli("model", "verify", str(tiny_model), "--token", str(token)).assert_user_error(
        f"the manifest {manifest} is not a JSON document modelmint can read", "nested too deeply"
    )


def test_metadata_of_the_wrong_shape_or_types_is_that_records_error(registries, deployed) -> None:
    good_dataset = commit_dataset(registries, SAMPLE / "train.jsonl").token_id
    valid = json.loads(
        registries.store.get(parse_uri(registries.dataset_contract.record(good_dataset).metadata_uri))
    )
    wrong_count = {**valid, "modelmint": {**valid["modelmint"], "datapointCount": "256"}}
    bad_datasets = {
        _dataset_with(registries, b'{"modelmint": "boom"}', "boom"): "modelmint is a string, not an object",
        _dataset_with(registries, _json({**valid, "name": 7}), "name"): "name is a number, not a string",
        _dataset_with(registries, _json(wrong_count), "count", 256): "modelmint.datapointCount is a string",
        _dataset_with(registries, b"[1, 2]", "array"): "is an array, not a JSON object",
        _dataset_with(registries, b'{"a": 1, "a": 2}', "twice"): 'repeats the key "a"',
    }
    good_model = _model_with(registries, _json(_model_metadata(architecture="LlamaForCausalLM")), "good")
    bad_models = {
        _model_with(registries, b'{"modelmint": "boom"}', "boom"): "modelmint is a string, not an object",
        _model_with(registries, _json(_model_metadata(architecture=5)), "arch"): (
            "modelmint.model.architecture is a number, not a string"
        ),
        _model_with(registries, _json(_model_metadata(specialTokens=["<s>"])), "special"): (
            "modelmint.model.specialTokens is an array, not an object"
        ),
    }

    records = {r.ref: r for r in list_records(registries)}
    assert records[f"dataset/{good_dataset}"].error is None
    assert records[f"model/{good_model}"].error is None
    assert records[f"model/{good_model}"].architecture == "LlamaForCausalLM"
    for kind, bad in (("dataset", bad_datasets), ("model", bad_models)):
        for token, needle in bad.items():
            record = records[f"{kind}/{token}"]
            assert record.error is not None, record
            assert record.error.startswith(f"the metadata of {kind} {token} (ipfs://"), record.error
            assert needle in record.error, record.error
            assert record.metadata is None
            assert record.name is None
            record.row(), record.to_json()  # the CSV row and the JSON form of a bad record, too
            assert show(registries, f"{kind}/{token}").error == record.error

    # Lineage needs only names: a hostile token has none, and nothing fails.
    boom_model = next(iter(bad_models))
    assert lineage(registries, boom_model).name is None

    # Readers that need the metadata refuse it in one IntegrityError naming the field.
    count_token = next(t for t, n in bad_datasets.items() if "datapointCount" in n)
    with pytest.raises(IntegrityError, match=r"modelmint\.datapointCount is a string, not a whole number"):
        verify_datapoints(registries, SAMPLE / "member.jsonl", count_token)


def test_oversize_metadata_and_leaf_lists_are_never_read_whole(registries, deployed) -> None:
    big = _json({"name": "x" * METADATA_MAX_BYTES})
    too_big = _dataset_with(registries, big, "big")
    (record,) = [r for r in list_records(registries) if r.token_id == too_big]
    assert f"serves more than {METADATA_MAX_BYTES:,} bytes" in (record.error or ""), record.error

    # A leaf list far longer than the one datapoint its record claims is cut off by the count.
    leaves = to_uri(registries.store.put(b"\x07" * 32 * 4097))
    metadata = {"modelmint": {"format": "jsonl", "hashScheme": "x", "leaves": leaves, "datapointCount": 1}}
    one = _dataset_with(registries, _json(metadata), "long leaves", count=1)
    with pytest.raises(IntegrityError, match=f"serves more than {32 + (64 << 10):,} bytes"):
        verify_datapoints(registries, SAMPLE / "member.jsonl", one)


TINY = {
    "vocab_size": 2048, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2,
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_fingerprint() -> huref.Fingerprint:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**TINY)).eval()
    return huref.fingerprint(model, token_set=TokenSet(tuple(range(100, 612)), "0xtest", "test"))


def test_identify_refuses_each_bad_candidate_and_ranks_the_good_one(
    registries, deployed, tiny_fingerprint
) -> None:
    fp, store, models = tiny_fingerprint, registries.store, registries.model_contract

    def commit(label: str, data: bytes | None, uri: str | None = None) -> int:
        token = _model_with(registries, b"{}", label)
        uri = uri or to_uri(store.put(data or b""))
        commitment = hashlib.sha256(data).digest() if data is not None else b"\x22" * 32
        models.commit_fingerprint(token, FingerprintKind.HuRef, commitment, uri)
        return token

    def bundle(change) -> bytes:
        header = fp.header()
        change(header)
        return _bundle.encode(header, fp.sketch)

    def negative(header) -> None:
        header["sketch"]["terms"] *= -1
        header["sketch"]["entries"] *= -1

    def strings(header) -> None:
        header["vector"]["values"] = [str(v) for v in header["vector"]["values"]]

    def short_vector(header) -> None:
        header["vector"].update(dim=3, values=[0.1, 0.2, 0.3])

    good = commit("good", fp.to_bundle())
    refused = {
        commit("negative shape", bundle(negative)): "sketch.terms is negative",
        commit("strings", bundle(strings)): "vector.values[0] is a string, not a number",
        commit("short vector", bundle(short_vector)): "its vector has 3 values and dim 3, not 512",
        commit("nested header", _bundle.MAGIC + len(NESTED).to_bytes(4, "big") + NESTED): "nested too deeply",
        commit(
            "unserved", None, to_uri(cid_of_bytes(b"a bundle nobody serves"))
        ): "is not in the local store",
    }

    found = identify(registries, fp)
    assert [c.token_id for c in found.ranking] == [good]
    assert found.ranking[0].ics == pytest.approx(1.0, abs=1e-3)
    assert found.likely_base is not None
    assert found.likely_base.token_id == good
    reasons = {r.token_id: r.reason for r in found.refused}
    assert set(reasons) == set(refused)
    for token, needle in refused.items():
        assert reasons[token].startswith(f"the HuRef fingerprint of model {token} (ipfs://"), reasons[token]
        assert needle in reasons[token], reasons[token]


def test_every_field_of_a_bundle_header_is_checked() -> None:
    """The decoder names the field for each wrong type a hostile header can carry."""
    sketch = np.zeros((6, 4), dtype=np.float16)
    ids = list(range(8))
    header = {
        "schema": _bundle.SCHEMA,
        "method": {"layers": "last2"},
        "model": {"architecture": "A", "modelType": "a", "layers": 2, "hiddenSize": 4, "vocabSize": 8,
                  "layerIndices": [0, 1]},
        "tokens": {"count": 8, "ranking": "r", "vocabSha256": "v", "ids": ids,
                   "idsSha256": ids_sha256(ids)},
        "vector": {"dim": 512, "values": [0.5] * 512},
        "sketch": {"terms": 6, "entries": 4, "encoding": _bundle.SKETCH_ENCODING},
    }  # fmt: skip
    assert huref.read_bundle(_bundle.encode(header, sketch), "b").sketch.shape == (6, 4)
    cases = {
        "model.layerIndices[1] is a string": ("model", "layerIndices", [0, "1"]),
        "model.hiddenSize is negative": ("model", "hiddenSize", -4),
        "tokens.ids is an object, not an array": ("tokens", "ids", {}),
        "method.layers is a number, not a string": ("method", "layers", 2),
        "image.uri is an array, not a string": ("image", "uri", []),
        "a vector value is too large for float32": ("vector", "values", [1e300] * 512),
        "a sketch of 6 x 4 is not 3 terms for each of its 3 layers": ("model", "layerIndices", [0, 1, 2]),
    }
    for needle, (part, key, value) in cases.items():
        broken = json.loads(json.dumps(header))
        broken.setdefault(part, {})[key] = value
        with pytest.raises(IntegrityError, match="is not a modelmint HuRef fingerprint") as refused:
            huref.read_bundle(_bundle.encode(broken, sketch), "b")
        assert needle in refused.value.problem, refused.value.problem


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (NESTED, "nested too deeply"),
        (b'{"a": 1, "a": 2}', 'repeats the key "a"'),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": 1e999}', "a number too large for a double"),
        (b'{"a": "\\ud800"}', "not valid Unicode"),
        (b'{"\\udc00": 1}', "not valid Unicode"),
        (b"\xff{}", "not UTF-8"),
        ('{"a": "é"}'.encode("utf-16"), "not UTF-8"),
        (b'{"a": 1,}', "invalid JSON"),
        (b"1" * 5000, "invalid JSON"),  # past Python's int-conversion limit
        (b"[" + b"0," * 600 + b"0]", "more than the 1,000 a document"),
    ],
)
def test_parse_document_refuses_in_one_error_naming_the_document(data: bytes, needle: str) -> None:
    with pytest.raises(IntegrityError) as refused:
        parse_document(
            data, what="the metadata of dataset 9 (ipfs://x)", max_bytes=1000 if len(data) < 2000 else 1 << 20
        )
    assert refused.value.problem.startswith("the metadata of dataset 9 (ipfs://x) is"), refused.value.problem
    assert needle in refused.value.problem, refused.value.problem
