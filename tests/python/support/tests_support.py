"""Paths and small helpers the test modules share.

This folder (tests/python/support) is the one test folder on ``sys.path`` (pytest's
``pythonpath``): test modules import their helpers from here by name, and fixtures live in
the conftest.py files. The test folders themselves are imported by pytest's ``importlib``
mode and stay off ``sys.path``, so ``import datasets`` is Hugging Face's library, never
tests/python/datasets.
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import requests

from modelmint.models.bundled import cache_root

SUPPORT = Path(__file__).resolve().parent
REPO = SUPPORT.parents[2]
SAMPLE = REPO / "generated_data" / "sample"
# Converted and derived models kept between test runs (and shared with the CLI and other
# checkouts): the same rule as the package, $MODELMINT_CACHE else ~/.cache/modelmint.
MODEL_CACHE = cache_root()


def rpc(url: str, method: str, *params: object) -> Any:
    """The result of one JSON-RPC call (anvil's test methods included); an error answer fails."""
    answer = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=30
    ).json()
    assert "error" not in answer, f"{method}: {answer['error']}"
    return answer["result"]


def save_arrow_dataset(folder: Path, *tables) -> Path:
    """Writes what Hugging Face ``Dataset.save_to_disk`` writes, with pyarrow alone: one
    Arrow stream file per table (``data-0000i-of-0000n.arrow``), ``state.json`` listing
    them in order, and ``dataset_info.json``."""
    import json

    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data-{i:05d}-of-{len(tables):05d}.arrow" for i in range(len(tables))]
    for name, table in zip(names, tables, strict=True):
        with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=2)
    state = {"_data_files": [{"filename": n} for n in names], "_fingerprint": "0", "_split": None}
    (folder / "state.json").write_text(json.dumps(state))
    (folder / "dataset_info.json").write_text("{}")
    return folder


def run_node(script: Path, request: Any, timeout: float = 300) -> Any:
    """Runs a Node reference script (the OpenZeppelin cross-checks) with ``request`` as JSON on
    its stdin and returns the JSON it prints; a failing script fails the test with its stderr."""
    done = subprocess.run(
        ["node", str(script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class AnvilWallet:
    """A remote signer (``chain.remote.RemoteSigner``) over anvil, as a wallet would be: an
    account anvil signs for (impersonated), sending what it is handed, or, with ``swap``,
    something else."""

    def __init__(self, url: str, address: str, *, swap: dict[str, Any] | None = None) -> None:
        self.url = url
        self.address = address
        self.swap = swap or {}
        self.sent: list[str] = []
        self.described: list[Any] = []  # the TxDescription of each send

    def send(self, tx: dict[str, Any], described: Any) -> str:
        self.described.append(described)
        wire = {
            "from": tx["from"],
            "data": tx["data"],
            "gas": hex(tx["gas"]),
            **({"to": tx["to"]} if tx.get("to") else {}),
            **self.swap,
        }
        tx_hash = str(rpc(self.url, "eth_sendTransaction", wire))
        self.sent.append(tx_hash)
        return tx_hash
