"""The fuzz targets of tests/fuzz, briefly: `make fuzz` runs each for longer.

Each target replays its seeds and the inputs that once broke it (tests/fuzz/regressions) in
this process, then fuzzes for a few seconds under atheris in its own process, as `make fuzz`
runs it. The property (tests/fuzz/_harness.py): every input parses or raises a ModelmintError
with a one-line message, and the two routes of a dataset reader agree. docs/security.md
(Fuzzing) reports what longer runs found.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
TARGETS = ["jsonl", "csv", "parquet", "cid", "proof", "metadata"]
#: Inputs fuzzed per target here, from a fixed seed: the same inputs on every run, so `make test`
#: is repeatable and a failure here is a regression; `make fuzz` explores (random seed, by time).
BRIEF_RUNS = 1500
BRIEF_SEED = 1
#: A bound on the seconds, should a target slow down (six targets take a few seconds in all).
BRIEF_SECONDS = 30


def _target(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    monkeypatch.syspath_prepend(str(FUZZ))  # the targets import _harness beside them, as scripts do
    return importlib.import_module(f"fuzz_{name}")


@pytest.mark.parametrize("name", TARGETS)
def test_seeds_and_regressions_hold(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    target = _target(monkeypatch, name)
    harness = importlib.import_module("_harness")
    assert harness.replay(target.test_one_input, target.seeds()) > 0
    harness.replay(target.test_one_input, harness.regressions(name))


@pytest.mark.parametrize("name", TARGETS)
def test_fuzzing_briefly_finds_nothing(tmp_path: Path, name: str) -> None:
    pytest.importorskip("atheris", reason="atheris ships wheels for Linux x86-64 only")
    done = subprocess.run(
        [
            sys.executable,
            str(FUZZ / f"fuzz_{name}.py"),
            "--seconds",
            str(BRIEF_SECONDS),
            "--corpus",
            str(tmp_path),
            f"-runs={BRIEF_RUNS}",
            f"-seed={BRIEF_SEED}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    executions = re.search(r"stat::number_of_executed_units: (\d+)", output)
    assert executions is not None, output[-4000:]
    assert int(executions.group(1)) > 0
