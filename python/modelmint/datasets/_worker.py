"""A hashing worker process: ``python -m modelmint.datasets._worker``.

Reads tasks from stdin and writes their results to stdout, each a frame of
:mod:`._frames`. A task is ``(function, arguments)``; a result is
``("ok", value)``, ``("input", None)`` when the function raised InputError, or ``("bug",
traceback)``. It exits at the end of its input. See ``_pieces._WorkerProcesses``.
"""

from __future__ import annotations

import os
import sys
import traceback

from modelmint.datasets._frames import read_frame, write_frame
from modelmint.errors import InputError


def main() -> None:
    tasks = sys.stdin.buffer
    # Results go to the real stdout; anything else printed goes to stderr instead.
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    while True:
        received, task = read_frame(tasks)
        if not received:
            break
        work, arguments = task
        try:
            result: tuple[str, object] = ("ok", work(*arguments))
        except InputError:
            result = ("input", None)
        except BaseException:  # reported to the caller, which raises it
            result = ("bug", traceback.format_exc())
        write_frame(results, result)


if __name__ == "__main__":
    main()
