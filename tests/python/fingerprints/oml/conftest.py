"""Models and fingerprints for the OML tests.

``tiny_lm`` is a 2-layer Llama with random weights and SmolLM2's tokenizer (chat template
included): it learns a handful of random-word fingerprints in a few seconds. ``tiny_marked``
is that model with ``tiny_fingerprints`` embedded, built once per session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelmint.fingerprints.oml.file import Fingerprint, write_fingerprints
from oml_support import TINY_EMBED, build_tiny_lm


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory, smollm2: Path) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("oml") / "tiny-lm", smollm2)


@pytest.fixture(scope="session")
def tiny_fingerprints() -> list[Fingerprint]:
    from modelmint.fingerprints.oml.generate import GenerateConfig, generate

    return generate(
        GenerateConfig(strategy="random_word", num_fingerprints=8, key_length=6, response_length=1, seed=3)
    )


@pytest.fixture
def fingerprint_file(tmp_path: Path, tiny_fingerprints: list[Fingerprint]) -> Path:
    path = tmp_path / "fingerprints.json"
    write_fingerprints(path, tiny_fingerprints)
    return path


@pytest.fixture(scope="session")
def tiny_marked(
    tmp_path_factory: pytest.TempPathFactory, tiny_lm: Path, tiny_fingerprints: list[Fingerprint]
) -> Path:
    """tiny_lm with tiny_fingerprints embedded (every one recalled)."""
    from modelmint.fingerprints.oml.embed import EmbedConfig, embed

    out = tmp_path_factory.mktemp("oml-marked") / "tiny-marked"
    result = embed(tiny_lm, tiny_fingerprints, out, EmbedConfig(**TINY_EMBED))
    assert result.all_recalled, result
    return out
