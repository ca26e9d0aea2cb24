"""docs/hashing.md's worked example, recomputed: the spec and the code must not drift."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from modelmint.datasets import hash_dataset, iter_datapoints
from modelmint.hashing import MerkleTree, encode_leaf_list, keccak256, leaf_hash

DOC = Path(__file__).resolve().parents[3] / "docs" / "hashing.md"


@pytest.fixture(scope="module")
def example() -> tuple[str, dict[str, str]]:
    """The example's JSONL input and its ``name = value`` lines."""
    section = DOC.read_text(encoding="utf-8").split("## 7. Worked example", 1)[1]
    jsonl = re.search(r"```jsonl\n(.*?)```", section, re.DOTALL)
    assert jsonl, "no ```jsonl block in the worked example"
    values: dict[str, str] = {}
    for block in re.findall(r"```text\n(.*?)```", section, re.DOTALL):
        for line in block.splitlines():
            name, value = (part.strip() for part in line.split(" = ", 1))
            values[name] = value
    return jsonl.group(1), values


def _hex(value: str) -> bytes:
    assert value.startswith("0x"), value
    return bytes.fromhex(value[2:])


def _hex_list(value: str) -> list[bytes]:
    assert value.startswith("["), value
    assert value.endswith("]"), value
    return [_hex(item.strip()) for item in value[1:-1].split(",")]


def test_worked_example_matches_the_code(example: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    text, doc = example
    path = tmp_path / "example.jsonl"
    path.write_text(text, encoding="utf-8")

    datapoints = list(iter_datapoints(path))
    digest = hash_dataset(path)
    assert digest.count == 3
    hashes = [digest.hash_at(i) for i in range(3)]
    for i, (label, data) in enumerate(datapoints):
        assert label == f"line {i + 1}"
        assert doc[f"bytes({label})"].encode("utf-8") == data
        assert _hex(doc[f"h({label})"]) == hashes[i]
        assert _hex(doc[f"inner({label})"]) == keccak256(hashes[i])
        assert _hex(doc[f"leaf({label})"]) == leaf_hash(hashes[i])

    tree = MerkleTree.build(hashes)
    assert _hex(doc["root"]) == tree.root
    nodes = [_hex(doc[f"tree[{j}]"]) for j in range(5)]
    assert nodes[0] == tree.root
    # Every non-root node of the layout appears in some proof at the position the spec says.
    assert tree.proof(0) == [nodes[1]]
    assert tree.proof(1) == [nodes[4], nodes[2]]
    for i in range(3):
        assert _hex_list(doc[f"proof(line {i + 1})"]) == tree.proof(i)

    mp = tree.multiproof([0, 2])
    assert _hex_list(doc["multiproof(line 1, line 3).leaves"]) == list(mp.leaves)
    assert _hex_list(doc["multiproof(line 1, line 3).proof"]) == list(mp.proof)
    assert (
        doc["multiproof(line 1, line 3).proofFlags"]
        == "[" + ", ".join(str(f).lower() for f in mp.proof_flags) + "]"
    )
    assert _hex(doc["leaf list"]) == encode_leaf_list(hashes) == digest.hashes


def test_node_hash_rule_in_the_example(example: tuple[str, dict[str, str]]) -> None:
    """tree[1] = keccak256(tree[4] || tree[3]), the smaller node first, as the text says."""
    _, doc = example
    t = {j: _hex(doc[f"tree[{j}]"]) for j in range(5)}
    assert t[4] < t[3]
    assert t[1] == keccak256(t[4] + t[3])
    assert t[0] == keccak256(min(t[1], t[2]) + max(t[1], t[2]))


def _edge_cases() -> list[tuple[str, str, str]]:
    section = DOC.read_text(encoding="utf-8").split("### 7.2 Reader edge cases", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (CSV|JSONL) \| `(.*?)` \| (.*?) \|$", section, re.MULTILINE)
    assert len(rows) >= 5, rows
    return rows


@pytest.mark.parametrize(("fmt", "printf", "expected"), _edge_cases(), ids=lambda v: str(v)[:24])
def test_reader_edge_cases_match_the_spec(fmt: str, printf: str, expected: str, tmp_path: Path) -> None:
    from modelmint.errors import InputError

    data = printf.encode().decode("unicode_escape").encode("utf-8")  # the printf escapes \n \r
    path = tmp_path / ("edge.csv" if fmt == "CSV" else "edge.jsonl")
    path.write_bytes(data)
    if expected.startswith("refused"):
        with pytest.raises(InputError, match=r"bare CR|new-line character"):
            list(iter_datapoints(path))
        with pytest.raises(InputError):
            hash_dataset(path)
        return
    want = expected.strip("`").encode()  # canonical JSON: a CR is the two characters \r
    ((_, got),) = list(iter_datapoints(path))
    assert got == want
    assert hash_dataset(path).hash_at(0) == hashlib.sha256(want).digest()


def test_an_extension_column_hashes_alike_with_and_without_datasets_imported(tmp_path: Path) -> None:
    """docs/hashing.md §7.2: an Array2D column is its storage type in every process."""
    import subprocess
    import sys

    datasets = pytest.importorskip("datasets.features.features")
    import pyarrow as pa
    import pyarrow.parquet as pq

    storage = pa.list_(pa.list_(pa.int32()))
    array2d = datasets.Array2DExtensionType((2, 2), "int32")
    column = pa.ExtensionArray.from_storage(array2d, pa.array([[[1, 2], [3, 4]]], type=storage))
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"m": column}), path)
    ((_, here),) = list(iter_datapoints(path))
    assert here == b'{"m":[[1,2],[3,4]]}'
    script = (
        "import sys; from pathlib import Path; from modelmint.datasets import iter_datapoints; "
        f"(_, data), = iter_datapoints(Path({str(path)!r})); assert 'datasets' not in sys.modules; "
        "sys.stdout.write(data.decode())"
    )
    elsewhere = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert elsewhere.stdout.encode() == here
