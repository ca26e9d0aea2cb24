"""Fault injection for the crash tests: ``MODELMINT_FAULT=<step>`` kills the process at that step.

Only the tests set the variable (tests/python/registry/test_kill_at_every_step.py); it is
documented in docs/security.md, "Crashes and retries". A sending command passes these steps:

``after-store``
    its content (leaf list, manifest, metadata, fingerprint document) is in the content store;
``before-send``
    a transaction is signed, not yet handed to the node;
``after-send``
    the node has the transaction, its receipt is not seen yet;
``after-receipt``
    the receipt is seen, no local record (secrets file update, output) is written yet.

``<step>@<n>`` kills at the n-th time the step is reached (a two-step mint sends twice). The
kill is SIGKILL: no ``finally``, no ``atexit``, no flushed buffers, as when the machine dies.
"""

from __future__ import annotations

import os
import signal

_VARIABLE = "MODELMINT_FAULT"
STEPS = ("after-store", "before-send", "after-send", "after-receipt")
_reached: dict[str, int] = {}


def fault_point(step: str) -> None:
    """Kill this process with SIGKILL if ``MODELMINT_FAULT`` names ``step`` (a dict look-up otherwise)."""
    wanted = os.environ.get(_VARIABLE)
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name != step:
        return
    _reached[step] = _reached.get(step, 0) + 1
    if _reached[step] == (int(nth) if nth else 1):
        os.kill(os.getpid(), signal.SIGKILL)
