"""Runs ``modelmint`` commands in-process, one fork per command, for the bad-input corpus.

Importing the CLI (web3, pyarrow, torch) costs seconds; a fresh interpreter per case would make
the corpus take minutes. This process imports it once; each request forks a child that runs
``main()`` exactly as ``python -m modelmint`` would, with its own environment, working folder,
and stdin/stdout/stderr redirected to files, so cases stay isolated from each other.

Protocol: one JSON object per line on stdin
(``{"argv": [...], "env": {...}, "cwd": ..., "stdin": path, "stdout": path, "stderr": path}``);
one JSON line ``{"code": N}`` per request on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback

# Heavy modules the commands import lazily: imported here once, shared by every fork.
import pyarrow.parquet  # noqa: F401
import safetensors  # noqa: F401
import torch  # noqa: F401

from modelmint.cli import main

CASE_TIMEOUT_S = 120


def _run_child(request: dict) -> None:
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    for fd, path, flags in (
        (0, request["stdin"], os.O_RDONLY),
        (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        opened = os.open(path, flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    signal.alarm(CASE_TIMEOUT_S)  # a hung case dies by SIGALRM instead of hanging the corpus
    sys.argv = ["modelmint", *request["argv"]]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # what the interpreter would do with an uncaught exception
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            try:
                _run_child(request)
            finally:  # never let a child fall back into this loop
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        sys.stdout.write(json.dumps({"code": code}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
