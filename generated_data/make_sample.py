"""Regenerates sample/*.jsonl: a small deterministic text dataset for the demo and tests.

Run with any Python 3: `python generated_data/make_sample.py`. The output is committed, so
its Merkle root is stable; changing this script changes the root the docs quote.
"""

import json
import random
from pathlib import Path

rng = random.Random(20261121)
subjects = ["The river", "A small robot", "The old library", "My neighbour's cat", "The morning train",
            "A paper boat", "The lighthouse keeper", "An orange kite", "The bakery", "A quiet student"]
verbs = ["crossed", "painted", "counted", "remembered", "followed", "carried", "watched", "repaired"]
objects = ["the bridge at dawn", "seven blue stones", "a map of the coast", "the last chapter",
           "a box of letters", "the northern lights", "an empty harbour", "the garden wall"]
out = Path(__file__).parent / "sample"
out.mkdir(exist_ok=True)
with open(out / "train.jsonl", "w", encoding="utf-8") as f:
    for i in range(256):
        text = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}."
        f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
# One row of the dataset, and one that is not in it: what the demo verifies.
lines = (out / "train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
(out / "member.jsonl").write_text(lines[42], encoding="utf-8")
with open(out / "outsider.jsonl", "w", encoding="utf-8") as f:
    f.write(json.dumps({"id": 9999, "text": "This sentence was never part of the sample dataset."}) + "\n")
