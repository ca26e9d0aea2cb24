"""The page's hashing, run in Chromium, against docs/ and the Python implementation.

Every worked example in docs/hashing.md (§1.1 numbers, §1.3 CSV, §1.5 the empty file, §7 the
dataset, §8.8 the model manifest) and docs/content-store.md (CIDs), then 10,000 random JSONL
rows, CSV rows and files whose hashes must equal what modelmint's Python code computes.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

import pytest

from modelmint.datasets import hash_dataset
from modelmint.errors import InputError
from modelmint.hashing import canonicalize_json_text
from modelmint.storage.cid import cid_of_bytes

DOCS = Path(__file__).resolve().parents[3] / "docs"


@pytest.fixture(scope="module")
def lib(browser, tmp_path_factory):
    """A page with the built bundle loaded (no server needed: the file is self-contained)."""
    from modelmint.web.server import page_dir

    context = browser.new_context()
    page = context.new_page()
    page.goto((page_dir() / "index.html").as_uri())
    page.wait_for_selector("body[data-ready=true]")
    yield page
    context.close()


def js(page, expression: str, arg=None):
    return page.evaluate(f"(arg) => {{ const L = window.modelmintLib; {expression} }}", arg)


def test_worked_dataset_example_of_hashing_md(lib):
    section = (DOCS / "hashing.md").read_text().split("## 7. Worked example", 1)[1].split("## 8.", 1)[0]
    text = re.search(r"```jsonl\n(.*?)```", section, re.DOTALL).group(1)
    doc = {}
    for block in re.findall(r"```text\n(.*?)```", section, re.DOTALL):
        for line in block.splitlines():
            name, value = (p.strip() for p in line.split(" = ", 1))
            doc[name] = value
    got = js(
        lib,
        """
        const points = L.jsonlDatapoints("example.jsonl", arg);
        const hashes = points.map((p) => L.datapointHash(p.bytes));
        const tree = new L.Tree(hashes.map(L.datasetLeaf));
        const m = tree.multiProof([0, 2]);
        return {
          bytes: points.map((p) => new TextDecoder().decode(p.bytes)),
          h: hashes.map(L.hex), leaf: hashes.map((h) => L.hex(L.datasetLeaf(h))),
          nodes: tree.nodes.map(L.hex), proofs: [0, 1, 2].map((i) => tree.proof(i).map(L.hex)),
          multi: { leaves: m.order.map((i) => L.hex(hashes[i])), proof: m.proof.map(L.hex), flags: m.proofFlags },
          list: L.hex(Uint8Array.from(hashes.flatMap((h) => [...h]))),
        };
        """,
        text,
    )
    for i in range(3):
        label = f"line {i + 1}"
        assert got["bytes"][i] == doc[f"bytes({label})"]
        assert got["h"][i] == doc[f"h({label})"]
        assert got["leaf"][i] == doc[f"leaf({label})"]
        assert "[" + ", ".join(got["proofs"][i]) + "]" == doc[f"proof({label})"]
    assert got["nodes"] == [doc[f"tree[{j}]"] for j in range(5)]
    assert got["nodes"][0] == doc["root"]
    assert "[" + ", ".join(got["multi"]["leaves"]) + "]" == doc["multiproof(line 1, line 3).leaves"]
    assert "[" + ", ".join(got["multi"]["proof"]) + "]" == doc["multiproof(line 1, line 3).proof"]
    assert json.dumps(got["multi"]["flags"]).replace(" ", "") == doc[
        "multiproof(line 1, line 3).proofFlags"
    ].replace(" ", "")
    assert got["list"] == doc["leaf list"]


@pytest.mark.parametrize(
    ("literal", "canonical"),
    [
        ("1.0", "1"),
        ("-0", "0"),
        ("2.50", "2.5"),
        ("1e21", "1e+21"),
        ("1E-7", "1e-7"),
        ("0.000001", "0.000001"),
    ],
)
def test_number_examples_of_section_1_1(lib, literal, canonical):
    assert js(lib, "return new TextDecoder().decode(L.canonicalText(arg));", literal) == canonical


def test_csv_example_of_section_1_3(lib):
    got = js(
        lib,
        'return L.csvDatapoints("x.csv", arg).map((p) => new TextDecoder().decode(p.bytes));',
        "text,label\na,1\n",
    )
    assert got == ['{"label":"1","text":"a"}']


def test_empty_file_of_section_1_5(lib):
    got = js(
        lib, 'return L.hex(L.datapointHash(L.datapointsOf("empty", new Uint8Array(), "file")[0].bytes));'
    )
    assert got == "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_manifest_example_of_section_8_8(lib):
    section = (DOCS / "hashing.md").read_text().split("### 8.8 Worked example", 1)[1]
    doc = dict(
        (p.strip() for p in line.split(" = ", 1))
        for line in re.findall(r"^(?:sha256|size|leaf|tree|weights root)[^\n]*", section, re.MULTILINE)
    )
    files = {
        "config.json": b'{"model_type": "llama"}\n',
        "model.safetensors": bytes.fromhex("02000000000000007b7d"),
        "tokenizer/vocab.txt": b"hello\nworld\n",
    }
    entries = [
        {"path": p, "sha256": "0x" + hashlib.sha256(b).hexdigest(), "size": len(b)} for p, b in files.items()
    ]
    got = js(
        lib,
        """
        const e = arg.map((x) => ({ path: x.path, sha256: L.unhex(x.sha256), size: x.size }));
        return { leaves: e.map((x) => L.hex(L.manifestLeaf(x))), root: L.hex(L.weightsRoot(e)) };
        """,
        entries,
    )
    for path, leaf in zip(files, got["leaves"], strict=True):
        assert leaf == doc[f"leaf({path})"]
        assert "0x" + hashlib.sha256(files[path]).hexdigest() == doc[f"sha256({path})"]
    assert got["root"] == doc["weights root"]


@pytest.mark.parametrize(
    ("size", "cid"),
    [
        (0, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
        (262_144, "bafkreiekhhjkxu4ztk3tyng3er3ijhg56mb44oe3gwbgquhzu4afrg2ksa"),
        (1, "bafkreidogqfzz75tpkmjzjke425xqcrmpcib2p5tg44hnbirumdbpl5adu"),
        (262_145, "bafybeigllfqgfpqydppr6cmv56g7ax4wyhruzswvcefv6j5kj77nzttfki"),
    ],
)
def test_cid_examples_of_content_store_md(lib, size, cid):
    assert js(lib, "return L.cidOf(new Uint8Array(arg));", size) == cid


def test_cids_of_large_layouts_match_python(lib):
    # 174 leaves (one node) and 175 (two levels): the balanced layout's edges.
    for size in (174 * 262_144, 174 * 262_144 + 1):
        expected = cid_of_bytes(bytes(size))
        assert js(lib, "return L.cidOf(new Uint8Array(arg));", size) == expected


# --- random cross-checks with the Python implementation -------------------------------------

ALPHABET = "aZ09 _-/\\\"'\t\n\r\b\f\x00\x1f\x7f é€ñ中文\u2028\u2029\U0001f600\ufeff,"


def _string(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))


def _number(rng: random.Random):
    kind = rng.randint(0, 4)
    if kind == 0:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if kind == 1:
        return rng.randint(-1000, 1000)
    if kind == 2:
        return rng.uniform(-1e6, 1e6)
    if kind == 3:
        return rng.choice(
            [1e21, 1e-7, 5e-324, 1.7976931348623157e308, 0.1, 100.0, -0.0, 123456789012345680000.0]
        )
    return float(rng.randint(-(10**6), 10**6)) / rng.choice([1, 10, 1000, 3])


def _value(rng: random.Random, depth: int = 0):
    kind = rng.randint(0, 6 if depth < 3 else 3)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return _number(rng)
    if kind in (2, 3):
        return _string(rng)
    if kind == 4:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_string(rng) or f"k{i}": _value(rng, depth + 1) for i in range(rng.randint(0, 5))}


def _spell(value, rng: random.Random) -> str:
    """A JSON text of ``value`` with random whitespace, escapes and number spellings."""

    def ws() -> str:
        return rng.choice(["", "", " ", "\t", "  "])

    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return (
            "{"
            + ws()
            + ",".join(
                f"{ws()}{json.dumps(k, ensure_ascii=rng.random() < 0.5)}{ws()}:{ws()}{_spell(v, rng)}"
                for k, v in items
            )
            + ws()
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(ws() + _spell(v, rng) + ws() for v in value) + "]"
    if isinstance(value, float) and rng.random() < 0.3:
        return repr(value).replace("e+", rng.choice(["e+", "E+", "e"]))
    if isinstance(value, int) and not isinstance(value, bool) and rng.random() < 0.2:
        return f"{value}.0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=rng.random() < 0.5)
    return json.dumps(value)


def test_10000_random_jsonl_rows_hash_as_in_python(lib, tmp_path):
    rng = random.Random(12)
    lines = [_spell(_value(rng), rng) for _ in range(10_000)]
    text = "\n".join(line + rng.choice(["", "", " ", "\r"]) for line in lines) + "\n"
    path = tmp_path / "random.jsonl"
    path.write_text(text, encoding="utf-8")
    digest = hash_dataset(path)
    expected = [digest.hash_at(i).hex() for i in range(digest.count)]
    got = js(
        lib,
        'return L.jsonlDatapoints("random.jsonl", arg).map((p) => L.hex(L.datapointHash(p.bytes)).slice(2));',
        text,
    )
    assert len(got) == len(expected) == 10_000
    mismatches = [(i, lines[i]) for i in range(10_000) if got[i] != expected[i]]
    assert not mismatches, mismatches[:3]


def test_10000_random_csv_rows_hash_as_in_python(lib, tmp_path):
    rng = random.Random(13)
    cells = "ab ,\"\n\r\té€\U0001f600'"

    def field() -> str:
        raw = "".join(rng.choice(cells) for _ in range(rng.randint(0, 6)))
        if (
            any(c in raw for c in ',"\n\r')
            or (raw.startswith(" ") and rng.random() < 0.5)
            or rng.random() < 0.2
        ):
            return '"' + raw.replace('"', '""') + '"'
        return raw

    header = ["text", "label", "note"]
    rows = [",".join(field() for _ in header) for _ in range(10_000)]
    text = ",".join(header) + "\r\n" + "".join(row + rng.choice(["\n", "\r\n"]) for row in rows)
    path = tmp_path / "random.csv"
    path.write_bytes(text.encode("utf-8"))
    digest = hash_dataset(path)
    expected = [digest.hash_at(i).hex() for i in range(digest.count)]
    got = js(
        lib,
        'return L.csvDatapoints("random.csv", arg).map((p) => L.hex(L.datapointHash(p.bytes)).slice(2));',
        text,
    )
    assert len(got) == len(expected) == 10_000
    assert got == expected


def test_10000_random_files_hash_and_cid_as_in_python(lib):
    rng = random.Random(14)
    blobs = [rng.randbytes(rng.choice([0, 1, 31, 32, 33, 1000, rng.randint(0, 5000)])) for _ in range(10_000)]
    got = js(
        lib,
        """
        return arg.map((h) => { const b = L.unhex(h); return [L.hex(L.datapointHash(L.datapointsOf("f", b, "file")[0].bytes)).slice(2), L.cidOf(b)]; });
        """,
        [b.hex() for b in blobs],
    )
    assert got == [[hashlib.sha256(b).hexdigest(), cid_of_bytes(b)] for b in blobs]


@pytest.mark.parametrize(
    "line",
    [
        '{"a": 1, "a": 2}',
        "9007199254740992",
        "[NaN]",
        "1e999",
        '"\\ud800"',
        "[1,]",
        "{'a': 1}",
        "[" * 600 + "]" * 600,
    ],
)
def test_rows_python_refuses_the_page_refuses(lib, line):
    with pytest.raises(InputError):
        canonicalize_json_text(line)
    error = js(
        lib, "try { L.canonicalText(arg); return null; } catch (e) { return String(e.message); }", line
    )
    assert error


@pytest.mark.parametrize("n", [1, 2, 7, 4097])
def test_random_trees_proofs_and_multiproofs_as_in_python(lib, n):
    from modelmint.hashing import MerkleTree

    rng = random.Random(n)
    # Repeats (and, at 4097, leaves whose leading 4 bytes tie are unlikely but repeats are certain).
    pool = [rng.randbytes(32) for _ in range(max(1, n // 3))]
    hashes = [rng.choice(pool) for _ in range(n)]
    tree = MerkleTree.build(hashes)
    chosen = sorted(rng.sample(range(n), min(n, 5)))
    distinct = sorted({min(tree.values_for(hashes[p])) for p in chosen})
    multi = tree.multiproof(distinct)
    got = js(
        lib,
        """
        const hashes = arg.hashes.map(L.unhex);
        const tree = new L.Tree(hashes.map(L.datasetLeaf));
        const m = tree.multiProof(arg.distinct);
        return {
          root: L.hex(tree.root),
          proofs: arg.chosen.map((p) => tree.proof(p).map(L.hex)),
          found: arg.chosen.map((p) => tree.find(L.datasetLeaf(hashes[p]))),
          multi: { positions: m.order, proof: m.proof.map(L.hex), flags: m.proofFlags },
        };
        """,
        {"hashes": ["0x" + h.hex() for h in hashes], "chosen": chosen, "distinct": distinct},
    )
    assert got["root"] == "0x" + tree.root.hex()
    assert got["proofs"] == [["0x" + p.hex() for p in tree.proof(c)] for c in chosen]
    assert got["found"] == [min(tree.values_for(hashes[c])) for c in chosen]
    assert got["multi"]["proof"] == ["0x" + p.hex() for p in multi.proof]
    assert got["multi"]["flags"] == list(multi.proof_flags)
