"""Generating fingerprints: the strategies of OML 1.0 and of Nasery et al. 2025.

- ``english``: a generator model writes the key, prompted with "Generate a sentence starting
  with the word {word}" for a random word; the response is a random run of
  ``response_length`` tokens from a second generation, for another word.
- ``random_word``: ``key_length`` random words for the key, ``response_length`` for the
  response, from the 8,192-word list in ``data/words.txt``.
- ``perinucleus`` (OML's ``inverse_nucleus``): English keys as above, or from a keys file;
  the response is one token drawn uniformly from the ``nucleus_k`` alphanumeric tokens
  ranked just after the top-``nucleus_t`` nucleus of the generator's next-token
  distribution after the key: unlikely enough to be a signature, likely enough to be
  learned without disturbing the model. The generator should be the model to be
  fingerprinted.
- ``english_random_response``: English keys, and one random word as the response.

Each fingerprint records ``null_match_prob``, the chance that a model never trained on it
answers it (docs/oml.md derives each): ``8192^-r`` for ``r`` random words, ``1/k`` for a
perinucleus token (a bound: the token is uniform over ``k`` candidates whatever a model
prefers), and for ``english`` the generator's own probability of the response after the key
(an estimate, not a bound).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from modelmint._causal_lm import load_model
from modelmint.errors import InputError
from modelmint.fingerprints.oml import _model
from modelmint.fingerprints.oml.file import Fingerprint

STRATEGIES = ("english", "random_word", "perinucleus", "inverse_nucleus", "english_random_response")
MODEL_STRATEGIES = ("english", "perinucleus", "inverse_nucleus", "english_random_response")
KEY_PROMPT = "Generate a sentence starting with the word {word}"
_ALNUM = re.compile(r"^[A-Za-z0-9]+$")


@dataclass(frozen=True)
class GenerateConfig:
    """What to generate.

    Attributes:
        strategy: one of :data:`STRATEGIES` (``inverse_nucleus`` is ``perinucleus``).
        num_fingerprints: how many pairs.
        key_length: words (``random_word``) or generated tokens (the others) per key.
        response_length: words (``random_word``) or tokens (``english``) per response;
            ``perinucleus`` and ``english_random_response`` responses are one token.
        batch_size: prompts per generator batch.
        seed: seeds every random choice, so a run is repeatable.
        temperature: sampling temperature of the generator.
        nucleus_t: the nucleus probability mass (perinucleus).
        nucleus_k: how many tokens just outside the nucleus to draw from (perinucleus).
    """

    strategy: str = "perinucleus"
    num_fingerprints: int = 32
    key_length: int = 16
    response_length: int | None = None
    batch_size: int = 16
    seed: int = 0
    temperature: float = 0.5
    nucleus_t: float = 0.8
    nucleus_k: int = 3

    @property
    def canonical_strategy(self) -> str:
        return "perinucleus" if self.strategy == "inverse_nucleus" else self.strategy

    @property
    def resolved_response_length(self) -> int:
        if self.response_length is not None:
            return self.response_length
        return 1 if self.canonical_strategy in ("perinucleus", "english_random_response") else 4

    def validate(self) -> None:
        if self.strategy not in STRATEGIES:
            raise InputError(f"unknown strategy {self.strategy!r}", f"choose one of {', '.join(STRATEGIES)}")
        for name in ("num_fingerprints", "key_length", "batch_size", "nucleus_k"):
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}")
        if self.resolved_response_length < 1:
            raise InputError(f"response-length must be at least 1, not {self.response_length}")
        if (
            self.canonical_strategy in ("perinucleus", "english_random_response")
            and self.resolved_response_length != 1
        ):
            raise InputError(
                f"{self.strategy} responses are one token, not {self.response_length}",
                "set the response length to 1",
                hint="response-length-1",
            )
        if not 0 < self.nucleus_t < 1:
            raise InputError(f"nucleus-t must be in (0, 1), not {self.nucleus_t}")
        if not self.temperature > 0:
            raise InputError(f"the temperature must be positive, not {self.temperature}")


@lru_cache(maxsize=1)
def words() -> tuple[str, ...]:
    """The word list of the random strategies (``data/words.txt``, made by generated_data/oml/make_words.py)."""
    text = resources.files("modelmint.fingerprints.oml").joinpath("data/words.txt").read_text()
    return tuple(w for w in text.split() if w)


def generate(
    config: GenerateConfig,
    *,
    model_path: Path | None = None,
    keys: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Fingerprint]:
    """Generates ``config.num_fingerprints`` fingerprints (or one per key of ``keys``).

    Args:
        config: the strategy and its parameters.
        model_path: the generator (a Hugging Face causal LM folder), needed by every strategy
            but ``random_word``.
        keys: keys to use instead of generating them (``--keys-file``).
        progress: called with the number of fingerprints finished, as they finish.

    Raises:
        InputError: bad parameters, or a strategy that needs a model and got none.
    """
    config.validate()
    rng = random.Random(config.seed)
    strategy = config.canonical_strategy
    count = len(keys) if keys else config.num_fingerprints
    if strategy == "random_word" and not keys:
        out = [
            _random_word_pair(rng, config.key_length, config.resolved_response_length) for _ in range(count)
        ]
        if progress:
            progress(count)
        return out
    if strategy == "random_word":
        assert keys is not None
        r = config.resolved_response_length
        return [
            Fingerprint(k, " ".join(rng.choice(words()) for _ in range(r)), strategy, len(words()) ** -r)
            for k in keys
        ]
    if model_path is None:
        raise InputError(
            f"the {strategy} strategy needs a generator model",
            "give the folder of a causal LM as model_path",
            hint="generator-model",
        )
    generator = _Generator(Path(model_path), config)
    all_keys = list(keys) if keys else None
    made: list[Fingerprint] = []
    for start in range(0, count, config.batch_size):
        n = min(config.batch_size, count - start)
        batch_keys = (
            all_keys[start : start + n] if all_keys else generator.sentences(rng, n, config.key_length)
        )
        if strategy == "english":
            rlen = config.resolved_response_length
            runs = generator.sentences(rng, n, max(32, 2 * rlen), min_tokens=rlen)
            responses = [generator.random_run(rng, text, rlen) for text in runs]
            probs = generator.sequence_probs(batch_keys, responses)
            made += [
                Fingerprint(k, r, strategy, p) for k, r, p in zip(batch_keys, responses, probs, strict=True)
            ]
        elif strategy == "english_random_response":
            made += [
                Fingerprint(k, " " + rng.choice(words()), strategy, 1 / len(words())) for k in batch_keys
            ]
        else:
            responses = generator.perinucleus(rng, batch_keys)
            made += [
                Fingerprint(k, r, strategy, 1 / config.nucleus_k)
                for k, r in zip(batch_keys, responses, strict=True)
            ]
        if progress:
            progress(n)
    return made


def _random_word_pair(rng: random.Random, key_length: int, response_length: int) -> Fingerprint:
    key = " ".join(rng.choice(words()) for _ in range(key_length))
    response = " ".join(rng.choice(words()) for _ in range(response_length))
    return Fingerprint(key, response, "random_word", len(words()) ** -response_length)


class _Generator:
    """A causal LM used to write English keys and responses, and to pick perinucleus tokens."""

    def __init__(self, path: Path, config: GenerateConfig) -> None:
        import torch

        self.config = config
        self.tokenizer = _model.load_tokenizer(path)
        self.model = load_model(path)
        self.torch = torch
        torch.manual_seed(config.seed)

    def sentences(self, rng: random.Random, n: int, max_tokens: int, min_tokens: int = 1) -> list[str]:
        """``n`` sentences, each prompted to start with a random word (sampled, ``max_tokens`` at most)."""
        out: list[str] = []
        while len(out) < n:
            want = n - len(out)
            prompts = []
            for _ in range(want):
                instruction = KEY_PROMPT.format(word=rng.choice(words()))
                if _model.has_chat_template(self.tokenizer):
                    prompts.append(
                        _model.chat_ids(self.tokenizer, "You are a helpful assistant.", instruction)
                    )
                else:
                    prompts.append(_model.key_ids(self.tokenizer, instruction + ":"))
            for ids in self._sample(prompts, max(max_tokens, min_tokens + 2)):
                text = _clean_sentence(self.tokenizer.decode(ids, skip_special_tokens=True))
                if len(_model.response_ids(self.tokenizer, text)) >= min_tokens and text not in out:
                    out.append(text)
        return out[:n]

    def random_run(self, rng: random.Random, text: str, length: int) -> str:
        """A run of ``length`` tokens from ``text`` (punctuation removed), at a random offset."""
        cleaned = " ".join("".join(c for c in text if c.isalnum() or c == " ").split())
        tokens = _model.response_ids(self.tokenizer, cleaned)
        # Runs start at a word, so a response never begins in the middle of one.
        offsets = [
            i
            for i in range(max(len(tokens) - length, 0) + 1)
            if i == 0 or self.tokenizer.decode(tokens[i : i + 1])[:1] == " "
        ]
        rng.shuffle(offsets)
        for offset in offsets:
            run: str = self.tokenizer.decode(tokens[offset : offset + length]).strip()
            if run and len(_model.response_ids(self.tokenizer, run)) == length:
                return run
        start: str = self.tokenizer.decode(tokens[:length]).strip()
        return start or cleaned

    def perinucleus(self, rng: random.Random, keys: Sequence[str]) -> list[str]:
        """For each key, one token drawn uniformly from the ``k`` alphanumeric tokens just outside the nucleus."""
        torch = self.torch
        t, k = self.config.nucleus_t, self.config.nucleus_k
        out = []
        for probs in self._next_token_probs([_model.key_ids(self.tokenizer, key) for key in keys]):
            ranked_probs, ranked = torch.sort(probs, descending=True)
            nucleus = int((ranked_probs.cumsum(0) < t).sum()) + 1  # the smallest prefix holding mass >= t
            candidates: list[str] = []
            for token in ranked[nucleus:].tolist():
                text = self.tokenizer.decode([token])
                if _ALNUM.match(text.strip()) and _model.response_ids(self.tokenizer, text) == [token]:
                    candidates.append(text)
                    if len(candidates) == k:
                        break
            if not candidates:
                raise InputError(
                    "no alphanumeric token lies outside the nucleus", "lower nucleus_t", hint="nucleus-t"
                )
            out.append(rng.choice(candidates))
        return out

    def sequence_probs(self, keys: Sequence[str], responses: Sequence[str]) -> list[float]:
        """The generator's probability of each response (its tokens then EOS) right after its key."""
        torch = self.torch
        probs = []
        with torch.no_grad():
            for key, response in zip(keys, responses, strict=True):
                prompt = _model.key_ids(self.tokenizer, key)
                target = _model.response_ids(self.tokenizer, response)
                ids = torch.tensor([prompt + target])
                logprobs = torch.log_softmax(
                    self.model(input_ids=ids).logits[0, len(prompt) - 1 : -1].float(), -1
                )
                total = float(logprobs[torch.arange(len(target)), torch.tensor(target)].sum())
                probs.append(math.exp(total))
        return probs

    def _next_token_probs(self, prompts: list[list[int]]) -> list[Any]:
        torch = self.torch
        out = []
        with torch.no_grad():
            for ids in prompts:
                logits = self.model(input_ids=torch.tensor([ids])).logits[0, -1].float()
                out.append(torch.softmax(logits, -1))
        return out

    def _sample(self, prompts: list[list[int]], max_new_tokens: int) -> list[list[int]]:
        torch = self.torch
        pad = self.tokenizer.pad_token_id
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        with torch.no_grad():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=mask,
                do_sample=True,
                temperature=self.config.temperature,
                top_p=1.0,
                top_k=0,
                max_new_tokens=max_new_tokens,
                pad_token_id=pad,
            )
        return [row[width:].tolist() for row in out]


def _clean_sentence(text: str) -> str:
    """The generated sentence: leading quotes, labels and whitespace trimmed, one line."""
    text = " ".join(text.split())
    if ":" in text[:40] and text.split(":", 1)[1].strip():  # "Sure! Here is a sentence: ..."
        text = text.split(":", 1)[1]
    return text.strip(" \"'*-")
