"""The bad-input corpus (bad_inputs/corpus.toml): every command, given a bad file, folder,
model, fingerprint or proof file, metadata, or a hostile node or content store, fails in one
line with its documented exit code (docs/cli.md), no traceback, and changes nothing on the
chain or in the content store.

The cases run in one long-lived worker (bad_inputs/worker.py) that imports the CLI once and
forks per case, so about a hundred cases take seconds, not the minutes of a fresh interpreter each.
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from web3 import Web3

from hostile import hostile_node, hostile_store
from modelmint.chain import deployments
from modelmint.chain.client import Chain
from modelmint.home import Home
from tests_support import REPO, save_arrow_dataset

HERE = Path(__file__).parent / "bad_inputs"
CASES: list[dict[str, Any]] = tomllib.loads((HERE / "corpus.toml").read_text())["case"]
SIGNER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first account, the devnet's signer
DATA = '{"text": "alpha"}\n{"text": "beta"}\n{"text": "gamma"}\n'


class Worker:
    """The worker process: ``run`` sends one command and returns its exit code, stdout and stderr."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )

    def run(self, argv: list[str], env: dict[str, str], cwd: Path, stdin: str = "") -> tuple[int, str, str]:
        (self.scratch / "stdin").write_text(stdin)
        paths = {name: str(self.scratch / name) for name in ("stdin", "stdout", "stderr")}
        request = {"argv": argv, "env": env, "cwd": str(cwd), **paths}
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        code = json.loads(self.proc.stdout.readline())["code"]
        return code, (self.scratch / "stdout").read_text(), (self.scratch / "stderr").read_text()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@dataclass
class World:
    """What every case runs against: a project folder with contracts, a dataset (token 1) and a
    model (token 1) registered, good files to break, and the hostile servers."""

    worker: Worker
    home: Home
    w3: Web3
    files: Path
    model: Path
    values: dict[str, str]

    def snapshot(self) -> tuple[Any, ...]:
        store = sorted(str(p.relative_to(self.home.store_dir)) for p in self.home.store_dir.rglob("*"))
        records = sorted(str(p.relative_to(self.home.root)) for p in self.home.root.rglob("*") if p.is_file())
        return self.w3.eth.block_number, self.w3.eth.get_transaction_count(SIGNER), store, records

    def cli(self, *argv: str) -> str:
        code, out, err = self.worker.run(list(argv), self.env(), self.files)
        assert code == 0, err
        return out

    def env(self) -> dict[str, str]:
        return {"MODELMINT_HOME": str(self.home.root)}


@pytest.fixture(scope="module")
def world(anvil, llama_template, tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("corpus")
    home = Home(root / "home")
    home.root.mkdir()
    record = {"url": anvil.url, "pid": anvil.pid, "port": anvil.port, "chain_id": anvil.chain_id}
    home.devnet_file.write_text(json.dumps({**record, "log": str(anvil.log)}))
    deployments.deploy(Chain.connect(home))
    files = root / "files"
    files.mkdir()
    (files / "data.jsonl").write_text(DATA)
    model = Path(shutil.copytree(llama_template[0], files / "model"))
    worker = Worker(root)
    with hostile_node(anvil.url) as node, hostile_store(home.store_dir) as kubo:
        world = World(worker, home, Web3(Web3.HTTPProvider(anvil.url)), files, model, {})
        dataset = json.loads(world.cli("dataset", "mint", str(files / "data.jsonl"), "--json"))
        registered = json.loads(
            world.cli("model", "mint", str(model), "--dataset", str(dataset["tokenId"]), "--json")
        )
        world.cli("dataset", "prove", "--token", "1", "--index", "0", "--out", str(files / "proof.json"))
        # a committed HuRef fingerprint, so identify has a candidate to fetch from the store
        world.cli(
            "fingerprint", "huref", str(model), "--token", str(registered["tokenId"]), "--tokens", "120"
        )
        world.values = {
            "rpc": anvil.url,
            "node": node,
            "kubo": kubo,
            "model": str(model),
            "data": str(files / "data.jsonl"),
            "proof": str(files / "proof.json"),
            "dataset_token": str(dataset["tokenId"]),
            "model_token": str(registered["tokenId"]),
        }
        yield world
    worker.close()


# Builders of inputs a case cannot spell inline: each takes (case folder, world) and returns a path.
Builder = Callable[[Path, World], Path]
BUILDERS: dict[str, Builder] = {}


def builder(make: Builder) -> Builder:
    BUILDERS[make.__name__] = make
    return make


def _model_copy(d: Path, w: World) -> Path:
    return Path(shutil.copytree(w.model, d / "model"))


def _weights(model: Path) -> Path:
    return next(model.glob("*.safetensors"))


@builder
def model_header_not_json(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    header = b"{not json" + b" " * 7
    _weights(model).write_bytes(struct.pack("<Q", len(header)) + header)
    return model


@builder
def model_header_too_long(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    _weights(model).write_bytes(struct.pack("<Q", 1 << 60) + b"{}")
    return model


@builder
def model_weights_truncated(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    weights = _weights(model)
    weights.write_bytes(weights.read_bytes()[:-100])
    return model


@builder
def model_weights_empty(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    _weights(model).write_bytes(b"")
    return model


@builder
def model_config_not_json(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    (model / "config.json").write_text("{broken")
    return model


@builder
def model_config_list(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    (model / "config.json").write_text("[1, 2]")
    return model


@builder
def model_without_config(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    (model / "config.json").unlink()
    return model


@builder
def model_without_weights(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    _weights(model).unlink()
    return model


@builder
def model_with_symlink(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    (model / "extra.bin").symlink_to(_weights(model))
    return model


@builder
def model_with_dangling_symlink(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    (model / "gone.bin").symlink_to(d / "nowhere")
    return model


@builder
def model_tokenizer_broken(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if (model / name).exists():
            (model / name).write_text("{broken")
    return model


@builder
def model_edited(d: Path, w: World) -> Path:
    model = _model_copy(d, w)
    (model / "config.json").write_text((model / "config.json").read_text() + "\n")
    return model


@builder
def empty_folder(d: Path, w: World) -> Path:
    (d / "empty").mkdir()
    return d / "empty"


@builder
def corrupt_parquet(d: Path, w: World) -> Path:
    path = d / "data.parquet"
    pq.write_table(pa.table({"text": [f"row {i}" * 20 for i in range(200)]}), path, compression="none")
    path.write_bytes(path.read_bytes()[:-200])
    return path


@builder
def parquet_of_no_rows(d: Path, w: World) -> Path:
    path = d / "data.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), path)
    return path


@builder
def parquet_nested_too_deep(d: Path, w: World) -> Path:
    value: Any = 1
    for _ in range(80):
        value = [value]
    path = d / "data.parquet"
    pq.write_table(pa.table({"deep": [value]}), path)
    return path


@builder
def hf_dataset_no_state(d: Path, w: World) -> Path:
    folder = save_arrow_dataset(d / "hf", pa.table({"x": [1, 2]}))
    (folder / "state.json").write_text("{broken")
    return folder


@builder
def symlink_loop(d: Path, w: World) -> Path:
    (d / "loop.jsonl").symlink_to("loop.jsonl")
    return d / "loop.jsonl"


@builder
def jsonl_nested_too_deep(d: Path, w: World) -> Path:
    (d / "deep.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    return d / "deep.jsonl"


def _proof(w: World, **changes: Any) -> dict[str, Any]:
    proof: dict[str, Any] = json.loads((w.files / "proof.json").read_text())
    proof.update(changes)
    return proof


def _write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


@builder
def proof_extra_sibling(d: Path, w: World) -> Path:
    proof = _proof(w)
    return _write_json(d / "proof.json", _proof(w, proof=[*proof["proof"], "0x" + "11" * 32]))


@builder
def proof_no_siblings(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, proof=[]))


@builder
def proof_sibling_short(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, proof=["0x1234"]))


@builder
def proof_sibling_not_hex(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, proof=["0x" + "zz" * 32]))


@builder
def proof_siblings_not_list(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, proof="0x" + "11" * 32))


@builder
def proof_wrong_leaf(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, datapointHash="0x" + "22" * 32, leaf="0x" + "33" * 32))


@builder
def proof_wrong_schema(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, schema="modelmint.dataset-proof.v9"))


@builder
def proof_no_token(d: Path, w: World) -> Path:
    proof = _proof(w)
    del proof["tokenId"]
    return _write_json(d / "proof.json", proof)


@builder
def proof_token_string(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, tokenId="one"))


@builder
def proof_token_negative(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, tokenId=-1))


@builder
def proof_token_absent(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, tokenId=999))


@builder
def proof_other_chain(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, chainId=1))


@builder
def proof_contract_bad(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, contract="0x1234"))


@builder
def proof_contract_no_code(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, contract="0x" + "42" * 20))


@builder
def proof_position_past_end(d: Path, w: World) -> Path:
    return _write_json(d / "proof.json", _proof(w, position=99))


@builder
def fingerprints_from_repo(d: Path, w: World) -> Path:
    return Path(shutil.copy(REPO / "generated_data/oml/english-16.json", d / "fp.json"))


@builder
def secrets_of_other_token(d: Path, w: World) -> Path:
    return _write_json(
        d / "secrets.json", {"schema": "modelmint.oml-secrets.v1", "tokenId": 999, "pairs": []}
    )


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _prepare(case: dict[str, Any], d: Path, w: World) -> dict[str, str]:
    values = {**w.values, "tmp": str(d)}
    if "build" in case:  # first, so that inline files can go into what it built
        values["file"] = str(BUILDERS[case["build"]](d, w))
    for spec in case.get("files", []):
        path = d / spec["name"]
        path.parent.mkdir(parents=True, exist_ok=True)
        if "text" in spec:
            path.write_text(_fill(spec["text"], values))
        elif "hex" in spec:
            path.write_bytes(bytes.fromhex(spec["hex"]))
        elif "base64" in spec:
            path.write_bytes(base64.b64decode(spec["base64"]))
        elif spec.get("folder"):
            path.mkdir(exist_ok=True)
    return values


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=False)] if "xfail" in case else []
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input(world: World, tmp_path: Path, case: dict[str, Any]) -> None:
    values = _prepare(case, tmp_path, world)
    argv = [_fill(arg, values) for arg in case["argv"]]
    env = {**world.env(), **{k: _fill(v, values) for k, v in case.get("env", {}).items()}}
    if case.get("home") == "empty":
        env["MODELMINT_HOME"] = str(tmp_path / "empty-home")
    before = world.snapshot()
    code, out, err = world.worker.run(argv, env, tmp_path, _fill(case.get("stdin", ""), values))
    after = world.snapshot()
    shown = f"{case['id']}: exit {code}\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in out + err, shown
    assert code == case.get("code", 1), shown
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 1 and not case.get("report"):
        assert len(lines) == 1, shown
        assert lines[0].startswith("error: "), shown
    said = out + err if case.get("report") else err
    for needle in case["expect"]:
        assert _fill(needle, values) in said, (needle, shown)
    assert after == before, shown
