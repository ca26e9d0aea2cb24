"""The one exception family modelmint raises for failures a user can act on.

Every error carries two parts: what went wrong and what to do about it. The CLI prints
them on one line and exits non-zero; anything that is not a ``ModelmintError`` is a bug.
"""

from __future__ import annotations


class ModelmintError(Exception):
    """A failure the user can fix: ``problem`` says what went wrong, ``fix`` what to do.

    ``fix`` speaks of the library's own terms (arguments, functions). ``hint`` names the
    remedy for a front end that says it in its own words (the CLI names its flags and
    commands), with the values it needs in ``hint_values``.
    """

    def __init__(
        self,
        problem: str,
        fix: str | None = None,
        *,
        hint: str | None = None,
        hint_values: dict[str, object] | None = None,
    ) -> None:
        self.problem = problem.rstrip(".")
        self.fix = fix
        self.hint = hint
        self.hint_values: dict[str, object] = dict(hint_values or {})
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.problem}: {self.fix}" if self.fix else self.problem


class InputError(ModelmintError):
    """A file, folder or argument given by the user cannot be used as it is."""


class IntegrityError(ModelmintError):
    """Data does not match the hash or commitment it claims (content store, chain)."""


class StoreError(ModelmintError):
    """The content store (local folder or IPFS daemon) cannot serve a request."""


class EngineError(ModelmintError):
    """The distributed engine (a Ray cluster) cannot be reached, or fails a job."""


class ChainError(ModelmintError):
    """The node cannot be reached, or refuses or fails a call."""


class RevertError(ChainError):
    """A contract call reverted; ``name`` and ``values`` are the decoded custom error."""

    def __init__(self, contract: str, name: str, args: dict[str, object], fix: str | None = None) -> None:
        self.contract = contract
        self.name = name
        self.values = args
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in args.items())
        super().__init__(f"{contract} reverted with {name}({rendered})", fix)


def _render(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return str(value)
