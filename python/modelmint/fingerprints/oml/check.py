"""Checking that a model recalls its fingerprints: greedy decoding, exact match and token accuracy.

Each key is given as a plain prompt and, with augmentation, wrapped in a held-out system
prompt through the chat template (``data/augmentation_prompts_test.json``: prompts never
used in training, so the augmented score measures robustness to a deployment's system
prompt rather than memory of the training prompts). The held-out prompts are assigned
round-robin, ``prompts_per_key`` to each key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modelmint._causal_lm import load_model
from modelmint.errors import InputError
from modelmint.fingerprints.oml import _model
from modelmint.fingerprints.oml.file import Fingerprint
from modelmint.fingerprints.oml.suspect import Answer, LocalModel


@dataclass(frozen=True)
class Score:
    """Recall over a set of prompts.

    Attributes:
        prompts: how many prompts were asked.
        exact: how many answers began with exactly the response tokens.
        tokens: response tokens in all, and ``tokens_matched`` of them equal to the answer's
            token at the same position.
        missed: indices (into the fingerprint list) of the keys not recalled exactly.
    """

    prompts: int
    exact: int
    tokens: int
    tokens_matched: int
    missed: list[int] = field(default_factory=list)

    @property
    def exact_match(self) -> float:
        return self.exact / self.prompts if self.prompts else 0.0

    @property
    def token_accuracy(self) -> float:
        return self.tokens_matched / self.tokens if self.tokens else 0.0


@dataclass(frozen=True)
class CheckResult:
    model: str
    fingerprints: int
    plain: Score
    augmented: Score | None


def check(
    model_path: Path,
    fingerprints: Sequence[Fingerprint],
    *,
    augmented: bool | None = None,
    prompts_per_key: int = 1,
    batch_size: int = 16,
) -> CheckResult:
    """Asks the model in ``model_path`` every key, plainly and (``augmented``) in held-out system prompts.

    Args:
        augmented: True to also check with held-out system prompts, False not to, None to do
            it when the tokenizer has a chat template.

    Raises:
        InputError: the model cannot be loaded, or ``augmented`` is True and the tokenizer
            has no chat template.
    """
    if not fingerprints:
        raise InputError(
            "there are no fingerprints to check", "give a fingerprint file with at least one entry"
        )
    if prompts_per_key < 1:
        raise InputError(f"prompts-per-key must be at least 1, not {prompts_per_key}")
    local = LocalModel(Path(model_path), batch_size)
    tokenizer = local.tokenizer
    if augmented is None:
        augmented = _model.has_chat_template(tokenizer)
    targets = [_model.response_ids(tokenizer, f.response) for f in fingerprints]
    longest = max(len(t) for t in targets)
    plain_prompts = [_model.key_ids(tokenizer, f.key) for f in fingerprints]
    plain = _score(local.answer_ids(plain_prompts, longest), targets, list(range(len(fingerprints))))

    aug_score = None
    if augmented:
        held_out = _model.augmentation_prompts("test")
        owners, prompts = [], []
        for i, f in enumerate(fingerprints):
            for j in range(prompts_per_key):
                system = held_out[(i * prompts_per_key + j) % len(held_out)]
                prompts.append(_model.chat_ids(tokenizer, system, f.key))
                owners.append(i)
        aug_score = _score(local.answer_ids(prompts, longest), [targets[i] for i in owners], owners)
    return CheckResult(str(model_path), len(fingerprints), plain, aug_score)


def _score(answers: Sequence[Answer], targets: Sequence[Sequence[int]], owners: Sequence[int]) -> Score:
    exact = tokens = matched = 0
    missed: list[int] = []
    for answer, target, owner in zip(answers, targets, owners, strict=True):
        got = answer.tokens or ()
        hits = sum(1 for a, b in zip(got, target, strict=False) if a == b)
        tokens += len(target)
        matched += hits
        if tuple(got[: len(target)]) == tuple(target):
            exact += 1
        elif owner not in missed:
            missed.append(owner)
    return Score(len(answers), exact, tokens, matched, missed)


def perplexity(model_path: Path, text: str, *, window: int = 256) -> float:
    """Perplexity of the model in ``model_path`` on ``text``: exp of the mean next-token loss.

    The text is cut into consecutive windows of ``window`` tokens, each scored on its own
    (no overlap), so the figure is comparable between a model and its fingerprinted copy.

    Raises:
        InputError: the text has fewer than two tokens.
    """
    import math

    import torch

    tokenizer = _model.load_tokenizer(Path(model_path))
    model = load_model(Path(model_path))
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) < 2:
        raise InputError(
            "the held-out text is too short to measure perplexity", "give a few sentences at least"
        )
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids) - 1, window):
            chunk = torch.tensor([ids[start : start + window + 1]])
            if chunk.shape[1] < 2:
                break
            loss = model(input_ids=chunk, labels=chunk).loss
            total += float(loss) * (chunk.shape[1] - 1)
            count += chunk.shape[1] - 1
    return math.exp(total / count)
