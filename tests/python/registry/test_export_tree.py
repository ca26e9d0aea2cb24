"""The exported tree, loaded by the real @openzeppelin/merkle-tree: same root, proofs, multiproofs."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from modelmint.errors import InputError
from modelmint.hashing import MerkleTree, decode_leaf_list
from modelmint.registry import commit_dataset, export_tree, prove_datapoints
from modelmint.registry import datasets as registry
from modelmint.storage import parse_uri
from tests_support import REPO, run_node

SCRIPT = Path(__file__).with_name("oz_load.js")

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (REPO / "node_modules/@openzeppelin/merkle-tree").is_dir(),
    reason="needs node and node_modules/@openzeppelin/merkle-tree (make deps)",
)


def _openzeppelin(dump: Path, proofs: list[int], multiproof: list[int]) -> dict:
    return run_node(SCRIPT, {"dump": str(dump), "proofs": proofs, "multiproof": multiproof})


def _hex(items) -> list[str]:
    return ["0x" + bytes(x).hex() for x in items]


@needs_node
def test_openzeppelin_loads_the_dump_and_gets_the_same_root_and_proofs(
    chain, store, deployed, cli, tmp_path, registries
):
    # 300 rows, 40 of them repeats: duplicates must keep their positions in the dump too.
    rows = [f'{{"i": {i % 260}}}' for i in range(300)]
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(rows) + "\n")
    committed = commit_dataset(registries, data)
    dump = tmp_path / "tree.json"
    result = cli(
        "dataset", "export-tree", "--token", str(committed.token_id), "--format", "oz", "--out", str(dump)
    )
    assert result.code == 0, result.stderr
    assert cli("dataset", "export-tree", str(data), "--out", str(tmp_path / "local.json")).code == 0
    assert (tmp_path / "local.json").read_bytes() == dump.read_bytes()

    parsed = json.loads(dump.read_text())
    assert parsed["format"] == "standard-v1"
    assert parsed["leafEncoding"] == ["bytes32"]
    assert len(parsed["tree"]) == 2 * 300 - 1
    assert len(parsed["values"]) == 300

    tree = MerkleTree.build(decode_leaf_list(store.get(parse_uri(committed.leaves_uri))))
    positions = [0, 1, 17, 259, 260, 299]
    chosen = [3, 261, 1, 150, 42, 299]  # 261 repeats row 1's datapoint
    oz = _openzeppelin(dump, positions, chosen)
    assert oz["verified"]
    assert oz["length"] == 300
    assert oz["root"] == committed.merkle_root == "0x" + tree.root.hex()
    assert oz["proofs"] == [_hex(tree.proof(p)) for p in positions]
    ours = tree.multiproof(chosen)
    assert oz["multiproof"] == {
        "leaves": _hex(ours.leaves),
        "proof": _hex(ours.proof),
        "proofFlags": list(ours.proof_flags),
    }

    # And the proof files agree with OpenZeppelin's proofs.
    single = prove_datapoints(registries, committed.token_id, positions=[17])
    assert list(single.proof) == oz["proofs"][2]
    multi = prove_datapoints(registries, committed.token_id, positions=chosen)
    assert list(multi.datapoint_hashes) == oz["multiproof"]["leaves"]
    assert list(multi.proof) == oz["multiproof"]["proof"]


def test_trees_over_the_limit_are_refused_before_they_are_built(
    chain, store, deployed, monkeypatch, tmp_path, registries
):
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(f"{i}\n" for i in range(9)))
    committed = commit_dataset(registries, data)
    monkeypatch.setattr(registry, "MAX_EXPORT_LEAVES", 8)
    monkeypatch.setattr(registry.MerkleTree, "build", None)  # building would fail loudly
    out = io.StringIO()
    with pytest.raises(
        InputError, match=r"has 9 datapoints, more than the 8 an OpenZeppelin tree dump is made for"
    ):
        export_tree(out, registries=registries, token_id=committed.token_id)
    with pytest.raises(InputError, match="more than the 8"):
        export_tree(out, path=data)
    assert out.getvalue() == ""


@pytest.mark.slow
def test_the_cli_refuses_more_than_2_to_the_20_leaves_in_one_line(cli, anvil, tmp_path):
    data = tmp_path / "big.jsonl"
    data.write_text("".join(f"{i}\n" for i in range(2**20 + 1)))
    out = tmp_path / "tree.json"
    cli("dataset", "export-tree", str(data), "--out", str(out)).assert_user_error(
        "has 1,048,577 datapoints, more than the 1,048,576", "modelmint dataset prove"
    )
    assert not out.exists()


def test_export_needs_one_source(cli, anvil):
    cli("dataset", "export-tree").assert_user_error("give either a token or a dataset path")
    assert cli("dataset", "export-tree", "--token", "1", "--format", "csv").code == 2
