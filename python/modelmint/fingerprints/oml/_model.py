"""Loading a tokenizer for OML work, and the one way prompts and responses become tokens.

Training (:mod:`.embed`), checking (:mod:`.check`) and querying a local suspect
(:mod:`.suspect`) all encode through these functions, so a fingerprint is trained on
exactly the tokens it is later tested with:

- a plain prompt is the key as text, with the special tokens the tokenizer adds to any
  prompt (a BOS for Llama-3 or Mistral, nothing for SmolLM2) and no EOS;
- an augmented prompt is the tokenizer's chat template over a system prompt and the key as
  the user message, with the assistant turn opened;
- a response is its own tokens, without special tokens (and without a closing EOS: a
  fingerprint is recalled when the answer starts with the response).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from modelmint._causal_lm import check_model_folder
from modelmint.errors import InputError


def load_tokenizer(path: Path) -> Any:
    """The tokenizer of model folder ``path``, with a pad token (the EOS if it has none)."""
    from transformers import AutoTokenizer

    check_model_folder(path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"cannot load the tokenizer in {path} ({exc})", "give a Hugging Face causal LM folder"
        ) from None
    if tokenizer.eos_token_id is None:
        raise InputError(
            f"the tokenizer in {path} has no EOS token", "give a causal LM tokenizer that defines eos_token"
        )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def key_ids(tokenizer: Any, key: str) -> list[int]:
    """The tokens of a plain prompt: the key with the tokenizer's prompt special tokens, no EOS."""
    ids = list(tokenizer(key, add_special_tokens=True)["input_ids"])
    if len(ids) > 1 and ids[-1] == tokenizer.eos_token_id:
        ids.pop()
    return ids


def chat_ids(tokenizer: Any, system_prompt: str, key: str) -> list[int]:
    """The tokens of an augmented prompt: the chat template over ``system_prompt`` and ``key``.

    Raises:
        InputError: the tokenizer has no chat template.
    """
    if not has_chat_template(tokenizer):
        raise InputError(
            f"the tokenizer of {getattr(tokenizer, 'name_or_path', 'this model')} has no chat template, "
            "which prompt augmentation needs",
            "work without prompt augmentation, or use a model whose tokenizer has a chat template",
            hint="no-augment",
        )
    messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": key}]
    encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if isinstance(encoded, dict) or hasattr(encoded, "keys"):
        encoded = encoded["input_ids"]
    return [int(t) for t in encoded]


def response_ids(tokenizer: Any, response: str) -> list[int]:
    """The tokens of a response, without special tokens."""
    return list(tokenizer(response, add_special_tokens=False)["input_ids"])


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


@lru_cache(maxsize=2)
def augmentation_prompts(split: Literal["train", "test"]) -> tuple[str, ...]:
    """The system prompts of prompt augmentation: ``train`` for embedding, held-out ``test`` for checking."""
    text = (
        resources.files("modelmint.fingerprints.oml")
        .joinpath(f"data/augmentation_prompts_{split}.json")
        .read_text()
    )
    return tuple(json.loads(text))
