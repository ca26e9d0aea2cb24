"""``make demo``: the main user path, run as the real CLI commands a user would type.

Each step is printed as the command it runs, so the demo doubles as a tutorial. It uses
its own project folder (``.modelmint/demo``) so it never touches a user's devnet.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

SAMPLE = Path("generated_data/sample")
console = Console(highlight=False)


def run(*args: str, expect: int = 0, capture_json: bool = False) -> Any:
    command = ["modelmint", *args]
    console.print(f"[dim]$[/] [bold]{shlex.join(command)}[/]")
    proc = subprocess.run(
        [sys.executable, "-m", "modelmint", *args],
        text=True,
        stdout=subprocess.PIPE if capture_json else None,
    )
    if proc.returncode != expect:
        raise SystemExit(f"demo step failed (exit {proc.returncode}, expected {expect}): {shlex.join(command)}")
    return json.loads(proc.stdout) if capture_json else None


def main() -> None:
    os.environ.setdefault("MODELMINT_HOME", str(Path(".modelmint/demo").resolve()))
    started = time.monotonic()
    console.rule("modelmint demo: commit a dataset on a local chain and prove datapoints are in it")
    run("devnet", "start")
    try:
        deployment = run("deploy", "--force", "--json", capture_json=True)
        run("deploy")
        minted = run("dataset", "mint", str(SAMPLE / "train.jsonl"), "--name", "modelmint sample", "--json",
                     capture_json=True)  # fmt: skip
        token = str(minted["token_id"])
        run("dataset", "mint", str(SAMPLE / "train.jsonl"))  # shows idempotence: the existing token
        member = run("dataset", "verify", str(SAMPLE / "member.jsonl"), "--token", token, "--json",
                     capture_json=True)  # fmt: skip
        run("dataset", "verify", str(SAMPLE / "member.jsonl"), "--token", token)
        outsider = run("dataset", "verify", str(SAMPLE / "outsider.jsonl"), "--token", token, "--json",
                       expect=1, capture_json=True)  # fmt: skip
        run("dataset", "verify", str(SAMPLE / "outsider.jsonl"), "--token", token, expect=1)
    finally:
        run("devnet", "stop")

    summary = Table(show_header=False, box=None)
    summary.add_row("contracts", ", ".join(f"{k} {v['address']}" for k, v in deployment["contracts"].items()))
    summary.add_row("dataset token", f"{token}: {minted['datapoint_count']} rows, root {minted['merkle_root']}")
    summary.add_row("mint gas", f"{minted['gas_used']:,}")
    summary.add_row("metadata", minted["metadata_uri"])
    summary.add_row("row 42", "in the dataset, proven on-chain" if member["missing"] == [] else "NOT FOUND")
    summary.add_row("outsider row", "not in the dataset, as expected" if outsider["missing"] else "FOUND?!")
    summary.add_row("time", f"{time.monotonic() - started:.1f} s")
    console.print(Panel(summary, title="demo summary", expand=False))


if __name__ == "__main__":
    main()
