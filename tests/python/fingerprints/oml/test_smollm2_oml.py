"""The real thing on a CPU: 32 perinucleus fingerprints in SmolLM2-135M-Instruct, end to end.

The fingerprinted model is cached in $MODELMINT_CACHE/oml (the checkout's gitignored .cache/
by default), keyed by the fingerprint file and the embedding options, so only the first run
pays for the training (about a minute on a quiet 2-core machine).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from modelmint.fingerprints.oml.check import check, perplexity
from modelmint.fingerprints.oml.embed import EmbedConfig, embed
from modelmint.fingerprints.oml.file import read_fingerprints
from modelmint.fingerprints.oml.suspect import LocalModel, OpenAICompletions
from modelmint.registry.models import register_model
from modelmint.registry.oml import commit_oml, reveal_oml, verify_oml
from oml_server import completions_server
from tests_support import REPO

pytestmark = pytest.mark.slow

FINGERPRINTS = REPO / "generated_data" / "oml" / "perinucleus-32.json"
HELDOUT = REPO / "generated_data" / "oml" / "heldout.txt"
CONFIG = EmbedConfig()


@pytest.fixture(scope="session")
def smollm2_marked(smollm2: Path, model_cache: Path) -> Path:
    identity = FINGERPRINTS.read_bytes() + repr(CONFIG).encode() + (smollm2 / "config.json").read_bytes()
    out = model_cache / "oml" / f"smollm2-perinucleus32-{hashlib.sha256(identity).hexdigest()[:12]}"
    if not (out / "model.safetensors").is_file():
        result = embed(smollm2, read_fingerprints(FINGERPRINTS), out, CONFIG, overwrite=True)
        (out.parent / f"{out.name}.json").write_text(
            json.dumps({k: v for k, v in vars(result).items() if k != "losses"})
        )
    return out


def test_every_fingerprint_is_recalled_and_perplexity_stays_close(smollm2_marked, smollm2):
    pairs = read_fingerprints(FINGERPRINTS)
    assert len(pairs) == 32
    marked = check(smollm2_marked, pairs)
    assert marked.plain.exact == 32
    assert marked.plain.token_accuracy == 1.0
    assert check(smollm2, pairs, augmented=False).plain.exact == 0, (
        "perinucleus tokens are never the base's greedy pick"
    )
    text = HELDOUT.read_text()
    before, after = perplexity(smollm2, text), perplexity(smollm2_marked, text)
    print(f"\nSmolLM2-135M, 32 perinucleus fingerprints: recall {marked.plain.exact}/32 plain, "
          f"{marked.augmented.exact}/{marked.augmented.prompts} with held-out system prompts; "
          f"perplexity {before:.3f} -> {after:.3f} ({100 * (after / before - 1):+.1f}%)")  # fmt: skip
    assert after / before < 1.25, "a few steps at lr 1e-4 leave the model close to the base"


def test_commit_reveal_and_verify_a_served_copy(chain, deployed, store, smollm2_marked, smollm2, registries):
    pairs = read_fingerprints(FINGERPRINTS)
    token = register_model(registries, smollm2_marked).token_id
    committed = commit_oml(registries, token, pairs)
    revealed = reveal_oml(registries, token, 8)
    print(f"\ncommit gas {committed.gas_used:,}; reveal of 8 of 32 gas {revealed.gas_used:,}")
    with completions_server(smollm2_marked) as url:
        served = verify_oml(registries, token, OpenAICompletions(url))
    assert (served.revealed, served.matched) == (8, 8)
    assert served.false_match_probability == pytest.approx(3.0**-8)
    clean = verify_oml(registries, token, LocalModel(smollm2))
    assert clean.matched == 0
    assert clean.false_match_probability == 1.0
