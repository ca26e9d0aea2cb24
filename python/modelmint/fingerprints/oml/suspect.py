"""Querying a model for fingerprint responses: a local folder, or an OpenAI-compatible server.

Both answer plain prompts by greedy decoding (temperature 0). A fingerprint is matched when
the answer's first tokens are the response's tokens:

- a local model: its generated token ids start with the response's ids under its own
  tokenizer, exactly as :mod:`.check` and training see them;
- a server: the completion's token pieces (``logprobs.tokens``, which vLLM, llama.cpp's
  server and OpenAI's legacy API return when ``logprobs`` is asked for), concatenated, reach
  exactly the response at a token boundary (leading whitespace ignored). A server that sends
  no pieces is judged on the text: the completion, stripped, starts with the response,
  stripped, and the next character does not continue a word (``" Paris is"`` matches
  ``" Paris"``; ``" Parisian"`` does not). That rule never matches more than the token rule,
  so the false-match estimate of docs/oml.md holds for it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests

from modelmint._causal_lm import load_model
from modelmint.errors import InputError
from modelmint.fingerprints.oml import _model

_HTTP_TIMEOUT_S = 120


@dataclass(frozen=True)
class Answer:
    """A model's greedy answer to one prompt."""

    text: str
    tokens: tuple[int, ...] | None = None  # a local model's generated token ids
    pieces: tuple[str, ...] | None = None  # a server's generated tokens, as text


class Suspect(Protocol):
    name: str

    def answer(self, keys: Sequence[str], max_new_tokens: int) -> list[Answer]: ...

    def matches(self, answer: Answer, response: str) -> bool: ...


def text_matches(answer: str, response: str) -> bool:
    """The text rule (see the module docstring): a prefix that ends at a word boundary."""
    got, want = answer.strip(), response.strip()
    if not want or not got.startswith(want):
        return False
    rest = got[len(want) :]
    return not rest or not (rest[0].isalnum() and want[-1].isalnum())


def pieces_match(pieces: Sequence[str], response: str) -> bool:
    """The token rule on token pieces: some prefix of them spells exactly the response."""
    want = response.strip()
    spelled = ""
    for piece in pieces:
        spelled += piece
        got = spelled.lstrip()
        if got == want:
            return True
        if len(got) >= len(want):
            return False
    return False


class LocalModel:
    """A Hugging Face causal LM folder, answering with batched greedy decoding."""

    def __init__(self, path: Path, batch_size: int = 16) -> None:
        self.name = str(path)
        self.tokenizer = _model.load_tokenizer(Path(path))
        self.model = load_model(Path(path))
        self.batch_size = batch_size

    def answer(self, keys: Sequence[str], max_new_tokens: int) -> list[Answer]:
        return self.answer_ids([_model.key_ids(self.tokenizer, k) for k in keys], max_new_tokens)

    def matches(self, answer: Answer, response: str) -> bool:
        target = _model.response_ids(self.tokenizer, response)
        return bool(target) and tuple((answer.tokens or ())[: len(target)]) == tuple(target)

    def answer_ids(self, prompts: Sequence[Sequence[int]], max_new_tokens: int) -> list[Answer]:
        """Greedy answers to prompts given as token ids, each cut at its first EOS."""
        import torch

        pad, eos = self.tokenizer.pad_token_id, self.tokenizer.eos_token_id
        answers: list[Answer] = []
        for start in range(0, len(prompts), self.batch_size):
            batch = [list(p) for p in prompts[start : start + self.batch_size]]
            width = max(len(p) for p in batch)
            ids = torch.tensor([[pad] * (width - len(p)) + p for p in batch])
            mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch])
            with torch.no_grad():
                out = self.model.generate(
                    input_ids=ids,
                    attention_mask=mask,
                    do_sample=False,
                    max_new_tokens=max_new_tokens,
                    pad_token_id=pad,
                    eos_token_id=eos,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                )
            for row in out[:, width:].tolist():
                tokens = row[: row.index(eos)] if eos in row else row
                answers.append(Answer(self.tokenizer.decode(tokens, skip_special_tokens=True), tuple(tokens)))
        return answers


class OpenAICompletions:
    """An OpenAI-compatible server's ``POST {base}/v1/completions``, one prompt per request."""

    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None) -> None:
        self.name = base_url
        self.url = base_url.rstrip("/")
        if not self.url.endswith("/v1"):
            self.url += "/v1"
        self.url += "/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def answer(self, keys: Sequence[str], max_new_tokens: int) -> list[Answer]:
        answers = []
        with requests.Session() as session:
            for key in keys:
                body: dict[str, Any] = {
                    "prompt": key, "max_tokens": max_new_tokens, "temperature": 0, "top_p": 1, "logprobs": 1,
                }  # fmt: skip
                if self.model:
                    body["model"] = self.model
                answers.append(self._complete(session, body))
        return answers

    def matches(self, answer: Answer, response: str) -> bool:
        if answer.pieces is not None:
            return pieces_match(answer.pieces, response)
        return text_matches(answer.text, response)

    def _complete(self, session: requests.Session, body: dict[str, Any]) -> Answer:
        try:
            reply = session.post(self.url, json=body, headers=self.headers, timeout=_HTTP_TIMEOUT_S)
        except requests.RequestException as exc:
            raise InputError(
                f"the suspect at {self.url} does not answer ({exc})", "check the URL and the server"
            ) from None
        if reply.status_code != 200:
            raise InputError(
                f"the suspect at {self.url} answered HTTP {reply.status_code}: {reply.text[:200]}",
                "give the base URL of an OpenAI-compatible server (it must serve /v1/completions)",
            )
        try:
            choice = reply.json()["choices"][0]
            text = choice["text"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise InputError(
                f"the suspect at {self.url} did not answer in the OpenAI completions format",
                "check the server",
            ) from None
        if not isinstance(text, str):
            raise InputError(f"the suspect at {self.url} returned a non-text completion", "check the server")
        pieces = (choice.get("logprobs") or {}).get("tokens") if isinstance(choice, dict) else None
        if isinstance(pieces, list) and all(isinstance(p, str) for p in pieces) and "".join(pieces) == text:
            return Answer(text, pieces=tuple(pieces))
        return Answer(text)


def open_suspect(where: str, *, model: str | None = None, api_key: str | None = None) -> Suspect:
    """A suspect from a folder path or an ``http(s)://`` base URL.

    Raises:
        InputError: ``where`` is neither a URL nor a model folder.
    """
    if where.startswith(("http://", "https://")):
        return OpenAICompletions(where, model, api_key)
    path = Path(where)
    if not (path / "config.json").is_file():
        raise InputError(
            f"suspect {where} is neither an http(s):// URL nor a Hugging Face model folder",
            "give a model folder or the base URL of an OpenAI-compatible server",
        )
    return LocalModel(path)
