"""Output captured off a terminal (CI logs, pipes, files) shows every value whole.

rich falls back to 80 columns when stdout is not a terminal and cuts table cells with "…";
these tests run the real command with its output captured and no $COLUMNS, as CI does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
import typer

from modelmint.cli import app
from tests_support import REPO, SAMPLE

LONG_NAME = "a corpus whose name is far longer than any eighty-column table could hold whole"


def _captured(home, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TERMINAL_WIDTH")}
    env["MODELMINT_HOME"] = str(home.root)
    return subprocess.run(
        [sys.executable, "-m", "modelmint", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )


def test_list_in_a_log_shows_names_roots_and_owners_whole(home, chain, deployed):
    minted = _captured(home, "dataset", "mint", str(SAMPLE / "train.jsonl"), "--name", LONG_NAME, "--json")
    assert minted.returncode == 0, minted.stderr
    record = json.loads(minted.stdout)

    listed = _captured(home, "list")
    assert listed.returncode == 0, listed.stderr
    assert "…" not in listed.stdout
    assert LONG_NAME in listed.stdout
    assert record["merkleRoot"] in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if record["merkleRoot"] in line)
    assert chain.signer.address.lower() in row.lower()  # the owner, whole, on the same row as the root


def _leaf_commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    # typer 0.29 builds commands with its own copy of click: groups are told by their subcommands.
    found: list[tuple[tuple[str, ...], Any]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _leaf_commands(command, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


COMMANDS = _leaf_commands(typer.main.get_command(app))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_in_a_log_shows_every_option_name_whole(path, command, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TERMINAL_WIDTH")}
    proc = subprocess.run(
        [sys.executable, "-m", "modelmint", *path, "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout
    for param in command.params:
        if getattr(param, "hidden", False):  # refused on purpose (`--api-key`): not in the help
            continue
        for opt in param.opts + param.secondary_opts:
            if opt.startswith("--"):
                assert opt in proc.stdout, f"{opt} cut from the help of {' '.join(path)}"
