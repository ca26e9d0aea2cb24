"""The CLI as a user meets it: --help everywhere, JSON for scripts, one-line errors."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from modelmint.cli import app
from tests_support import SAMPLE


def _command_paths(group: typer.core.TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # typer 0.29 groups come from its own copy of click
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


@pytest.mark.parametrize(
    "path", _command_paths(typer.main.get_command(app)), ids=lambda p: " ".join(p) or "root"
)
def test_help_everywhere(path):
    runner = CliRunner()
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_mint_and_verify_for_scripts(cli, deployed):
    minted = cli("dataset", "mint", str(SAMPLE / "train.jsonl"), "--json")
    assert minted.code == 0, minted.stderr
    record = json.loads(minted.stdout)
    assert record["tokenId"] == 1
    assert record["datapointCount"] == 256
    assert record["txHash"]
    again = json.loads(cli("dataset", "mint", str(SAMPLE / "train.jsonl"), "--json").stdout)
    assert again["alreadyRegistered"]
    assert again["tokenId"] == 1

    member = cli("dataset", "verify", str(SAMPLE / "member.jsonl"), "--token", "1")
    assert member.code == 0
    assert "1 of 1 datapoints" in member.stdout
    outsider = cli("dataset", "verify", str(SAMPLE / "outsider.jsonl"), "--token", "1", "--json")
    assert outsider.code == 1
    assert json.loads(outsider.stdout)["missing"][0]["label"] == "line 1"


def test_mint_prints_token_tx_and_gas(cli, deployed):
    result = cli("dataset", "mint", str(SAMPLE / "train.jsonl"))
    assert result.code == 0, result.stderr
    assert "minted token 1" in result.stdout
    assert "gas used" in result.stdout
    assert "transaction" in result.stdout


def test_bad_input_gets_one_line_errors(cli, deployed, tmp_path):
    cli("dataset", "mint", str(tmp_path / "nope.jsonl")).assert_user_error("nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    cli("dataset", "mint", str(empty)).assert_user_error("empty.jsonl")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"a": 1}\n{"a": 2\n')
    cli("dataset", "mint", str(broken)).assert_user_error("line 2")
    cli("dataset", "mint", str(SAMPLE / "train.jsonl"), "--predecessor", "7").assert_user_error(
        "ERC721NonexistentToken", "7"
    )
    cli("dataset", "verify", str(SAMPLE / "member.jsonl"), "--token", "99").assert_user_error(
        "ERC721NonexistentToken"
    )
    cli("dataset", "mint", str(SAMPLE / "train.jsonl"), "--rpc-url", "http://127.0.0.1:9").assert_user_error(
        "no Ethereum node answers"
    )


def test_no_devnet_running_is_one_line(cli, tmp_path):
    result = cli("dataset", "mint", str(SAMPLE / "train.jsonl"), env={"MODELMINT_HOME": str(tmp_path / "x")})
    result.assert_user_error("no devnet is running", "modelmint devnet start")


def test_not_deployed_is_one_line(cli, anvil, tmp_path):
    result = cli("dataset", "mint", str(SAMPLE / "train.jsonl"), "--rpc-url", anvil.url,
                 env={"MODELMINT_HOME": str(tmp_path / "y")})  # fmt: skip
    result.assert_user_error("not deployed", "modelmint deploy")
