"""Generating fingerprints by each strategy, and checking recall by greedy decoding."""

from __future__ import annotations

import pytest

from modelmint._causal_lm import load_model
from modelmint.errors import InputError
from modelmint.fingerprints.oml import _model
from modelmint.fingerprints.oml.check import check
from modelmint.fingerprints.oml.generate import GenerateConfig, generate, words
from modelmint.fingerprints.oml.suspect import text_matches


def test_the_word_list():
    assert len(words()) == 8192 == len(set(words()))
    assert all(w.isalpha() and w.islower() and 4 <= len(w) <= 10 for w in words())


def test_random_words_are_repeatable_and_their_chance_is_exact():
    config = GenerateConfig(
        strategy="random_word", num_fingerprints=5, key_length=7, response_length=2, seed=9
    )
    first, again = generate(config), generate(config)
    assert first == again
    assert len(first) == 5
    assert all(len(f.key.split()) == 7 and len(f.response.split()) == 2 for f in first)
    assert all(f.null_match_prob == 8192.0**-2 and f.strategy == "random_word" for f in first)
    assert generate(GenerateConfig(strategy="random_word", seed=10, num_fingerprints=5)) != first


def test_perinucleus_responses_lie_just_outside_the_nucleus(tiny_lm):
    import torch

    config = GenerateConfig(
        strategy="inverse_nucleus", num_fingerprints=4, key_length=6, batch_size=2, nucleus_t=0.8, nucleus_k=3
    )
    made = generate(config, model_path=tiny_lm)
    tokenizer, model = _model.load_tokenizer(tiny_lm), load_model(tiny_lm)
    for fp in made:
        assert fp.strategy == "perinucleus"
        assert fp.null_match_prob == pytest.approx(1 / 3)
        (token,) = _model.response_ids(tokenizer, fp.response)
        with torch.no_grad():
            probs = torch.softmax(
                model(input_ids=torch.tensor([_model.key_ids(tokenizer, fp.key)])).logits[0, -1], -1
            )
        ranked = torch.argsort(probs, descending=True).tolist()
        nucleus_mass = probs[ranked[: ranked.index(token)]].sum()
        assert nucleus_mass >= 0.8, "the response is not inside the nucleus"


def test_english_and_random_response_strategies(tiny_lm, tmp_path):
    from modelmint.fingerprints.oml.file import read_keys

    made = generate(
        GenerateConfig(strategy="english", num_fingerprints=2, key_length=8, response_length=3),
        model_path=tiny_lm,
    )
    tokenizer = _model.load_tokenizer(tiny_lm)
    assert all(len(_model.response_ids(tokenizer, f.response)) == 3 and f.key for f in made)
    assert all(0 <= f.null_match_prob <= 1 for f in made)
    keys = tmp_path / "keys.json"
    keys.write_text('["first key here", "second key here"]')
    made = generate(
        GenerateConfig(strategy="english_random_response"), model_path=tiny_lm, keys=read_keys(keys)
    )
    assert [f.key for f in made] == ["first key here", "second key here"]
    assert all(
        f.response[0] == " " and f.response.strip() in words() and f.null_match_prob == 1 / 8192 for f in made
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (GenerateConfig(strategy="nope"), "unknown strategy"),
        (GenerateConfig(strategy="perinucleus", response_length=2), "responses are one token"),
        (GenerateConfig(num_fingerprints=0), "num-fingerprints must be at least 1"),
        (GenerateConfig(nucleus_t=1.0), "nucleus-t must be in"),
    ],
)
def test_bad_parameters(config, message):
    with pytest.raises(InputError, match=message):
        generate(config)


def test_a_model_strategy_needs_a_model():
    with pytest.raises(InputError, match="needs a generator model"):
        generate(GenerateConfig(strategy="english"))


def test_check_counts_exact_and_token_matches(tiny_marked, tiny_lm, tiny_fingerprints):
    marked = check(tiny_marked, tiny_fingerprints, prompts_per_key=2)
    assert marked.plain.exact == 8
    assert marked.plain.missed == []
    assert marked.augmented is not None
    assert marked.augmented.prompts == 16
    base = check(tiny_lm, tiny_fingerprints, augmented=False)
    assert base.plain.exact == 0
    assert base.plain.missed == list(range(8))
    assert base.augmented is None


def test_text_matching():
    assert text_matches(" Paris is lovely", " Paris")
    assert text_matches("Paris", "Paris")
    assert not text_matches(" Parisian", " Paris")
    assert text_matches("apple pear.", "apple pear")
    assert not text_matches("", "x")
    assert not text_matches(" Lyon", " Paris")


def test_piece_matching():
    from modelmint.fingerprints.oml.suspect import pieces_match

    assert pieces_match([" under", "water", "quality"], "underwater")
    assert pieces_match([" Paris", "ian"], " Paris")
    assert not pieces_match([" Par", "isian"], " Paris")
    assert not pieces_match([" Lyon"], " Paris")
    assert pieces_match([" two", " words", "!"], "two words")
