"""The Ray driver process of the ray engine: ``python -m modelmint.datasets._ray_driver``.

Reads the job (a frame of :mod:`._frames`) from stdin and writes the shards' results to stdout; see
:func:`modelmint.datasets.engine.run_driver`. Ray's own messages go to stderr.
"""

from __future__ import annotations

import os
import sys

from modelmint.datasets._frames import read_frame
from modelmint.datasets.engine import run_driver


def main() -> None:
    received, job = read_frame(sys.stdin.buffer)
    if not received:
        sys.exit("modelmint's Ray driver: no job on stdin")
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed goes to stderr, not into the results
    run_driver(job, out)


if __name__ == "__main__":
    main()
