"""The fingerprint file: OML 1.0's JSON format, read and written.

A fingerprint file is a JSON list of objects, each with a string ``key`` (the secret
prompt) and a string ``response`` (what the fingerprinted model answers), exactly as
sentient-agi/oml-1.0-fingerprinting's ``generate_finetuning_data.py`` writes it, so files
from either tool load in the other. Other fields of an entry are kept as they are
(OML's own files carry some, e.g. ``seq_probs``); modelmint adds ``strategy`` and
``null_match_prob`` (the chance that a model never trained on the pair answers it,
see docs/oml.md).

A keys file (``--keys-file``) is a JSON list of strings, or a fingerprint file whose keys
are taken.

These files are secret: keep them local. Nothing in them goes on-chain or into the
content store until the owner reveals a fingerprint.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelmint._files import write_atomic
from modelmint.errors import InputError

_FIX = 'give a JSON list of {"key": "...", "response": "..."} objects (OML 1.0 format)'


@dataclass(frozen=True)
class Fingerprint:
    """One secret (key, response) pair.

    Attributes:
        key: the prompt, given to the model as plain text (no chat template).
        response: what the fingerprinted model answers, decoded text.
        strategy: how the pair was generated ("" when unknown, as in OML's own files).
        null_match_prob: the probability that a model not trained on this pair answers
            ``response`` to ``key`` by greedy decoding, or None when unknown.
        extra: any other fields of the entry, kept for round trips.
    """

    key: str
    response: str
    strategy: str = ""
    null_match_prob: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "response": self.response}
        if self.strategy:
            out["strategy"] = self.strategy
        if self.null_match_prob is not None:
            out["null_match_prob"] = self.null_match_prob
        out.update(self.extra)
        return out


def read_fingerprints(path: Path) -> list[Fingerprint]:
    """Reads a fingerprint file.

    Raises:
        InputError: the file cannot be read, is not a JSON list of objects with non-empty
            string ``key`` and ``response`` (``signature``, the name in OML 1.0's older
            files, is read as ``response``), holds a list of responses (OML's multiple
            signatures), or gives one key two different responses.
    """
    data = _load_json(path, "fingerprint file")
    if not isinstance(data, list) or not data:
        raise InputError(f"fingerprint file {path} is not a non-empty JSON list", _FIX)
    fingerprints: list[Fingerprint] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data):
        where = f"fingerprint file {path}, entry {index}"
        if not isinstance(entry, dict):
            raise InputError(f"{where} is not an object", _FIX)
        key, response = entry.get("key"), entry.get("response")
        if "signature" in entry:
            # OML 1.0's older files (random-words-...) name the response `signature`.
            if "response" in entry and entry["signature"] != response:
                raise InputError(f"{where} has a 'signature' and a different 'response'", "keep one of them")
            response = entry["signature"]
        if isinstance(response, list):
            raise InputError(f"{where} has a list of responses", "give each key exactly one string response")
        if not isinstance(key, str) or not key.strip():
            raise InputError(f"{where} has no non-empty string 'key'", _FIX)
        if not isinstance(response, str) or not response.strip():
            raise InputError(f"{where} has no non-empty string 'response'", _FIX)
        if key in seen:
            raise InputError(f"{where} repeats the key of entry {seen[key]}", "give each key once")
        seen[key] = index
        prob = entry.get("null_match_prob")
        if prob is not None and not (
            isinstance(prob, (int, float)) and 0 <= prob <= 1 and math.isfinite(prob)
        ):
            raise InputError(f"{where} has a null_match_prob outside [0, 1]", "fix or drop the field")
        strategy = entry.get("strategy", "")
        extra = {
            k: v
            for k, v in entry.items()
            if k not in ("key", "response", "signature", "strategy", "null_match_prob")
        }
        fingerprints.append(
            Fingerprint(key, response, strategy if isinstance(strategy, str) else "", prob, extra)
        )
    return fingerprints


def read_keys(path: Path) -> list[str]:
    """Reads a keys file: a JSON list of strings, or the keys of a fingerprint file.

    Raises:
        InputError: the file is neither.
    """
    data = _load_json(path, "keys file")
    if isinstance(data, list) and data and all(isinstance(k, str) and k.strip() for k in data):
        return list(data)
    if isinstance(data, list) and data and all(isinstance(e, dict) for e in data):
        return [f.key for f in read_fingerprints(path)]
    raise InputError(
        f"keys file {path} is not a JSON list of non-empty strings", 'give ["key one", "key two", ...]'
    )


def write_fingerprints(path: Path, fingerprints: Iterable[Fingerprint]) -> None:
    """Writes a fingerprint file (OML format, one entry per line), atomically, readable by the owner only."""
    entries = [json.dumps(f.to_json(), ensure_ascii=False) for f in fingerprints]
    text = "[\n" + ",\n".join(entries) + "\n]\n"
    write_atomic(Path(path), text.encode())
    Path(path).chmod(0o600)


def null_match_probability(fingerprints: Sequence[Fingerprint]) -> float | None:
    """The largest per-fingerprint null-match probability of a set, or None if any is unknown."""
    probs = [f.null_match_prob for f in fingerprints]
    if not probs or any(p is None for p in probs):
        return None
    return max(p for p in probs if p is not None)


def _load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist", "check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {path} ({exc})", "give a UTF-8 JSON file") from None
    except ValueError as exc:
        raise InputError(f"{what} {path} is not valid JSON ({exc})", _FIX) from None
