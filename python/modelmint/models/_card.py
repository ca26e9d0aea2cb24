"""The model card (README.md) of a registered model: Hugging Face front matter and a provenance section.

The card states the token's claims twice from one value, :class:`CardClaims`: as YAML under
the front matter's ``modelmint`` key (with the Hub's own ``base_model`` and ``datasets``
keys), for programs, and as a Markdown section between two markers, for people. The section
is always rendered from the claims, so ``modelmint model verify`` can check both: the claims
against the chain, and the section against the claims. Everything else in an existing card
(its prose, its other front-matter keys) is kept.

The card names the token, which exists only after the mint, so it is written after the
registration and is not part of the registered manifest (docs/integrations.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelmint.errors import InputError

CARD_FILE = "README.md"
CARD_SCHEMA = "modelmint.model-card.v1"
SECTION_START = "<!-- modelmint:provenance -->"
SECTION_END = "<!-- /modelmint:provenance -->"
DEVNET_CHAIN_ID = 31337

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.DOTALL)
_SECTION = re.compile(re.escape(SECTION_START) + r".*?" + re.escape(SECTION_END) + r"\n?", re.DOTALL)


@dataclass(frozen=True)
class DatasetClaim:
    token_id: int
    merkle_root: str
    name: str | None = None


@dataclass(frozen=True)
class FingerprintClaim:
    kind: str  # "HuRef" or "OML", as FingerprintKind names them
    commitment: str
    uri: str


@dataclass(frozen=True)
class CardClaims:
    """What a card says about its model's registration.

    Attributes:
        base_model, dataset_names: the Hub front-matter keys (repo ids or names), for the Hub.
        folder: the model folder's name, for the verify command the section shows.
    """

    chain_id: int
    model_contract: str
    dataset_contract: str
    token_id: int
    weights_root: str
    parent_token_id: int = 0
    parent_weights_root: str | None = None
    datasets: tuple[DatasetClaim, ...] = ()
    fingerprints: tuple[FingerprintClaim, ...] = ()
    base_model: str | None = None
    dataset_names: tuple[str, ...] = field(default=())
    folder: str = "."

    def to_yaml(self) -> dict[str, Any]:
        return {
            "schema": CARD_SCHEMA,
            "chain_id": self.chain_id,
            "contracts": {"ModelNFT": self.model_contract, "DatasetNFT": self.dataset_contract},
            "token_id": self.token_id,
            "weights_root": self.weights_root,
            "parent": {"token_id": self.parent_token_id, "weights_root": self.parent_weights_root}
            if self.parent_token_id
            else None,
            "datasets": [
                {"token_id": d.token_id, "merkle_root": d.merkle_root, "name": d.name} for d in self.datasets
            ],
            "fingerprints": [
                {"kind": f.kind, "commitment": f.commitment, "uri": f.uri} for f in self.fingerprints
            ],
            "folder": self.folder,
        }

    @classmethod
    def from_front(cls, front: dict[str, Any], where: str) -> CardClaims:
        """The claims of a card's front matter.

        Raises:
            InputError: the ``modelmint`` key is not a card this version wrote.
        """
        m: Any = front.get("modelmint")  # anything at all: the except below names what is wrong
        try:
            if m.get("schema") != CARD_SCHEMA:
                raise InputError(
                    f"{where} has modelmint provenance of schema {m.get('schema')!r}",
                    f"expected {CARD_SCHEMA}",
                )
            parent = m.get("parent") or {}
            return cls(
                chain_id=int(m["chain_id"]),
                model_contract=str(m["contracts"]["ModelNFT"]),
                dataset_contract=str(m["contracts"]["DatasetNFT"]),
                token_id=int(m["token_id"]),
                weights_root=str(m["weights_root"]),
                parent_token_id=int(parent.get("token_id") or 0),
                parent_weights_root=parent.get("weights_root"),
                datasets=tuple(
                    DatasetClaim(int(d["token_id"]), str(d["merkle_root"]), d.get("name"))
                    for d in m["datasets"]
                ),
                fingerprints=tuple(
                    FingerprintClaim(str(f["kind"]), str(f["commitment"]), str(f["uri"]))
                    for f in m["fingerprints"]
                ),
                base_model=front.get("base_model"),
                dataset_names=tuple(str(d) for d in front.get("datasets") or ()),
                folder=str(m.get("folder") or "."),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            raise InputError(
                f"{where} has a malformed modelmint provenance block in its front matter",
                "write the card again (resume_provenance), or verify the files against the token instead",
                hint="rewrite-card-or-token",
            ) from None


@dataclass(frozen=True)
class Card:
    """A README.md split into its parts."""

    front: dict[str, Any]
    body: str  # everything after the front matter, the provenance section removed
    section: str | None  # the provenance section as found, markers included

    @property
    def claims_present(self) -> bool:
        return isinstance(self.front.get("modelmint"), dict)


def read_card(path: Path) -> Card:
    """Splits a card into front matter, body and provenance section ({} and "" when absent).

    Raises:
        InputError: the file cannot be read, or its front matter is not a YAML mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Card({}, "", None)
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(
            f"cannot read the model card {path} ({e})", "check the file is readable UTF-8"
        ) from None
    return parse_card(text, str(path))


def parse_card(text: str, where: str = "the model card") -> Card:
    import yaml

    front: dict[str, Any] = {}
    match = _FRONT.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1) or "") or {}
        except yaml.YAMLError as e:
            raise InputError(
                # PyYAML's message spans lines (it draws a caret under the fault): one line here
                f"{where} has front matter that is not YAML ({' '.join(str(e).split())})",
                "repair the lines between the --- markers",
            ) from None
        if not isinstance(loaded, dict):
            raise InputError(
                f"{where} has front matter that is not a YAML mapping",
                "repair the lines between the --- markers",
            )
        front = loaded
        text = text[match.end() :]
    found = _SECTION.search(text)
    section = found.group(0) if found else None
    body = _SECTION.sub("", text) if found else text
    return Card(front, body, section)


def render_card(claims: CardClaims, existing: Card | None = None) -> str:
    """The card text: the existing card's front matter with the Hub keys and the claims set,
    its body, and the provenance section at the end."""
    import yaml

    front = dict(existing.front) if existing else {}
    if claims.base_model:
        front["base_model"] = claims.base_model
    if claims.dataset_names:
        front["datasets"] = list(claims.dataset_names)
    front.setdefault("library_name", "transformers")
    tags = list(front.get("tags") or [])
    if "modelmint" not in tags:
        tags.append("modelmint")
    front["tags"] = tags
    front["modelmint"] = claims.to_yaml()
    head = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=4096) + "---\n"
    body = (existing.body if existing else "").strip("\n")
    return head + ("\n" + body + "\n" if body else "") + "\n" + render_section(claims)


def render_section(claims: CardClaims) -> str:
    """The Markdown provenance section, markers included."""
    rows = [
        ("chain id", str(claims.chain_id)),
        ("ModelNFT contract", f"`{claims.model_contract}`"),
        ("DatasetNFT contract", f"`{claims.dataset_contract}`"),
        ("model token", str(claims.token_id)),
        ("weights root", f"`{claims.weights_root}`"),
        (
            "parent model",
            f"token {claims.parent_token_id} (weights root `{claims.parent_weights_root}`)"
            if claims.parent_token_id
            else "none",
        ),
    ]
    for d in claims.datasets:
        name = f" {d.name}" if d.name else ""
        rows.append(("training dataset", f"token {d.token_id}{name} (Merkle root `{d.merkle_root}`)"))
    rows.extend(
        (f"{f.kind} fingerprint", f"commitment `{f.commitment}`" + (f", {f.uri}" if f.uri else ""))
        for f in claims.fingerprints
    )
    rpc = "" if claims.chain_id == DEVNET_CHAIN_ID else f" --rpc-url <a node of chain {claims.chain_id}>"
    page = f"#chain={claims.chain_id}&dataset={claims.dataset_contract}&model={claims.model_contract}"
    lines = [
        SECTION_START,
        "## Provenance",
        "",
        (
            f"This model is registered with modelmint as ModelNFT token {claims.token_id} "
            f"on chain {claims.chain_id}, with its parent model and training datasets."
        ),
        "",
        "| claim | value |",
        "| --- | --- |",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        (
            "Check every claim of this card against the chain, and the files against the registered manifest, "
            "from the folder that holds this model:"
        ),
        "",
        "```sh",
        f"modelmint model verify {claims.folder}{rpc}",
        "```",
        "",
        f"or in a browser: run `modelmint web` and open its page with `{page}`.",
        SECTION_END,
        "",
    ]
    return "\n".join(lines)
