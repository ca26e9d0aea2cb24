"""What every fuzz target shares: the property, the temporary input file, and the atheris run.

Each ``fuzz_*.py`` beside this file is one target: a ``test_one_input(data)`` that feeds one
input to the code under test and fails (raises something other than ``ModelmintError``, or an
``AssertionError`` from :func:`check`) when the property breaks, and ``seeds()``, the inputs
fuzzing starts from. Run as a script, a target fuzzes under atheris (libFuzzer's coverage-guided
engine over Python's own coverage); tests/python/test_fuzz.py imports it to replay its seeds
and regressions, and runs it as a script for a few seconds. docs/security.md (Fuzzing) says
what the runs found.

The property, for every target: an input either parses or raises a ``ModelmintError`` with a
one-line message; never another exception (libFuzzer reports it with the input), never a hang
(``-timeout``), never unbounded memory (``-rss_limit_mb``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from modelmint.errors import ModelmintError

FUZZ = Path(__file__).resolve().parent
#: Inputs that once broke a target, one folder per target, replayed on every run (committed).
REGRESSIONS = FUZZ / "regressions"
#: Where a run writes an input that breaks a target (git-ignored but for its README).
CRASHES = FUZZ / "crashes"
#: The corpus a run grows, kept between runs so longer fuzzing builds on shorter (git-ignored).
CORPUS = FUZZ / ".corpus"

#: Seconds one input may take: far above any seed's time, so only a hang reaches it.
INPUT_TIMEOUT_S = 10
#: Memory the fuzzing process may hold; the interpreter with pyarrow and web3 is about 250 MB.
RSS_LIMIT_MB = 1536
#: Inputs longer than this are not generated: the readers are linear in size, and short inputs
#: reach every branch sooner.
MAX_INPUT_BYTES = 16_384


def instrumented(module_name: str) -> contextlib.AbstractContextManager[Any]:
    """Imports inside this block get coverage instrumentation when the target runs as a
    script (``module_name == "__main__"``): only modelmint's own modules, the code under test."""
    if module_name != "__main__":
        return contextlib.nullcontext()
    import atheris

    return atheris.instrument_imports(include=["modelmint"])


def check(call: Callable[[], Any]) -> tuple[Any, ModelmintError | None]:
    """Runs ``call``: returns its result, or the ``ModelmintError`` it raised (with a one-line
    message). Any other exception propagates, which is the failure fuzzing looks for."""
    try:
        return call(), None
    except ModelmintError as e:
        error = e
    message = str(error)
    assert message.strip(), f"{type(error).__name__} with an empty message"
    assert "\n" not in message, f"message is not one line: {message!r}"
    assert "\r" not in message, f"message is not one line: {message!r}"
    return None, error


class InputFile:
    """One file, rewritten for each input: the readers under test take paths.

    An anonymous memory file (``memfd``) named by its ``/proc/self/fd`` path: libFuzzer ends
    the process without running Python's exit handlers, and such a file leaves nothing behind.
    Where there is none (not Linux: the seeds replay there, atheris does not run), a temporary
    file.
    """

    def __init__(self, suffix: str) -> None:
        if hasattr(os, "memfd_create"):
            self._fd = os.memfd_create(f"modelmint-fuzz{suffix}")
            self.path = Path(f"/proc/self/fd/{self._fd}")
        else:
            self._fd, name = tempfile.mkstemp(suffix=suffix)
            self.path = Path(name)

    def write(self, data: bytes) -> Path:
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        return self.path


def regressions(target: str) -> list[bytes]:
    """The committed inputs that once broke ``target``."""
    folder = REGRESSIONS / target
    return [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()] if folder.is_dir() else []


def replay(test_one_input: Callable[[bytes], None], inputs: Iterable[bytes]) -> int:
    """Runs every input through the target here, without the fuzzing engine; returns the count."""
    count = 0
    for data in inputs:
        test_one_input(data)
        count += 1
    return count


def main(target: str, test_one_input: Callable[[bytes], None], seeds: Callable[[], Iterator[bytes]]) -> None:
    """Fuzzes ``target`` under atheris for ``--seconds`` (default $FUZZ_SECONDS, else 60).

    The corpus starts from ``seeds()`` and the committed regressions and grows in
    ``--corpus`` (default tests/fuzz/.corpus/<target>); an input that breaks the target is
    written to tests/fuzz/crashes/<target>-<kind>-<sha1>, and the process exits non-zero.
    libFuzzer's final statistics (``stat::number_of_executed_units``) end the output.
    """
    import atheris

    parser = argparse.ArgumentParser(description=f"Fuzz {target} (tests/fuzz/_harness.py).")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "60")))
    parser.add_argument("--corpus", type=Path, default=CORPUS / target)
    args, engine_args = parser.parse_known_args()
    if any(not a.startswith("-") and Path(a).is_file() for a in engine_args):
        # Files given: libFuzzer runs just those, once each (replaying a crash).
        atheris.Setup([sys.argv[0], *engine_args], test_one_input)
        atheris.Fuzz()
    args.corpus.mkdir(parents=True, exist_ok=True)
    for data in seeds():
        # A longer seed (the deep nesting of issue 14) is replayed by tests/python/test_fuzz.py;
        # cut to -max_len here, it would only slow the run down.
        if len(data) <= MAX_INPUT_BYTES:
            (args.corpus / f"seed-{hashlib.sha1(data).hexdigest()}").write_bytes(data)
    CRASHES.mkdir(exist_ok=True)
    folders = [str(args.corpus)] + ([str(REGRESSIONS / target)] if (REGRESSIONS / target).is_dir() else [])
    argv = [
        sys.argv[0],
        f"-max_total_time={args.seconds}",
        f"-timeout={INPUT_TIMEOUT_S}",
        f"-rss_limit_mb={RSS_LIMIT_MB}",
        f"-max_len={MAX_INPUT_BYTES}",
        f"-artifact_prefix={CRASHES}/{target}-",
        "-print_final_stats=1",
        *engine_args,
        *folders,
    ]
    print(f"fuzz {target}: {args.seconds} s, corpus {args.corpus}", flush=True)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
