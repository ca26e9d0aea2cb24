"""Not trusting the node (issue 14, finding 4 and 5): dev keys, chain ids, fee caps, confirmation,
and the code behind a contract a proof names. Every node here is a real anvil."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import socket
import subprocess
import sys

import pytest

from modelmint.chain import deployments, devnet, wallet
from modelmint.chain.artifacts import load_artifact, runtime_matches
from modelmint.chain.client import DEFAULT_MAX_FEE_WEI, Chain, TxDescription
from modelmint.chain.contracts import DatasetContract
from modelmint.errors import ChainError
from modelmint.home import Home
from modelmint.registry import check_proof, commit_dataset, prove_datapoints
from tests_support import REPO, SAMPLE, rpc

PASSWORD = "pw"
# Runtime code that answers 32 bytes of 1 to any call: "true" to every verifyDatapoint.
LIAR_RUNTIME = "600160005260206000f3"
LIAR_CREATION = "600a600c600039600a6000f3" + LIAR_RUNTIME


@pytest.fixture
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv(wallet.PASSWORD_ENV, PASSWORD)
    path = tmp_path / "me.json"
    address = wallet.create_keystore(path, PASSWORD)
    return path, address


def _non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback, if it has one."""
    candidates: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, contextlib.suppress(OSError):
        sock.connect(("203.0.113.1", 9))  # no packet is sent: this only picks the outgoing address
        candidates.append(str(sock.getsockname()[0]))
    with contextlib.suppress(OSError):
        candidates += socket.gethostbyname_ex(socket.gethostname())[2]
    return next((a for a in candidates if not a.startswith("127.") and a != "0.0.0.0"), None)


# --- dev keys only on the recorded devnet ------------------------------------------------------


def test_a_local_31337_node_this_folder_did_not_record_is_refused_the_dev_key(tmp_path, home, start_anvil):
    other = start_anvil("--chain-id", "31337")
    # No record at all, and a record of another devnet: both refuse the public key.
    for folder in (Home(tmp_path / "bare"), home):
        chain = Chain.connect(folder, other)
        assert chain.chain_id == devnet.DEV_CHAIN_ID
        assert not chain.is_devnet
        with pytest.raises(ChainError, match="is not the devnet this project folder recorded"):
            _ = chain.signer
    # The recorded devnet, by its URL or by localhost on its port, still signs with it.
    recorded = Chain.connect(home)
    assert recorded.is_devnet
    assert recorded.signer.address == wallet.dev_account(0).address
    port = recorded.url.rsplit(":", 1)[1]
    assert Chain.connect(home, f"http://localhost:{port}").signer.address == wallet.dev_account(0).address


def test_the_recorded_devnet_reached_through_a_non_loopback_address_is_refused(tmp_path, start_anvil):
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    url = start_anvil("--chain-id", "31337", host="0.0.0.0", connect=address)
    folder = Home(tmp_path / "home")
    folder.root.mkdir(parents=True)
    port = int(url.rsplit(":", 1)[1])
    record = {"url": f"http://127.0.0.1:{port}", "pid": os.getpid(), "port": port, "chain_id": 31337}
    folder.devnet_file.write_text(json.dumps({**record, "log": ""}))  # a live pid: this test's
    with pytest.raises(ChainError, match="is not on this machine"):
        _ = Chain.connect(folder, url).signer


def test_cli_refuses_the_dev_key_to_an_unrecorded_31337_node(cli, start_anvil):
    other = start_anvil("--chain-id", "31337")
    cli("--yes", "deploy", "--rpc-url", other).assert_user_error(
        "reports chain 31337 but is not the devnet this project folder recorded", "--keystore FILE"
    )
    assert int(rpc(other, "eth_getTransactionCount", wallet.dev_account(0).address, "latest"), 16) == 0


# --- pinning the chain id ----------------------------------------------------------------------


def test_a_node_reporting_another_chain_id_than_pinned_is_refused(home, cli, deployed):
    with pytest.raises(ChainError, match="reports chain 31337, not chain 1; nothing was sent"):
        Chain.connect(home, chain_id=1)
    assert Chain.connect(home, chain_id=31337).chain_id == 31337
    cli("--chain-id", "1", "list").assert_user_error(
        "reports chain 31337, not chain 1", "--rpc-url of a node of chain 1"
    )
    result = cli("list", env={"MODELMINT_CHAIN_ID": "11155111"})
    result.assert_user_error("not chain 11155111")
    assert cli("--chain-id", "31337", "list").code == 0


def test_a_deployment_record_of_another_chain_id_is_refused(chain, deployed):
    path = deployments.deployment_file(chain)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "chainId": 1}))
    with pytest.raises(
        ChainError, match=r"records a deployment on chain 1, but the node .* reports chain 31337"
    ):
        deployments.load(chain)


# --- the fee cap -------------------------------------------------------------------------------


def test_a_node_quoting_fees_above_the_cap_is_refused_before_signing(tmp_path, start_anvil, keystore):
    path, address = keystore
    # A node claiming mainnet with a base fee of 1,000 gwei: a deploy would cost several ETH.
    url = start_anvil("--chain-id", "1", "--base-fee", str(1000 * 10**9))
    rpc(url, "anvil_setBalance", address, hex(100 * 10**18))
    chain = Chain.connect(Home(tmp_path / "home"), url, path, chain_id=1)
    with pytest.raises(ChainError) as refused:
        deployments.deploy(chain)
    message = str(refused.value)
    assert "quotes a maximum fee of" in message
    assert "ETH for DatasetNFT.constructor" in message
    assert "above the cap of 0.1 ETH; nothing was signed" in message
    assert chain.max_fee_wei == DEFAULT_MAX_FEE_WEI
    assert int(rpc(url, "eth_getTransactionCount", address, "pending"), 16) == 0  # nothing sent
    assert not deployments.deployment_file(chain).exists()

    # Fees a node raises after connecting are caught per transaction too.
    cheap = Chain.connect(Home(tmp_path / "cheap"), start_anvil("--chain-id", "1"), path)
    rpc(cheap.url, "anvil_setBalance", address, hex(100 * 10**18))
    cheap.confirmations = 1
    cheap.deploy("DatasetNFT")
    rpc(cheap.url, "anvil_setNextBlockBaseFeePerGas", hex(10_000 * 10**9))
    rpc(cheap.url, "evm_mine")
    with pytest.raises(ChainError, match=r"above the cap of 0\.1 ETH"):
        cheap.deploy("DatasetNFT")
    assert int(rpc(cheap.url, "eth_getTransactionCount", address, "pending"), 16) == 1


def test_cli_max_fee_caps_each_transaction(cli, home):
    nonce = int(
        rpc(Chain.connect(home).url, "eth_getTransactionCount", wallet.dev_account(0).address, "pending"), 16
    )
    cli("--max-fee", "0.000001", "deploy").assert_user_error(
        "above the cap of 0.000001 ETH; nothing was signed", "pass a higher --max-fee (in ETH)"
    )
    after = int(
        rpc(Chain.connect(home).url, "eth_getTransactionCount", wallet.dev_account(0).address, "pending"), 16
    )
    assert after == nonce
    assert not (home.deployments_dir / "31337.json").exists()
    bad = cli("--max-fee", "lots", "deploy")
    assert bad.code == 2
    assert "is not a number of ETH" in bad.stderr


# --- confirmation off the devnet ---------------------------------------------------------------


def test_the_confirm_hook_sees_the_call_and_a_refusal_sends_nothing(tmp_path, start_anvil, keystore):
    path, address = keystore
    url = start_anvil("--chain-id", "11155111")
    rpc(url, "anvil_setBalance", address, hex(10**19))
    chain = Chain.connect(Home(tmp_path / "home"), url, path)
    chain.confirmations = 1
    seen: list[TxDescription] = []
    chain.confirm = lambda described: seen.append(described) is not None  # records it, answers no
    with pytest.raises(
        ChainError, match=r"DatasetNFT\.constructor was not confirmed; nothing was signed or sent"
    ):
        chain.deploy("DatasetNFT")
    [described] = seen
    assert (described.chain_id, described.chain_name, described.contract) == (
        11155111,
        "Sepolia",
        "DatasetNFT",
    )
    assert described.max_fee == described.gas * described.max_fee_per_gas
    assert int(rpc(url, "eth_getTransactionCount", address, "pending"), 16) == 0
    # Agreed: sent, and a contract call is described by its function and arguments.
    chain.confirm = lambda described: seen.append(described) is None
    dataset_address, _ = chain.deploy("DatasetNFT")
    chain.send(DatasetContract(chain, dataset_address).contract.functions.commitMint(b"\x01" * 32))
    call = seen[-1]
    assert (call.contract, call.address, call.function) == ("DatasetNFT", dataset_address, "commitMint")
    assert list(call.args) == ["commitment"]
    assert any("call     commitMint(commitment=0x" in line for line in call.lines())


def _sepolia_deploy(home, url: str, path, *options: str, tty_input: str | None = None) -> tuple[int, str]:
    """``modelmint [options] deploy`` on the node at ``url``, signing with the keystore at ``path``."""
    env = {
        **os.environ,
        "MODELMINT_HOME": str(home.root),
        "COLUMNS": "200",
        wallet.PASSWORD_ENV: PASSWORD,
    }
    command = [sys.executable, "-m", "modelmint", "--confirmations", "1", *options]
    command += ["deploy", "--rpc-url", url, "--keystore", str(path)]
    if tty_input is None:
        proc = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False
        )
        return proc.returncode, proc.stderr
    # A real terminal on stdin: the prompt is asked there, and answered.
    controller, terminal = pty.openpty()
    try:
        with subprocess.Popen(
            command, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO
        ) as proc:
            os.write(controller, tty_input.encode())
            _, stderr = proc.communicate(timeout=120)
            return proc.returncode, stderr.decode()
    finally:
        os.close(controller)
        os.close(terminal)


def test_cli_confirms_each_transaction_off_the_devnet(home, tmp_path, start_anvil, keystore):
    path, address = keystore
    url = start_anvil("--chain-id", "11155111")
    rpc(url, "anvil_setBalance", address, hex(10**19))

    def sent() -> int:
        return int(rpc(url, "eth_getTransactionCount", address, "pending"), 16)

    # No terminal and no --yes: one line saying to pass --yes.
    code, stderr = _sepolia_deploy(home, url, path)
    assert code == 1
    assert stderr.strip().splitlines() == [
        (
            "error: a transaction on chain 11155111 (Sepolia) needs confirming and there is no terminal "
            "to ask on: pass --yes (or set MODELMINT_YES=1) to send without asking"
        )
    ]
    assert sent() == 0
    # Asked on a terminal, declined: the call and its fee were shown, nothing was sent.
    code, stderr = _sepolia_deploy(home, url, path, tty_input="n\n")
    assert code == 1, stderr
    for shown in (
        "chain    11155111 (Sepolia)",
        "contract DatasetNFT (a new deployment)",
        "call     constructor()",
    ):
        assert shown in stderr
    assert "maximum fee" in stderr
    assert "Send it?" in stderr
    assert "not confirmed; nothing was signed or sent" in stderr
    assert sent() == 0
    # --yes (or $MODELMINT_YES) sends without asking.
    code, stderr = _sepolia_deploy(home, url, path, "--yes")
    assert code == 0, stderr
    assert sent() == 2
    assert (home.deployments_dir / "11155111.json").exists()


def test_the_devnet_asks_nothing(cli, home):
    result = cli("deploy")  # no terminal, no --yes: the project's devnet needs no confirmation
    assert result.code == 0, result.stderr
    assert "Send it?" not in result.stderr


# --- the code behind a contract a proof names --------------------------------------------------


def test_runtime_code_is_compared_with_the_artifact_minding_immutables_and_metadata(chain, deployed):
    for name in ("DatasetNFT", "ModelNFT"):  # ModelNFT has an immutable: its DatasetNFT's address
        code = bytes(chain.w3.eth.get_code(deployed.address(name)))
        assert runtime_matches(load_artifact(name), code)
        other = "ModelNFT" if name == "DatasetNFT" else "DatasetNFT"
        assert not runtime_matches(load_artifact(other), code)
        # Other metadata (another source path or comment): the same code.
        trailer = int.from_bytes(code[-2:], "big")
        metadata_changed = code[: -2 - trailer + 10] + bytes(10) + code[-2 - trailer + 20 :]
        assert runtime_matches(load_artifact(name), metadata_changed)
        # One instruction changed: not the same code.
        flipped = bytearray(code)
        flipped[40] ^= 0x01
        assert not runtime_matches(load_artifact(name), bytes(flipped))
    assert not runtime_matches(load_artifact("DatasetNFT"), bytes.fromhex(LIAR_RUNTIME))


def _deploy_liar(chain: Chain) -> str:
    # From another dev account than the signer's, whose nonces the chain's lock manages.
    tx = {"from": wallet.dev_account(1).address, "data": "0x" + LIAR_CREATION, "chainId": chain.chain_id}
    tx_hash = chain.w3.eth.send_transaction(tx)
    return str(chain.w3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"])


def test_check_proof_says_when_the_contract_is_not_modelmints(chain, deployed, registries, cli, tmp_path):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl")
    proof = prove_datapoints(registries, committed.token_id, positions=[4])
    liar = _deploy_liar(chain)
    assert chain.w3.eth.call({"to": liar, "data": proof.calldata})[-1] == 1  # it says "valid" to anything
    bare = Chain.connect(Home(tmp_path / "stranger"), chain.url)  # no deployment record
    forged = type(proof).from_json({**proof.to_json(), "contract": liar})
    with pytest.raises(
        ChainError, match=f"the contract at {liar} on chain 31337 is not a modelmint DatasetNFT"
    ):
        check_proof(bare, forged)
    assert check_proof(bare, proof).valid  # the real DatasetNFT is recognised
    proof_file = tmp_path / "forged.json"
    proof_file.write_text(json.dumps(forged.to_json()))
    cli("dataset", "check-proof", str(proof_file), "--contract", liar).assert_user_error(
        "is not a modelmint DatasetNFT", "its answers prove nothing"
    )
