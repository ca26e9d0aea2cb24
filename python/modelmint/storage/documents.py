"""JSON documents read back from the content store: one loader, one set of rules, one error.

Whatever a store serves was written by whoever minted the token, so every JSON document
modelmint reads from it (token metadata, weights manifests, HuRef bundle headers, OML
commitment documents) goes through :func:`parse_document` before any field is used: a size
cap for its kind, the nesting check datapoints get (a deeply nested text would otherwise
crash the process: importing web3 raises the recursion limit, and CPython's JSON scanner
recurses on the C stack), strict JSON (UTF-8, no repeated keys, no NaN or infinities, no
lone surrogates), and one error, an ``IntegrityError`` naming the document. The typed readers
of each kind (``registry.metadata``, ``models.WeightsManifest``, the HuRef bundle) then check
the type of every field they use. docs/security.md ("Untrusted documents") lists the caps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from modelmint.errors import InputError, IntegrityError, ModelmintError
from modelmint.hashing.canonical import parse_json_text

if TYPE_CHECKING:
    from modelmint.storage import ContentStore

_T = TypeVar("_T")

#: ERC-721 metadata of a dataset or model token. modelmint writes a few kilobytes (a model's
#: facts and special tokens included); 1 MiB leaves room for any honest extension.
METADATA_MAX_BYTES = 1 << 20
#: An OML commitment document: a dozen fields, the digests themselves are a separate leaf list.
OML_DOCUMENT_MAX_BYTES = 1 << 20
#: A weights manifest: about 150 bytes a file, so some 400,000 files.
MANIFEST_MAX_BYTES = 64 << 20

#: What a refused document's error says to do: nothing in it can be trusted or used.
REFUSED = "refused: it was not written by modelmint, and nothing in it is used"


def parse_document(data: bytes, *, what: str, max_bytes: int) -> Any:
    """The JSON value of a document read from an untrusted source, checked by the rules above.

    Args:
        data: the document's bytes.
        what: the document, as error messages name it (``"the metadata of dataset 3 (ipfs://…)"``).
        max_bytes: the most bytes a document of this kind may hold.

    Raises:
        IntegrityError: larger than ``max_bytes``, not UTF-8, not strict JSON, or nested more
            deeply than ``hashing.canonical.MAX_NESTING``. Nothing else, whatever ``data`` is.
    """
    if len(data) > max_bytes:
        raise IntegrityError(
            f"{what} is {len(data):,} bytes, more than the {max_bytes:,} a document of its kind may hold",
            REFUSED,
        )
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused(what, f"not UTF-8 text (byte {exc.start})") from None
    try:
        value = parse_json_text(text)
    except InputError as exc:
        raise _refused(what, exc.problem) from None
    why = _not_strict(value)
    if why:
        raise _refused(what, why)
    return value


def read_document(store: ContentStore, cid: str, *, what: str, max_bytes: int) -> Any:
    """Read ``cid`` from ``store``, at most ``max_bytes`` of it, and parse it as :func:`parse_document`.

    ``what`` names the document in errors; its ``ipfs://`` URI is added.

    Raises:
        IntegrityError: the content is larger than ``max_bytes``, altered, or not a document
            by the rules above.
        StoreError: the store cannot serve it.
        InputError: ``cid`` is not a CID modelmint produces.
    """
    named = f"{what} (ipfs://{cid})"
    return parse_document(
        read_content(store, cid, what=named, max_bytes=max_bytes), what=named, max_bytes=max_bytes
    )


def read_content(store: ContentStore, cid: str, *, what: str, max_bytes: int) -> bytes:
    """``store.get(cid, max_bytes)`` for content of any kind, with ``what`` (the content, as a
    message names it) before the store's own words in any error, which name the CID only.

    Raises:
        IntegrityError, StoreError, InputError: as ``ContentStore.get``.
    """
    try:
        return store.get(cid, max_bytes)
    except ModelmintError as exc:
        exc.problem = f"{what}: {exc.problem}"
        raise


class Fields:
    """Reads the fields of one parsed document by their JSON types, naming the field
    (``modelmint.shards[2].datapoints``) in a refusal: the one way the typed readers of every
    kind check what they use. ``refuse`` makes the reason into its kind's error."""

    def __init__(self, refuse: Callable[[str], IntegrityError]) -> None:
        self.refuse = refuse

    def top(self, document: Any) -> Mapping[str, Any]:
        """The document itself, which must be an object."""
        if not isinstance(document, Mapping):
            raise self.refuse(f"the document is {json_type(document)}, not an object")
        return document

    def object(self, obj: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
        name, value = self._get(obj, key, where)
        if not isinstance(value, Mapping):
            raise self._wrong(name, value, "an object")
        return value

    def text(self, obj: Mapping[str, Any], key: str, where: str = "") -> str:
        name, value = self._get(obj, key, where)
        if not isinstance(value, str):
            raise self._wrong(name, value, "a string")
        return value

    def count(self, obj: Mapping[str, Any], key: str, where: str = "") -> int:
        """A whole number >= 0."""
        return self._count(*self._get(obj, key, where))

    def counts(self, obj: Mapping[str, Any], key: str, where: str = "") -> list[int]:
        """An array of whole numbers >= 0."""
        name, items = self._array(obj, key, where)
        return [self._count(f"{name}[{i}]", item) for i, item in enumerate(items)]

    def numbers(self, obj: Mapping[str, Any], key: str, where: str = "") -> list[float]:
        """An array of numbers (finite: the parser refuses any other)."""
        name, items = self._array(obj, key, where)
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise self._wrong(f"{name}[{i}]", item, "a number")
        return items

    def objects(self, obj: Mapping[str, Any], key: str, where: str = "") -> list[Mapping[str, Any]]:
        """An array of objects."""
        name, items = self._array(obj, key, where)
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise self._wrong(f"{name}[{i}]", item, "an object")
        return items

    def optional(
        self, obj: Mapping[str, Any], key: str, where: str, read: Callable[[Mapping[str, Any], str, str], _T]
    ) -> _T | None:
        """``read`` of the field, or None when it is absent or null."""
        return None if obj.get(key) is None else read(obj, key, where)

    def _get(self, obj: Mapping[str, Any], key: str, where: str) -> tuple[str, Any]:
        name = f"{where}.{key}" if where else key
        if key not in obj:
            raise self.refuse(f"it has no {name}")
        return name, obj[key]

    def _array(self, obj: Mapping[str, Any], key: str, where: str) -> tuple[str, list[Any]]:
        name, value = self._get(obj, key, where)
        if not isinstance(value, list):
            raise self._wrong(name, value, "an array")
        return name, value

    def _count(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(name, value, "a whole number")
        if value < 0:
            raise self.refuse(f"{name} is negative")
        return value

    def _wrong(self, name: str, value: Any, expected: str) -> IntegrityError:
        return self.refuse(f"{name} is {json_type(value)}, not {expected}")


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages that must not echo a hostile value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _refused(what: str, why: str) -> IntegrityError:
    return IntegrityError(f"{what} is not a JSON document modelmint can read ({why})", REFUSED)


def _not_strict(value: Any) -> str | None:
    """Why a parsed value breaks a rule the parser does not enforce, else None (iterative: the
    nesting is bounded, but a document may hold millions of values)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not _valid_unicode(item):
                return "a string that is not valid Unicode (a lone surrogate)"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "a number too large for a double"
        elif isinstance(item, dict):
            if not all(k.isascii() or _valid_unicode(k) for k in item):
                return "a key that is not valid Unicode (a lone surrogate)"
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
