"""The compiled contracts that ship inside the package: ABI and bytecode, no compiler needed.

``modelmint build`` (:mod:`modelmint.chain.compiler`) writes one JSON file per deployable
contract into ``modelmint/chain/artifacts/``; at run time :func:`load_artifact` reads it
back. The file's keys: ``contractName``, ``abi``, ``bytecode`` and ``deployedBytecode``
(0x-hex), ``sourceHash`` (see :func:`modelmint.chain.compiler.source_hash`) and
``compiler`` (``version`` and the standard-JSON ``settings`` used).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from modelmint.errors import ModelmintError


class BuildError(ModelmintError):
    """The contracts cannot be compiled, or their packaged build artifacts are missing or damaged."""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract.

    Attributes:
        name: the contract's name, e.g. ``"DatasetNFT"``.
        abi: the contract's JSON ABI entries (treat them as read-only).
        bytecode: the creation bytecode, constructor arguments not included.
        deployed_bytecode: the runtime bytecode, with zeros where immutables go.
        source_hash: ``0x``-hex SHA-256 over the Solidity sources it was built from.
    """

    name: str
    abi: tuple[dict[str, Any], ...]
    bytecode: bytes
    deployed_bytecode: bytes
    source_hash: str


def load_artifact(name: str) -> Artifact:
    """Returns the packaged artifact of contract ``name``.

    Raises:
        BuildError: there is no artifact of that name, or it cannot be read.
    """
    resource = resources.files("modelmint.chain") / "artifacts" / f"{name}.json"
    try:
        data = json.loads(resource.read_text(encoding="utf-8"))
        return Artifact(
            name=data["contractName"],
            abi=tuple(data["abi"]),
            bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
            deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
            source_hash=data["sourceHash"],
        )
    except FileNotFoundError:
        raise BuildError(
            f"no build artifact for contract {name!r}",
            "compile the contracts in the project checkout (chain.compiler)",
            hint="build",
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BuildError(
            f"the build artifact of {name!r} is damaged ({exc})",
            "compile the contracts again (chain.compiler)",
            hint="build-force",
        ) from None


_PUSH1, _PUSH32 = 0x60, 0x7F


def runtime_matches(artifact: Artifact, code: bytes) -> bool:
    """Whether ``code``, read from a chain (``eth_getCode``), is ``artifact``'s runtime code.

    The rule (docs/security.md, "Trusting the node"), mirrored by any other checker:

    - the CBOR metadata trailer solc appends (its length is the last two bytes) is dropped
      from both: it hashes the sources' text and paths, not what the code does;
    - what is left must be equal byte for byte and of the same length, except that the
      32 bytes after each ``PUSH32`` whose argument is all zeros in the artifact may differ:
      that is where solc leaves room for an immutable, filled in by the constructor (ModelNFT's
      DatasetNFT address). Instructions are walked from the start, so push data is never
      read as an opcode.
    """
    expected, actual = _without_metadata(artifact.deployed_bytecode), _without_metadata(bytes(code))
    if len(expected) != len(actual) or not expected:
        return False
    i = 0
    while i < len(expected):
        op = expected[i]
        width = op - _PUSH1 + 1 if _PUSH1 <= op <= _PUSH32 else 0
        if op != actual[i]:
            return False
        data = slice(i + 1, i + 1 + width)
        immutable = op == _PUSH32 and not any(expected[data])
        if not immutable and expected[data] != actual[data]:
            return False
        i += 1 + width
    return True


def _without_metadata(code: bytes) -> bytes:
    if len(code) < 2:
        return code
    length = int.from_bytes(code[-2:], "big")
    # The trailer is a CBOR map (major type 5: 0xa0-0xbf) of ``length`` bytes before the two.
    if length + 2 <= len(code) and 0xA0 <= code[-2 - length] <= 0xBF:
        return code[: -2 - length]
    return code
