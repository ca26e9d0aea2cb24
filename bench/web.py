"""The verification page in headless Chromium, beside the CLI on the same inputs.

Run by `make bench` (or `.venv/bin/python bench/web.py [--quick]`). In one run, on a devnet
of its own (anvil on a free port, a temporary project folder) and the page served by
`modelmint web`, driven by Playwright in Debian's Chromium with the tests' EIP-1193 wallet:

- model check: the bundled SmolLM2-135M folder (about 540 MB) picked in the page and hashed
  in its Web Workers, against `verify_model` (what `modelmint model verify` runs) on the
  same files; both warm-cache, best of two;
- datapoints: 1,000 JSONL rows pasted and checked against a 1,000,000-datapoint dataset,
  timed from the click to the answers, leaf-list fetch (32 MB, CID-checked), tree building,
  multiproof and the contract's `multiVerifyDatapoints` included; a fresh page each round;
- the page's JavaScript: the built index.html (everything inlined), gzipped.

``--quick`` uses a 100,000-datapoint dataset. Writes the ``web`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, publish, today

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data" / "web"
WALLET_JS = ROOT / "tests" / "python" / "web" / "test_wallet.js"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


def big_jsonl(rows: int) -> Path:
    path = DATA / f"rows-{rows}.jsonl"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as out:
            out.writelines(f'{{"id": {i}, "text": "datapoint number {i}"}}\n' for i in range(rows))
    return path


def main(quick: bool) -> None:  # noqa: PLR0915 -- one measurement after another, each a few lines
    from playwright.sync_api import sync_playwright

    from modelmint.chain import deployments, devnet
    from modelmint.chain.client import Chain
    from modelmint.home import Home
    from modelmint.models.bundled import smollm2_135m
    from modelmint.registry import Registries, commit_dataset, register_model, verify_model
    from modelmint.storage import LocalStore
    from modelmint.web import serve
    from modelmint.web.server import page_dir

    rows = 100_000 if quick else 1_000_000
    page_bytes = (page_dir() / "index.html").read_bytes()
    gz = len(gzip.compress(page_bytes, 9))
    model = smollm2_135m()
    model_bytes = sum(f.stat().st_size for f in model.rglob("*") if f.is_file())
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp) / "home")
        running = devnet.start(home)
        try:
            chain = Chain.connect(home)
            registries = Registries.from_deployment(
                chain, deployments.deploy(chain), LocalStore(home.store_dir)
            )
            dataset = commit_dataset(registries, big_jsonl(rows), name=f"{rows:,} rows")
            registered = register_model(registries, model, name="SmolLM2-135M")
            sample = "".join(
                f'{{"id": {i}, "text": "datapoint number {i}"}}\n' for i in range(0, rows, rows // 1000)
            )

            cli_seconds = []
            for _ in range(2):
                started = time.perf_counter()
                assert verify_model(registries, model, registered.token_id).ok
                cli_seconds.append(time.perf_counter() - started)

            server = serve(home)
            config = {"rpcUrl": running.url, "anvilChainId": running.chain_id, "chainId": running.chain_id}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=FLAGS
                )

                def fresh_page():
                    context = browser.new_context()
                    context.add_init_script(f"window.__testWallet = {json.dumps(config)};")
                    context.add_init_script(WALLET_JS.read_text())
                    page = context.new_page()
                    page.goto(server.url)
                    page.wait_for_selector("body[data-ready=true]")
                    page.get_by_role("button", name="Connect Test Wallet").click()
                    page.wait_for_selector("#chain-id")
                    return context, page

                page_seconds = []
                hash_seconds = []
                for _ in range(2):
                    context, page = fresh_page()
                    page.fill("#model-token", str(registered.token_id))
                    started = time.perf_counter()
                    page.set_input_files("#model-dir", str(model))
                    page.wait_for_selector("#model-answer", timeout=600_000)
                    page_seconds.append(time.perf_counter() - started)
                    assert page.inner_text("#model-answer").startswith("matches")
                    # the page's own figure: its workers' hashing alone, without the token reads
                    hashed = re.search(r"hashed in ([0-9.]+) s", page.inner_text("#model-result"))
                    hash_seconds.append(float(hashed.group(1)))
                    context.close()

                dp_seconds = []
                for _ in range(2):
                    context, page = fresh_page()
                    page.fill("#dp-token", str(dataset.token_id))
                    page.fill("#dp-text", sample)
                    started = time.perf_counter()
                    page.click("#dp-check")
                    page.wait_for_selector("#dp-table", timeout=600_000)
                    dp_seconds.append(time.perf_counter() - started)
                    assert page.inner_text("#dp-result").startswith("1000 of 1000")
                    context.close()
                browser.close()
            server.stop()
        finally:
            devnet.stop(home)
    load = os.getloadavg()[0]  # the page and the CLI share the cores with whatever else runs
    mb = model_bytes / 1e6
    cli, web = min(cli_seconds), min(page_seconds)
    markdown = f"""## The verification page (`bench/web.py`)

{today()}, {machine()}, headless Debian Chromium driven by Playwright, the page served by `modelmint web`; load average {load:.1f} at the end (on a shared machine every figure is low).

| measurement | page | CLI / target | result |
| --- | --- | --- | --- |
| model check, SmolLM2-135M folder ({mb:.0f} MB), best of 2 | {web:.2f} s ({mb / web:.0f} MB/s; the page's workers alone {min(hash_seconds):.1f} s, {mb / min(hash_seconds):.0f} MB/s) | `verify_model` {cli:.2f} s ({mb / cli:.0f} MB/s); target page ≥ 50% | {100 * cli / web:.0f}% of the CLI's throughput |
| 1,000 JSONL rows against a {rows:,}-datapoint dataset (leaf list, tree, multiproof, contract call), best of 2 | {min(dp_seconds):.2f} s | target < 5 s | {"met" if min(dp_seconds) < 5 else "missed"} |
| the page's JavaScript (one index.html, everything inlined), gzipped | {gz / 1024:.0f} KiB ({len(page_bytes) / 1024:.0f} KiB raw) | target < 250 KB | {"met" if gz < 250_000 else "missed"} |
"""
    publish("web", markdown)


if __name__ == "__main__":
    main("--quick" in sys.argv)
