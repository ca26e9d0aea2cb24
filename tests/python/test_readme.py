"""The README stays true: its shell examples run as written, and every command it names exists.

The `make demo` / `make test` lines are the two commands `.ci/run` itself runs on a clean
clone; every `modelmint ...` line of the README's shell blocks is run here, in order, in a
fresh project folder with its own devnet, exactly as a reader would type it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import typer

from modelmint.cli import app
from tests_support import REPO

README = (REPO / "README.md").read_text()
SH_BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)


def _lines(prefix: str) -> list[str]:
    found = []
    for block in SH_BLOCKS:
        for raw in block.splitlines():
            line = raw.split("#", 1)[0].strip()
            if line.startswith(prefix + " "):
                found.append(line)
    return found


def test_make_lines_are_makefile_targets_and_ci_runs_both_commands():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), flags=re.MULTILINE))
    named = [shlex.split(line)[1] for line in _lines("make")]
    assert {"demo", "test"} <= set(named)
    assert set(named) <= targets, set(named) - targets
    inline = set(re.findall(r"`make ([a-z][a-z-]*)`", README))
    assert inline <= targets, inline - targets
    ci = (REPO / ".ci" / "run").read_text()
    for step in ("make demo", "make test", "make test-slow", "make lint"):
        assert f'"{step}" {step}' in ci or f"{step}\n" in ci, step


def test_every_command_in_the_cli_table_exists():
    """Each `modelmint X Y` the README's CLI table names is a command of the CLI.

    Looked up in the command tree rather than run: test_log_output.py already runs every
    command's --help in a subprocess.
    """
    named = sorted(
        set(re.findall(r"^\| `modelmint ([a-z][a-z -]*?)(?: [A-Z(\[]|`)", README, flags=re.MULTILINE))
    )
    assert len(named) >= 15, named
    root = typer.main.get_command(app)
    for words in named:
        for path in _expand(words.split()):
            command = root
            for word in path:
                children = getattr(command, "commands", {})
                assert word in children, f"`modelmint {' '.join(path)}` in the README is not a command"
                command = children[word]


def _expand(words: list[str]) -> list[list[str]]:
    """`devnet start|stop|status` names three commands."""
    paths: list[list[str]] = [[]]
    for word in words:
        paths = [[*p, alt] for p in paths for alt in word.split("|")]
    return paths


# Commands that serve until stopped; tests/python/web/test_server.py runs them.
SERVERS = ("modelmint web",)


def test_shell_examples_run_as_written(tmp_path: Path):
    lines = [line for line in _lines("modelmint") if not line.startswith(SERVERS)]
    assert lines, lines
    assert lines[0] == "modelmint devnet start", lines
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELMINT_")}
    env["MODELMINT_HOME"] = str(tmp_path / ".modelmint")
    # Relative paths in the README are relative to a checkout; files it writes land in tmp_path.
    work = tmp_path / "checkout"
    work.mkdir()
    (work / "generated_data").symlink_to(REPO / "generated_data")
    try:
        for line in lines:
            proc = subprocess.run(
                [sys.executable, "-m", "modelmint", *shlex.split(line)[1:]],
                capture_output=True, text=True, timeout=600, env=env, cwd=work,
                check=False,
            )  # fmt: skip
            assert proc.returncode == 0, f"`{line}` exited {proc.returncode}: {proc.stderr}"
    finally:
        subprocess.run(
            [sys.executable, "-m", "modelmint", "devnet", "stop"], env=env, cwd=work, timeout=60, check=False
        )


def test_every_environment_variable_is_documented_with_its_default():
    """No code reads a MODELMINT_* variable that the README's table does not name."""
    read = set()
    for path in (REPO / "python" / "modelmint").rglob("*.py"):
        read |= set(re.findall(r"MODELMINT_[A-Z0-9_]+", path.read_text()))
    table = README.split("### Environment variables", 1)[1].split("\n#", 1)[0]
    documented = set(re.findall(r"^\| `(MODELMINT_[A-Z0-9_]+)` \|", table, flags=re.MULTILINE))
    assert read, "no variables found: the scan is broken"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"
