"""Dataset commitments at scale: modelmint beside the raw limits and @openzeppelin/merkle-tree.

Run by `make bench` (or `.venv/bin/python bench/datasets.py [--quick]`). In one run on one
machine it measures:

- the raw limits: hashlib SHA-256 over the same bytes, and the fastest Keccak-256 callable
  from Python (pycryptodome, eth-hash, safe-pysha3 when installed) over as many calls as
  the tree has hashes;
- modelmint end to end on 1M JSONL rows of about 200 bytes (digest and tree) beside the
  Python-only canonical route it replaced (timed on 200,000 rows, one core), the tree
  alone on 1M leaves, and a folder of 2,000 files of 1 MB;
- @openzeppelin/merkle-tree building the same 1M-leaf tree in Node, once;
- peak memory, and the 10-million-datapoint bound: a 10M-leaf tree and a 10M-line JSONL.

Every measurement runs in a fresh Python process, so each peak RSS is that step's own.
Inputs are generated deterministically under bench/.data/ (gitignored) and reused.
``--quick`` skips the Node run and the 10M steps. Writes the ``datasets`` section of
docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, peak_rss_mib, publish, today

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
N = 1_000_000
BIG = 10_000_000
FILES, FILE_SIZE = 2_000, 1_000_000
OZ_TIMEOUT = 600
PYTHON_ROUTE_ROWS = 200_000  # rows timed on the Python-only route (before the C route)
KECCAK_SAMPLE = 300_000  # calls timed per library; the tree's 3n - 1 calls are scaled from it

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "that",
    "with",
    "as",
    "by",
    "at",
    "from",
    "his",
    "her",
    "an",
    "which",
    "or",
    "be",
    "this",
    "are",
    "had",
    "not",
    "but",
    "were",
    "they",
    "dataset",
    "model",
    "provenance",
    "chain",
    "token",
    "merkle",
    "proof",
    "leaf",
    "root",
    "hash",
    "commit",
    "verify",
    "weights",
    "lineage",
    "fingerprint",
]


# Inputs, generated once and reused; all deterministic.


def jsonl_rows(path: Path, rows: int) -> Path:
    if path.exists():
        return path
    rng = random.Random(rows)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(rows):
            text = " ".join(rng.choices(WORDS, k=22))
            row = {
                "id": i,
                "text": text,
                "label": rng.randrange(10),
                "score": rng.randrange(1000) / 1000,
                "lang": "en",
                "split": "train",
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.rename(path)
    return path


def hash_list(path: Path, count: int) -> Path:
    if not path.exists():
        rng, tmp = random.Random(count), path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.writelines(
                rng.randbytes(32 * min(1 << 20, count - start)) for start in range(0, count, 1 << 20)
            )
        tmp.rename(path)
    return path


def folder(path: Path) -> Path:
    if (path / "done").exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    rng = random.Random(FILES)
    for i in range(FILES):
        target = path / f"{i % 20:02d}" / f"{i:05d}.bin"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rng.randbytes(FILE_SIZE))
    (path / "done").write_bytes(b"")  # the marker file is one more (empty) datapoint
    return path


# Steps, each run in its own process: `python bench/datasets.py step NAME ARGS...`. Each
# times its work in wall seconds, and in CPU seconds of all its threads and worker processes.


def cpu_seconds() -> float:
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


class Timer:
    def __enter__(self) -> Timer:
        self.start, self.cpu_start = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds, self.cpu = time.perf_counter() - self.start, cpu_seconds() - self.cpu_start


def step_sha256_bytes(path: str) -> dict[str, Any]:
    """One SHA-256 over the file's bytes, read in 1 MiB blocks: the raw read + hash limit."""
    digest, buffer = hashlib.sha256(), bytearray(1 << 20)
    view = memoryview(buffer)
    with Timer() as t, open(path, "rb") as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
    return {"seconds": t.seconds, "cpu": t.cpu}


def step_sha256_rows(path: str) -> dict[str, Any]:
    """SHA-256 of each line in a Python loop: the floor of any per-row Python hashing."""
    with open(path, "rb") as f:
        data = f.read()
    sha = hashlib.sha256
    with Timer() as t:
        for line in data.split(b"\n"):
            sha(line).digest()
    return {"seconds": t.seconds, "cpu": t.cpu}


def step_jsonl_python(path: str, rows: str) -> dict[str, Any]:
    """The route before the C canonicaliser: Python's json and rfc8785 per line, one core.

    The first ``rows`` lines, hashed in this process with the C route switched off, so
    each line takes canonical.py's Python routes as it did before.
    """
    from unittest import mock

    from modelmint.hashing import canonical

    with open(path, "rb") as f:
        lines = [f.readline().decode("utf-8") for _ in range(int(rows))]
    sha = hashlib.sha256
    with mock.patch.object(canonical._jcs, "canonical", return_value=None), Timer() as t:
        for line in lines:
            sha(canonical.canonicalize_json_text(line)).digest()
    return {"seconds": t.seconds, "cpu": t.cpu, "rows": len(lines)}


def step_raw_folder(path: str, threads: str) -> dict[str, Any]:
    """Read + SHA-256 of every file with `threads` threads, no checks, no order."""
    from concurrent.futures import ThreadPoolExecutor

    files = sorted(p for p in Path(path).rglob("*") if p.is_file())

    def one(p: Path) -> bytes:
        digest, buffer = hashlib.sha256(), bytearray(1 << 20)
        view = memoryview(buffer)
        with open(p, "rb") as f:
            while n := f.readinto(buffer):
                digest.update(view[:n])
        return digest.digest()

    with Timer() as t, ThreadPoolExecutor(int(threads)) as pool:
        list(pool.map(one, files))
    return {"seconds": t.seconds, "cpu": t.cpu, "bytes": sum(p.stat().st_size for p in files)}


def step_keccak(library: str) -> dict[str, Any]:
    """Seconds a call for one Keccak-256 of 32 bytes from Python, per library."""
    data = [random.Random(i).randbytes(32) for i in range(1000)]
    if library == "pycryptodome":
        from Crypto.Hash import keccak

        def call(x: bytes) -> bytes:
            return keccak.new(digest_bits=256, data=x).digest()
    elif library == "eth-hash":
        from eth_hash.auto import keccak as call  # type: ignore[no-redef]
    elif library == "safe-pysha3":
        import sha3  # type: ignore[import-not-found]

        def call(x: bytes) -> bytes:
            return sha3.keccak_256(x).digest()
    else:  # modelmint's C function, called once per hash like the others
        from modelmint.hashing import keccak256 as call  # type: ignore[no-redef]
    rounds = KECCAK_SAMPLE // len(data)
    with Timer() as t:
        for _ in range(rounds):
            for x in data:
                call(x)
    return {"per_call": t.seconds / (rounds * len(data)), "per_call_cpu": t.cpu / (rounds * len(data))}


def step_tree(path: str) -> dict[str, Any]:
    """modelmint's tree from a leaf list file: MerkleTree.build alone is timed."""
    from modelmint.hashing import MerkleTree

    hashes = Path(path).read_bytes()
    with Timer() as t:
        tree = MerkleTree.build(hashes)
    proof = tree.proof(len(tree) // 2)
    assert MerkleTree.verify(tree.root, tree.hash_at(len(tree) // 2), proof)
    return {"seconds": t.seconds, "cpu": t.cpu, "root": "0x" + tree.root.hex()}


def step_dataset(path: str) -> dict[str, Any]:
    """modelmint end to end: hash_dataset (digest) then MerkleTree.build (root)."""
    from modelmint.datasets import hash_dataset
    from modelmint.hashing import MerkleTree

    with Timer() as t:
        with Timer() as hashing:
            digest = hash_dataset(path)
        tree = MerkleTree.build(digest.hashes)
    return {
        "seconds": t.seconds,
        "cpu": t.cpu,
        "hash_seconds": hashing.seconds,
        "tree_seconds": t.seconds - hashing.seconds,
        "count": digest.count,
        "root": "0x" + tree.root.hex(),
    }


STEPS = {
    "sha256-bytes": step_sha256_bytes,
    "sha256-rows": step_sha256_rows,
    "jsonl-python": step_jsonl_python,
    "raw-folder": step_raw_folder,
    "keccak": step_keccak,
    "tree": step_tree,
    "dataset": step_dataset,
}


def run_step(*args: str) -> dict[str, Any]:
    """Runs a step in a fresh process; adds its peak RSS and its workers' largest."""
    load = os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, __file__, "step", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=1800,
    )
    if done.returncode:
        raise RuntimeError(f"step {args} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = load
    return result


def oz_tree(path: Path) -> dict[str, Any]:
    script = """
const fs = require('fs');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const data = fs.readFileSync(process.argv[1]);
const values = [];
for (let i = 0; i < data.length; i += 32) values.push(['0x' + data.subarray(i, i + 32).toString('hex')]);
const start = process.hrtime.bigint();
const tree = StandardMerkleTree.of(values, ['bytes32']);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const usage = process.resourceUsage();
const cpu = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
console.log(JSON.stringify({ seconds, cpu, root: tree.root, rss_mib: usage.maxRSS / 1024 }));
"""
    load = os.getloadavg()[0]
    try:
        done = subprocess.run(
            ["node", "-e", script, str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=OZ_TIMEOUT,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {"timeout": OZ_TIMEOUT, "load": load}
    return {**json.loads(done.stdout), "load": load}


def keccak_libraries() -> list[str]:
    found = []
    for library, module in (("pycryptodome", "Crypto"), ("eth-hash", "eth_hash"), ("safe-pysha3", "sha3")):
        try:
            __import__(module)
            found.append(library)
        except ImportError:
            pass
    return found


def main(quick: bool) -> None:  # noqa: PLR0915 -- one measurement after another, each a few lines
    DATA.mkdir(parents=True, exist_ok=True)
    print("generating inputs under bench/.data (once) ...", flush=True)
    rows_1m = jsonl_rows(DATA / "rows-1m.jsonl", N)
    leaves_1m = hash_list(DATA / "hashes-1m.bin", N)
    files = folder(DATA / "files-2000")
    nodes = 3 * N - 1  # keccak calls in a 1M tree: two per leaf, one per internal node

    print("raw limits ...", flush=True)
    raw_bytes = run_step("sha256-bytes", str(rows_1m))
    raw_rows = run_step("sha256-rows", str(rows_1m))
    raw_folder_1 = run_step("raw-folder", str(files), "1")
    raw_folder = run_step("raw-folder", str(files), str(os.cpu_count() or 1))
    keccak = {lib: run_step("keccak", lib) for lib in [*keccak_libraries(), "modelmint"]}
    third_party = {lib: r for lib, r in keccak.items() if lib != "modelmint"}
    fastest = min(third_party, key=lambda lib: third_party[lib]["per_call"])
    fastest_tree = third_party[fastest]["per_call"] * nodes

    print("modelmint ...", flush=True)
    jsonl = run_step("dataset", str(rows_1m))
    python_route = run_step("jsonl-python", str(rows_1m), str(PYTHON_ROUTE_ROWS))
    tree = run_step("tree", str(leaves_1m))
    folder_run = run_step("dataset", str(files))

    oz = None if quick else oz_tree(leaves_1m)
    big_tree = big_jsonl = None
    if not quick:
        print("10M datapoints ...", flush=True)
        big_tree = run_step("tree", str(hash_list(DATA / "hashes-10m.bin", BIG)))
        big_jsonl = run_step("dataset", str(jsonl_rows(DATA / "rows-10m.jsonl", BIG)))

    size, folder_bytes, cores, mb = rows_1m.stat().st_size, raw_folder["bytes"], os.cpu_count() or 1, 1e6

    def row(what: str, r: dict[str, Any], rate: str, ratio: str = "", rss: bool = True) -> str:
        peak = f"{r['peak_rss_mib']:.0f} MiB" if rss else ""
        if rss and r.get("children_peak_rss_mib", 0) > 1:
            peak += f" (+ workers {r['children_peak_rss_mib']:.0f} MiB each)"
        return f"| {what} | {r['seconds']:.2f} s | {r['cpu']:.2f} s | {rate} | {ratio} | {peak} | {r['load']:.1f} |"

    def idle(count: float, r: dict[str, Any], unit: str) -> str:
        """The rate if the step's CPU time were spread over all cores of an idle machine."""
        return f"{count / (r['cpu'] / cores):,.0f} {unit}"

    lines = [
        (
            f"Machine: {machine()}. Date: {today()}. The machine was shared: the last column is the load average "
            "(1 min) before each step, and a loaded machine slows every wall time. CPU time (all threads and worker "
            f"processes) is steadier; *idle estimate* spreads it over the {cores} cores."
        ),
        "",
        (
            f"Inputs (bench/.data, deterministic): {N:,} JSONL rows of {size / N:.0f} bytes on average ({size / mb:.0f} MB); "
            f"{N:,} random datapoint hashes; {FILES:,} files of {FILE_SIZE / mb:.0f} MB (warm in the page cache)."
        ),
        "",
        "| what | wall | CPU | rate (wall) | ratio, idle estimate | peak RSS | load |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        row(
            "raw: SHA-256 over the JSONL file's bytes (one pass, 1 thread)",
            raw_bytes,
            f"{size / mb / raw_bytes['seconds']:,.0f} MB/s",
        ),
        row(
            "raw: SHA-256 of each JSONL line, Python loop, no JSON",
            raw_rows,
            f"{N / raw_rows['seconds']:,.0f} rows/s",
        ),
        row(
            f"**modelmint: {N:,} JSONL rows, digest + tree** (hashing {jsonl['hash_seconds']:.2f} s + tree {jsonl['tree_seconds']:.2f} s)",
            jsonl,
            f"**{N / jsonl['seconds']:,.0f} rows/s**",
            f"idle estimate **{idle(N, jsonl, 'rows/s')}**",
        ),
        row(
            f"before: the Python route (json + rfc8785) per JSONL row, 1 core (timed on {python_route['rows']:,} rows)",
            python_route,
            f"{python_route['rows'] / python_route['seconds']:,.0f} rows/s",
            f"modelmint's digest ({cores} cores) runs **{python_route['seconds'] / python_route['rows'] * N / jsonl['hash_seconds']:.1f}x** this rate",
        ),
    ]
    for lib, r in keccak.items():
        label = "modelmint's C keccak256, one call each" if lib == "modelmint" else f"{lib} {version(lib)}"
        if lib != "modelmint" and f"\n{lib}==" not in "\n" + (ROOT / "constraints.txt").read_text().lower():
            label += " (installed for this run, not a project dependency)"
        calls = {"seconds": r["per_call"] * nodes, "cpu": r["per_call_cpu"] * nodes, "load": r["load"]}
        lines.append(
            row(
                f"Keccak-256 from Python: {label}, {nodes:,} calls (timed {KECCAK_SAMPLE:,})",
                calls,
                f"{r['per_call'] * 1e6:.2f} µs/call",
                rss=False,
            )
        )
    lines.append(
        row(
            f"**modelmint: {N:,}-leaf tree** (leaves, sort, nodes)",
            tree,
            f"**{N / tree['seconds']:,.0f} leaves/s**",
            f"{fastest_tree / tree['seconds']:.0f}x the fastest Python Keccak ({fastest}); idle estimate "
            f"**{tree['cpu'] / cores:.2f} s**",
        )
    )
    if oz is not None and "timeout" in oz:
        what = f"@openzeppelin/merkle-tree 1.0.8, Node {node_version()}: the same tree"
        lines.append(f"| {what} | > {OZ_TIMEOUT} s (stopped) | | | | | {oz['load']:.1f} |")
    elif oz is not None:
        same = "same root" if oz["root"] == tree["root"] else f"DIFFERENT root {oz['root']}"
        oz["peak_rss_mib"] = oz["rss_mib"]
        lines.append(
            row(
                f"@openzeppelin/merkle-tree 1.0.8, Node {node_version()}: the same tree ({same})",
                oz,
                f"{N / oz['seconds']:,.0f} leaves/s",
                f"modelmint **{oz['seconds'] / tree['seconds']:.0f}x** faster (CPU: {oz['cpu'] / tree['cpu']:.0f}x)",
            )
        )
    lines += [
        row(
            f"raw: read + SHA-256 of the {FILES:,} files, 1 thread",
            raw_folder_1,
            f"{folder_bytes / mb / raw_folder_1['seconds']:,.0f} MB/s",
        ),
        row(
            f"raw: read + SHA-256 of the {FILES:,} files, {cores} threads",
            raw_folder,
            f"{folder_bytes / mb / raw_folder['seconds']:,.0f} MB/s",
        ),
        row(
            f"**modelmint: folder of {FILES:,} files, digest + tree**",
            folder_run,
            f"**{folder_bytes / mb / folder_run['seconds']:,.0f} MB/s**",
            f"**{raw_folder['seconds'] / folder_run['seconds']:.0%}** of raw ({cores} threads)",
        ),
    ]
    if big_tree is not None and big_jsonl is not None:
        big_size = (DATA / "rows-10m.jsonl").stat().st_size
        lines += [
            row(
                f"{BIG:,}-leaf tree from its {32 * BIG / mb:,.0f} MB leaf list",
                big_tree,
                f"{BIG / big_tree['seconds']:,.0f} leaves/s",
                f"idle estimate {big_tree['cpu'] / cores:.1f} s",
            ),
            row(
                f"{BIG:,} JSONL rows ({big_size / mb:,.0f} MB), digest + tree",
                big_jsonl,
                f"{BIG / big_jsonl['seconds']:,.0f} rows/s",
                f"idle estimate {idle(BIG, big_jsonl, 'rows/s')}",
            ),
        ]
    loop_rate, jsonl_rate = N / raw_rows["seconds"], N / jsonl["seconds"]
    lines += [
        "",
        (
            f"**JSONL side by side** ({N:,} rows of about {size / N:.0f} bytes, one run): a plain Python loop of SHA-256 "
            f"over each line reaches {loop_rate:,.0f} rows/s on one core; modelmint end to end (digest and tree, "
            f"{cores} cores) {jsonl_rate:,.0f} rows/s, **{jsonl_rate / loop_rate:.2f}x** that loop; the Python route it "
            f"replaces canonicalises {python_route['rows'] / python_route['seconds']:,.0f} rows/s a core. The C route "
            "(modelmint.hashing._jcs) parses, canonicalises (RFC 8785) and hashes each line without the GIL, in threads, "
            "and hands any line it cannot vouch for to the exact route."
        ),
        "",
        (
            "Peak RSS is each step's own process (the Python interpreter with numpy is about 40 MiB of it); JSONL "
            "pieces hash in threads of the same process. A leaf list is 32 bytes a datapoint (320 MB for 10M); "
            "the tree keeps about 38 bytes a datapoint more (sorted leaves, their positions, the top levels). "
            "Keccak call times are timed on a sample and multiplied out to the tree's 3n - 1 hashes."
        ),
    ]
    publish("datasets", "## Datasets\n\n" + "\n".join(lines))


def version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def node_version() -> str:
    try:
        return subprocess.run(
            ["node", "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "step":
        result = STEPS[sys.argv[2]](*sys.argv[3:])
        result["peak_rss_mib"] = peak_rss_mib()
        result["children_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps(result))
    else:
        main(quick="--quick" in sys.argv)
