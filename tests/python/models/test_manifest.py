"""The weights manifest: its tree against the real @openzeppelin/merkle-tree, the doc's worked
example, proofs, the stored file and comparisons."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode

from modelmint.errors import InputError, IntegrityError
from modelmint.hashing import keccak256
from modelmint.models import ManifestEntry, WeightsManifest, open_model
from tests_support import run_node

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "hashing.md"
SCRIPT = Path(__file__).with_name("oz_manifest.js")
needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (REPO / "node_modules/@openzeppelin/merkle-tree").is_dir(),
    reason="needs node and node_modules/@openzeppelin/merkle-tree (make deps)",
)


def _entry(path: str, size: int = 10) -> ManifestEntry:
    return ManifestEntry(path, hashlib.sha256(path.encode()).digest(), size)


CASES = [
    [_entry("model.gguf", 98_362_432)],
    [_entry("config.json", 700), _entry("model.safetensors", 2**40 + 3)],
    [_entry(p, i) for i, p in enumerate(["a", "B.txt", "a/b.txt", "é/ü.json", "x" * 31, "y" * 32, "z" * 33])],
    [_entry(f"model-{i:05d}-of-00009.safetensors", 5 * 10**9 + i) for i in range(9)]
    + [_entry("config.json", 0)],
]


@needs_node
def test_root_and_proofs_match_openzeppelin():
    request = [[[e.path, "0x" + e.sha256.hex(), str(e.size)] for e in case] for case in CASES]
    for case, reference in zip(CASES, run_node(SCRIPT, request), strict=True):
        manifest = WeightsManifest.of(case)
        assert "0x" + manifest.root.hex() == reference["root"]
        for entry, proof in zip(case, reference["proofs"], strict=True):
            assert ["0x" + p.hex() for p in manifest.proof(entry.path)] == proof


@pytest.mark.parametrize("case", range(len(CASES)))
def test_leaf_is_abi_encode_hashed_twice(case):
    for e in CASES[case]:
        assert e.encoded() == abi_encode(["string", "bytes32", "uint256"], [e.path, e.sha256, e.size])
        assert e.leaf() == keccak256(keccak256(e.encoded()))


def test_every_proof_verifies_and_a_changed_entry_does_not():
    manifest = WeightsManifest.of(CASES[3])
    for e in manifest.files:
        proof = manifest.proof(e.path)
        assert WeightsManifest.verify_proof(manifest.root, e, proof)
        assert not WeightsManifest.verify_proof(
            manifest.root, ManifestEntry(e.path, e.sha256, e.size + 1), proof
        )
        assert not WeightsManifest.verify_proof(
            manifest.root, ManifestEntry(e.path + "x", e.sha256, e.size), proof
        )
    with pytest.raises(InputError, match="no file nope"):
        manifest.proof("nope")


def test_order_of_entries_does_not_matter_and_paths_sort_as_utf8_bytes():
    entries = CASES[2]
    assert WeightsManifest.of(entries).root == WeightsManifest.of(entries[::-1]).root
    assert [e.path for e in WeightsManifest.of(entries).files][:3] == ["B.txt", "a", "a/b.txt"]
    with pytest.raises(ValueError, match="must be sorted by path"):
        WeightsManifest(tuple(entries[::-1]))


def test_stored_manifest_round_trips_and_a_tampered_one_is_refused():
    manifest = WeightsManifest.of(CASES[1])
    assert WeightsManifest.from_json(manifest.canonical()) == manifest
    doc = json.loads(manifest.canonical())
    doc["files"][0]["size"] += 1
    with pytest.raises(IntegrityError, match="states root"):
        WeightsManifest.from_json(json.dumps(doc).encode())
    with pytest.raises(IntegrityError, match=r"not a modelmint\.model-manifest\.v1"):
        WeightsManifest.from_json(b'{"schema": "something else"}')
    with pytest.raises(IntegrityError):
        WeightsManifest.from_json(b"not json")


def test_compare_names_differing_missing_and_extra_files():
    expected = WeightsManifest.of(
        [_entry("config.json"), _entry("model.safetensors"), _entry("tokenizer.json")]
    )
    actual = WeightsManifest.of(
        [_entry("config.json"), ManifestEntry("model.safetensors", b"\x01" * 32, 10), _entry("extra.bin")]
    )
    diff = expected.compare(actual)
    assert [d.path for d in diff.differing] == ["model.safetensors"]
    assert diff.missing == ["tokenizer.json"]
    assert diff.extra == ["extra.bin"]
    assert expected.compare(expected).same


def test_no_files_is_refused():
    with pytest.raises(InputError, match="no files"):
        WeightsManifest(())


def test_worked_example_in_the_doc_matches_the_code(tmp_path):
    section = DOC.read_text(encoding="utf-8").split("## 8. Model weights manifest", 1)[1]
    example = section.split("### 8.8 Worked example", 1)[1]
    values: dict[str, str] = {}
    for block in re.findall(r"```\n(.*?)```", example, re.DOTALL):
        for line in block.splitlines():
            name, value = (part.strip() for part in line.split(" = ", 1))
            values[name] = value
    stored = re.search(r"```json\n(.*?)\n```", example, re.DOTALL).group(1)

    folder = tmp_path / "example"
    (folder / "tokenizer").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "config.json").write_bytes(b'{"model_type": "llama"}\n')
    (folder / "model.safetensors").write_bytes(bytes.fromhex("02000000000000007b7d"))
    (folder / "tokenizer" / "vocab.txt").write_bytes(b"hello\nworld\n")
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / ".gitattributes").write_text("*.safetensors filter=lfs\n")
    manifest = open_model(folder).manifest()

    assert [e.path for e in manifest.files] == ["config.json", "model.safetensors", "tokenizer/vocab.txt"]
    for e in manifest.files:
        assert values[f"sha256({e.path})"] == "0x" + e.sha256.hex()
        assert values[f"size({e.path})"] == str(e.size)
        assert values[f"leaf({e.path})"] == "0x" + e.leaf().hex()
        if f"proof({e.path})" in values:
            assert (
                values[f"proof({e.path})"]
                == "[" + ", ".join("0x" + p.hex() for p in manifest.proof(e.path)) + "]"
            )
    assert values["weights root"] == values["tree[0]"] == "0x" + manifest.root.hex()
    assert len(manifest.files[0].encoded()) == 160
    assert manifest.canonical().decode() == stored
    assert f"The manifest file (§8.5), {len(manifest.canonical())} bytes" in example
