"""Secrets never come from the command line, and a short imported key is refused (issue 14, finding 8)."""

from __future__ import annotations

import pytest

from modelmint.chain import wallet
from modelmint.fingerprints.oml.generate import GenerateConfig, generate
from modelmint.registry.models import register_model
from modelmint.registry.oml import commit_oml, reveal_oml
from oml_server import completions_server

PASSWORD = "correct horse battery staple"
KEY_64 = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


@pytest.mark.parametrize("key", [KEY_64[:63], "0x" + KEY_64[:63], KEY_64 + "0"])
def test_wallet_import_refuses_a_key_that_is_not_64_hex_digits(cli, tmp_path, key):
    path = tmp_path / "w.json"
    result = cli("wallet", "create", str(path), "--import", input=key + "\n",
                 env={wallet.PASSWORD_ENV: PASSWORD})  # fmt: skip
    # The hidden prompt, with no terminal to hide on, warns on stderr first (getpass).
    assert result.code == 1, result
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: the private key is not 64 hex digits")
    assert not path.exists()


def test_wallet_import_takes_a_64_digit_key(cli, tmp_path):
    path = tmp_path / "w.json"
    result = cli("wallet", "create", str(path), "--import", input=KEY_64 + "\n",
                 env={wallet.PASSWORD_ENV: PASSWORD})  # fmt: skip
    assert result.code == 0, result.stderr
    assert path.exists()


def test_the_suspect_api_key_comes_from_the_environment_or_a_hidden_prompt(
    cli, registries, tiny_model, tmp_path
):
    token = register_model(registries, tiny_model).token_id
    pairs = generate(GenerateConfig(strategy="random_word", num_fingerprints=2, key_length=3, seed=1))
    commit_oml(registries, token, pairs)
    reveal_oml(registries, token, 1)
    verify = ("fingerprint", "oml", "verify")
    with completions_server(tiny_model, api_key="sekrit") as url:
        refused = cli(*verify, url, "--token", str(token), "--api-key", "sekrit")
        assert refused.code == 2, refused
        assert "lands in the shell history" in refused.stderr
        assert "MODELMINT_SUSPECT_API_KEY" in refused.stderr
        assert "sekrit" not in refused.stderr

        from_env = cli(*verify, url, "--token", str(token), env={"MODELMINT_SUSPECT_API_KEY": "sekrit"})
        assert from_env.code == 0, from_env.stderr
        prompted = cli(*verify, url, "--token", str(token), "--ask-api-key", input="sekrit\n")
        assert prompted.code == 0, prompted.stderr
        assert "sekrit" not in prompted.stdout + prompted.stderr
        without = cli(*verify, url, "--token", str(token), env={"MODELMINT_SUSPECT_API_KEY": ""})
        assert without.code == 1, without
        assert "401" in without.stderr
