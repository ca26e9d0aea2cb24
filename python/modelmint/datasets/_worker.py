"""A hashing worker process: ``python -m modelmint.datasets._worker``.

Reads tasks from stdin and writes their results to stdout, each a pickle prefixed by its
length (8 bytes, little-endian). A task is ``(function, arguments)``; a result is
``("ok", value)``, ``("input", None)`` when the function raised InputError, or ``("bug",
traceback)``. It exits at the end of its input. See ``_pieces._WorkerProcesses``.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback

from modelmint.errors import InputError


def main() -> None:
    tasks = sys.stdin.buffer
    # Results go to the real stdout; anything else printed goes to stderr instead.
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    while len(header := tasks.read(8)) == 8:
        work, arguments = pickle.loads(tasks.read(int.from_bytes(header, "little")))
        try:
            result: tuple[str, object] = ("ok", work(*arguments))
        except InputError:
            result = ("input", None)
        except BaseException:  # reported to the caller, which raises it
            result = ("bug", traceback.format_exc())
        data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        results.write(len(data).to_bytes(8, "little") + data)
        results.flush()


if __name__ == "__main__":
    main()
