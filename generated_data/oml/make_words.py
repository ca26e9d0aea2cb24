"""Writes python/modelmint/fingerprints/oml/data/words.txt, the word list of the OML generators.

The list is the 8,192 most common English words of 4 to 10 letters, by one rule anyone can
re-run: lower-case alphabetic entries of Debian's ``wamerican`` dictionary
(/usr/share/dict/american-english) that SmolLM2's tokenizer holds as one word-initial token
(``Ġword``), ranked by that token's id (byte-pair merges are learned most-frequent first, so
a lower id is a more common word). 8,192 = 2^13 words make a random word worth 13 bits, which
docs/oml.md uses for the false-match estimate.

Usage: apt-get install wamerican; .venv/bin/python generated_data/oml/make_words.py
"""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from modelmint.models.bundled import smollm2_135m

SIZE = 8192
OUT = Path(__file__).resolve().parents[2] / "python/modelmint/fingerprints/oml/data/words.txt"


def main() -> None:
    vocab = AutoTokenizer.from_pretrained(smollm2_135m()).get_vocab()
    words = {
        w.strip()
        for w in Path("/usr/share/dict/american-english").read_text().splitlines()
        if w.strip().isascii() and w.strip().isalpha() and w.strip().islower() and 4 <= len(w.strip()) <= 10
    }
    ranked = sorted((vocab["Ġ" + w], w) for w in words if "Ġ" + w in vocab)[:SIZE]
    if len(ranked) < SIZE:
        raise SystemExit(f"only {len(ranked)} words qualify, need {SIZE}")
    OUT.write_text("".join(f"{w}\n" for w in sorted(w for _, w in ranked)))
    print(f"wrote {SIZE} words to {OUT}")


if __name__ == "__main__":
    main()
