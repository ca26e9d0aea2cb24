"""Issue 14, finding 3: a second ``oml commit`` while the first is pending never makes the
commitment unopenable, and a receipt that does not come in time says so.

Anvil's automine is switched off for the pending part, so the first commitment really sits
in the node's pool while the second run is attempted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelmint.chain.contracts import FingerprintKind
from modelmint.errors import ChainError, InputError
from modelmint.fingerprints.oml.commitment import read_secrets, write_secrets
from modelmint.fingerprints.oml.file import Fingerprint
from modelmint.registry.models import register_model
from modelmint.registry.oml import commit_oml, prepare_oml, reveal_oml, secrets_file

PAIRS = [Fingerprint(f"pending key {i}", f" answer{i}") for i in range(6)]


@pytest.fixture
def no_automine(chain) -> Iterator[None]:
    chain.w3.provider.make_request("evm_setAutomine", [False])
    try:
        yield
    finally:
        chain.w3.provider.make_request("evm_setAutomine", [True])


def _mine(chain) -> None:
    chain.w3.provider.make_request("evm_mine", [])


def test_a_commit_while_the_first_is_pending_is_refused_and_the_first_stays_openable(
    chain, registries, tiny_model, no_automine
):
    chain.w3.provider.make_request("evm_setAutomine", [True])
    token = register_model(registries, tiny_model).token_id
    chain.w3.provider.make_request("evm_setAutomine", [False])
    chain.receipt_timeout_s = 1

    # The receipt never comes: the dedicated message, not a generic node failure.
    with pytest.raises(ChainError, match=r"was not mined within 1 s") as timed_out:
        commit_oml(registries, token, PAIRS)
    assert "re-running the command is safe" in str(timed_out.value.fix)
    first = sorted((chain.home.root / "oml").glob("*.secrets.json"))
    assert len(first) == 1
    first_root = read_secrets(first[0]).root

    # A second run while it is in the pool: refused, naming the transaction, nothing written.
    pool = chain.w3.provider.make_request("eth_getBlockByNumber", ["pending", False])["result"]
    (pending_tx,) = pool["transactions"]
    with pytest.raises(ChainError, match="is not mined yet") as refused:
        commit_oml(registries, token, PAIRS)
    assert pending_tx in str(refused.value)
    assert sorted((chain.home.root / "oml").glob("*.secrets.json")) == first

    # Once it is mined, the re-run reports the commitment that landed instead of sending another.
    _mine(chain)
    chain.w3.provider.make_request("evm_setAutomine", [True])
    chain.receipt_timeout_s = 30
    landed = commit_oml(registries, token, PAIRS)
    assert landed.root == "0x" + first_root.hex()
    assert landed.tx_hash == pending_tx
    assert landed.gas_used > 0
    assert registries.model_contract.fingerprint(token, FingerprintKind.OML).commitment == first_root
    assert not list((chain.home.root / "oml").glob("*.pending.json"))
    # ...once: a finished commitment is refused as before.
    with pytest.raises(InputError, match="already has an OML commitment"):
        commit_oml(registries, token, PAIRS)

    # The salts on disk open it.
    revealed = reveal_oml(registries, token, 2, rng=random.Random(0))
    assert revealed.revealed_total == 2
    assert revealed.secrets_file == str(first[0])


def test_reveal_finds_the_secrets_of_the_root_on_chain(chain, registries, tiny_model, tmp_path):
    token = register_model(registries, tiny_model).token_id
    committed = commit_oml(registries, token, PAIRS)
    path = Path(committed.secrets_file)
    assert path == secrets_file(
        chain.home, chain.chain_id, registries.models, token, bytes.fromhex(committed.root[2:])
    )
    assert committed.root[2:18] in path.name

    # A stray file of salts that never landed, with an explicit path: refused, naming both roots.
    stray = tmp_path / "stray.json"
    other = prepare_oml(registries, token, PAIRS, stray)  # salts and store only, nothing sent
    with pytest.raises(InputError, match=f"opens root 0x{other.root.hex()}, but model {token} has root"):
        reveal_oml(registries, token, 1, secrets_path=stray)
    # The default finds the file of the committed root, whatever else lies in the folder.
    assert reveal_oml(registries, token, 1).secrets_file == str(path)

    # A secrets file is never overwritten.
    with pytest.raises(InputError, match="a secrets file is never overwritten"):
        write_secrets(path, read_secrets(stray))
    assert read_secrets(path).root.hex() == committed.root[2:]


def test_reveal_without_a_commitment(chain, registries, tiny_model):
    token = register_model(registries, tiny_model).token_id
    with pytest.raises(InputError, match=f"no OML secrets file for model {token}: it has no OML commitment"):
        reveal_oml(registries, token, 1)
