"""The Ray driver process of the ray engine: ``python -m modelmint.datasets._ray_driver``.

Reads the job (a pickle) from stdin and writes the shards' results to stdout; see
:func:`modelmint.datasets.engine.run_driver`. Ray's own messages go to stderr.
"""

from __future__ import annotations

import os
import pickle
import sys

from modelmint.datasets.engine import run_driver


def main() -> None:
    job = pickle.loads(sys.stdin.buffer.read())
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed goes to stderr, not into the results
    run_driver(job, out)


if __name__ == "__main__":
    main()
