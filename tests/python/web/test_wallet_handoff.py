"""``--wallet browser`` end to end: the real ``modelmint`` command in a subprocess, its hand-off
page in a real Chromium with the injected test wallet, and the session's anvil signing for
one of its accounts other than the first. Nothing of the chain or the browser is mocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from eth_account import Account
from web3 import Web3

from modelmint.home import Home
from tests_support import REPO, rpc
from web_support import screenshot

SAMPLE = REPO / "generated_data" / "sample"
ACCOUNT = 3  # the wallet's account: anvil's fourth, so nothing signs with the CLI's dev key
FIRST_DEV = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"


class Running:
    """A ``modelmint`` command running in the background; its hand-off URL read from stderr."""

    def __init__(self, home: Home, *args: str) -> None:
        env = {**os.environ, "MODELMINT_HOME": str(home.root), "COLUMNS": "200"}
        env.pop("MODELMINT_KEYSTORE", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelmint", *args, "--wallet", "browser", "--no-open"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        self.stderr: list[str] = []
        self._url: str | None = None
        self._found = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            if "open http://127.0.0.1:" in line and self._url is None:
                self._url = line.split("open ", 1)[1].strip()
                self._found.set()
        self._found.set()

    def url(self) -> str:
        assert self._found.wait(120), "the command printed no hand-off URL"
        assert self._url, "".join(self.stderr)
        return self._url

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        self.proc.wait(timeout=timeout)  # not communicate(): the reader thread owns stderr
        assert self.proc.stdout is not None
        stdout = self.proc.stdout.read()
        self._reader.join(5)
        return self.proc.returncode, stdout, "".join(self.stderr)


@pytest.fixture
def wallet_account(anvil) -> str:
    return rpc(anvil.url, "eth_accounts")[ACCOUNT].lower()


def _handoff_page(open_page, url: str, **wallet):
    page = open_page({"account": ACCOUNT, **wallet}, url=url)
    page.get_by_role("button", name="Connect Test Wallet").click()
    return page


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("Sign with")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def test_deploy_and_dataset_mint_complete_after_the_page_sends(open_page, home, anvil, wallet_account, cli):
    deploy = Running(home, "deploy", "--json")
    page = _handoff_page(open_page, deploy.url())
    code, stdout, stderr = deploy.finish()
    assert code == 0, stderr
    record = json.loads(stdout)
    assert record["chainId"] == anvil.chain_id
    assert set(record["contracts"]) == {"DatasetNFT", "ModelNFT"}
    # Two transactions queued in order, each shown decoded before the wallet sent it.
    page.wait_for_selector("body[data-handoff=done]")
    steps = page.query_selector_all("#handoff-steps tr")
    assert [s.get_attribute("data-status") for s in steps] == ["sent", "sent"]
    assert page.inner_text("#handoff-account").lower() == wallet_account
    sent = page.evaluate("window.__sentTransactions")
    assert [tx["from"].lower() for tx in sent] == [wallet_account, wallet_account]
    assert all("to" not in tx for tx in sent)  # deployments

    mint = Running(
        home, "dataset", "mint", str(SAMPLE / "train.jsonl"), "--name", "from the wallet", "--json"
    )
    page = _handoff_page(open_page, mint.url())
    page.wait_for_selector("#handoff-function")
    assert page.inner_text("#handoff-function") == "mint"
    assert "DatasetNFT" in page.inner_text("#handoff-tx")
    code, stdout, stderr = mint.finish()
    assert code == 0, stderr
    page.wait_for_selector("body[data-handoff=done]")
    screenshot(page, "handoff")
    minted = json.loads(stdout)
    assert minted["tokenId"] == 1
    tx = rpc(anvil.url, "eth_getTransactionByHash", minted["txHash"])
    assert tx["from"].lower() == wallet_account != FIRST_DEV
    assert minted["claims"][0]["owner"].lower() == wallet_account
    listed = json.loads(cli("list", "--json").stdout)
    assert [(d["kind"], d["tokenId"], d["name"]) for d in listed] == [("dataset", 1, "from the wallet")]
    assert not page.errors


def test_model_mint_through_the_wallet(
    open_page, home, anvil, deployed, registries, tiny_model, wallet_account
):
    from modelmint.registry import commit_dataset

    dataset = commit_dataset(registries, SAMPLE / "train.jsonl", name="train")
    run = Running(home, "model", "mint", str(tiny_model), "--dataset", str(dataset.token_id), "--json")
    page = _handoff_page(open_page, run.url())
    code, stdout, stderr = run.finish()
    assert code == 0, stderr
    minted = json.loads(stdout)
    tx = rpc(anvil.url, "eth_getTransactionByHash", minted["txHash"])
    assert tx["from"].lower() == wallet_account
    assert registries.model_contract.record(minted["tokenId"]).owner.lower() == wallet_account
    assert page.inner_text("#handoff-function").startswith("mint")
    assert not page.errors


def test_a_rejection_in_the_wallet_sends_nothing_and_a_retry_works(open_page, home, deployed, registries):
    run = Running(home, "dataset", "mint", str(SAMPLE / "train.jsonl"))
    _handoff_page(open_page, run.url(), rejectSend=True)
    code, out, stderr = run.finish()
    assert code == 1, out
    line = _one_error_line(stderr)
    assert "step 1 (DatasetNFT.mint) was rejected in the wallet" in line
    assert "run the command again" in line
    assert registries.dataset_contract.total_minted() == 0

    again = Running(home, "dataset", "mint", str(SAMPLE / "train.jsonl"), "--json")
    _handoff_page(open_page, again.url())
    code, stdout, stderr = again.finish()
    assert code == 0, stderr
    assert json.loads(stdout)["tokenId"] == 1


def test_a_closed_tab_fails_the_step_it_was_on(open_page, home, deployed, registries):
    run = Running(home, "dataset", "mint", str(SAMPLE / "train.jsonl"))
    page = _handoff_page(open_page, run.url(), holdSend=True)
    page.wait_for_selector("#handoff-function")
    page.close()
    code, _, stderr = run.finish()
    assert code == 1
    assert "the wallet page was closed before step 1 (DatasetNFT.mint) was sent" in _one_error_line(stderr)
    assert registries.dataset_contract.total_minted() == 0


def test_a_wallet_on_another_chain_that_will_not_switch(open_page, home, deployed, registries):
    run = Running(home, "dataset", "mint", str(SAMPLE / "train.jsonl"))
    page = _handoff_page(open_page, run.url(), chainId=5, refuseSwitch=True)
    code, _, stderr = run.finish()
    assert code == 1
    assert "the wallet is on chain 5, not chain 31337" in _one_error_line(stderr)
    page.wait_for_selector("#handoff-status .error")
    assert registries.dataset_contract.total_minted() == 0


def test_a_wallet_on_another_chain_is_switched(open_page, home, deployed, anvil):
    run = Running(home, "dataset", "mint", str(SAMPLE / "train.jsonl"), "--json")
    _handoff_page(open_page, run.url(), chainId=1)
    code, stdout, stderr = run.finish()
    assert code == 0, stderr
    assert json.loads(stdout)["chainId"] == anvil.chain_id


def test_the_endpoint_refuses_wrong_tokens_other_origins_and_unasked_results(open_page, home, deployed):
    run = Running(home, "dataset", "mint", str(SAMPLE / "train.jsonl"))
    url = run.url()
    origin, token = url.split("/#handoff=")
    api = f"{origin}/handoff"

    wrong = requests.get(f"{api}/session", headers={"X-Modelmint-Handoff": "x" + token[1:]}, timeout=5)
    assert wrong.status_code == 403
    assert "wrong or expired hand-off token" in wrong.json()["error"]
    assert requests.get(f"{api}/session", timeout=5).status_code == 403
    elsewhere = requests.post(
        f"{api}/account",
        json={"address": "0x" + "11" * 20, "chainId": 31337},
        headers={"X-Modelmint-Handoff": token, "Origin": "http://evil.example"},
        timeout=5,
    )
    assert elsewhere.status_code == 403
    assert "http://evil.example" in elsewhere.json()["error"]
    rebound = requests.get(
        f"{api}/session", headers={"X-Modelmint-Handoff": token, "Host": "evil.example"}, timeout=5
    )
    assert rebound.status_code == 421
    unasked = requests.post(
        f"{api}/result",
        json={"id": "not-asked", "hash": "0x" + "ab" * 32},
        headers={"X-Modelmint-Handoff": token, "Origin": origin},
        timeout=5,
    )
    assert unasked.status_code == 409
    assert "not asked" in unasked.json()["error"]
    session = requests.get(f"{api}/session", headers={"X-Modelmint-Handoff": token}, timeout=5).json()
    assert session["chainId"] == 31337

    page = _handoff_page(open_page, url)
    code, _, stderr = run.finish()
    assert code == 0, stderr
    page.wait_for_selector("body[data-handoff=done]")
    # The token died with the command: nothing answers it any more.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{api}/session", headers={"X-Modelmint-Handoff": token}, timeout=5)


def test_keystore_and_browser_wallet_together_are_refused(cli, deployed, tmp_path: Path):
    keystore = tmp_path / "key.json"
    keystore.write_text("{}")
    result = cli(
        "dataset", "mint", str(SAMPLE / "train.jsonl"), "--keystore", str(keystore), "--wallet", "browser"
    )
    result.assert_user_error("--keystore or --wallet browser, not both")


def test_a_sepolia_id_rehearsal_signs_with_the_browser_wallet(open_page, home, start_anvil):
    """Issue 13, item 5: a node reporting Sepolia's chain id, a block every half second (the
    commitment of a two-step mint matures, confirmations come), and a wallet account of no
    public key: deploy, then a dataset mint by commitMint and revealMint, both in the wallet."""
    node = start_anvil("--chain-id", "11155111", "--block-time", "0.5", "--mixed-mining")
    own = Account.create().address
    rpc(node, "anvil_impersonateAccount", own)
    rpc(node, "anvil_setBalance", own, hex(10**18))
    wallet = {"rpcUrl": node, "anvilChainId": 11155111, "chainId": 11155111, "address": own}

    deploy = Running(home, "deploy", "--rpc-url", node, "--json")
    _handoff_page(open_page, deploy.url(), **wallet)
    code, stdout, stderr = deploy.finish()
    assert code == 0, stderr
    assert json.loads(stdout)["chainId"] == 11155111
    assert json.loads((home.deployments_dir / "11155111.json").read_text())["chainId"] == 11155111

    mint = Running(home, "dataset", "mint", str(SAMPLE / "train.jsonl"), "--rpc-url", node, "--json")
    page = _handoff_page(open_page, mint.url(), **wallet)
    code, stdout, stderr = mint.finish()
    assert code == 0, stderr
    minted = json.loads(stdout)
    functions = [s.inner_text() for s in page.query_selector_all("#handoff-steps tr td:nth-child(2)")]
    assert functions == ["DatasetNFT.commitMint", "DatasetNFT.revealMint"]
    for tx_hash in (minted["commitTxHash"], minted["txHash"]):
        tx = rpc(node, "eth_getTransactionByHash", tx_hash)
        assert tx["from"].lower() == own.lower()
        assert tx["type"] == "0x2"  # EIP-1559 fees, under the --max-fee cap the command checked
    assert minted["claims"][0]["owner"].lower() == own.lower()


def test_the_browser_wallet_is_refused_a_public_dev_key_off_the_devnet(open_page, home, start_anvil):
    node = start_anvil("--chain-id", "11155111")
    run = Running(home, "deploy", "--rpc-url", node)
    _handoff_page(open_page, run.url(), rpcUrl=node, anvilChainId=11155111, chainId=11155111)
    code, _, stderr = run.finish()
    assert code == 1
    assert "is a public anvil dev key, refused on chain 11155111" in _one_error_line(stderr)


def test_oml_commit_and_reveal_through_the_wallet(
    open_page, home, anvil, deployed, registries, tiny_model, wallet_account, tmp_path
):
    from modelmint.fingerprints.oml.file import write_fingerprints
    from modelmint.fingerprints.oml.generate import GenerateConfig, generate
    from modelmint.registry import register_model

    owner = Web3.to_checksum_address(wallet_account)
    token = register_model(registries, tiny_model, owner=owner).token_id
    pairs = tmp_path / "fingerprints.json"
    write_fingerprints(
        pairs,
        generate(GenerateConfig(strategy="random_word", num_fingerprints=4, key_length=6, response_length=1)),
    )
    commit = Running(home, "fingerprint", "oml", "commit", "--token", str(token), "-f", str(pairs), "--json")
    _handoff_page(open_page, commit.url())
    code, stdout, stderr = commit.finish()
    assert code == 0, stderr
    committed = json.loads(stdout)
    assert rpc(anvil.url, "eth_getTransactionByHash", committed["txHash"])["from"].lower() == wallet_account

    reveal = Running(home, "fingerprint", "oml", "reveal", "--token", str(token), "--count", "2", "--json")
    page = _handoff_page(open_page, reveal.url())
    code, stdout, stderr = reveal.finish()
    assert code == 0, stderr
    assert page.inner_text("#handoff-function") == "revealFingerprints"
    assert len(registries.model_contract.revealed_fingerprints(token)) == 2


def test_resume_provenance_sends_every_step_through_the_wallet(
    open_page, home, anvil, deployed, registries, tmp_path
):
    """A training run whose chain was down leaves a record; `resume-provenance --wallet browser`
    then commits its rows, registers the base and the trained model, each confirmed in the wallet."""
    datasets = pytest.importorskip("datasets")
    from modelmint.integrations.provenance import load_record
    from modelmint.integrations.transformers import ProvenanceCallback
    from tiny_training import make_base, train

    rows = datasets.load_dataset("json", data_files=str(SAMPLE / "train.jsonl"), split="train").select(
        range(16)
    )
    dead = "http://127.0.0.1:9"  # the discard port: nothing answers there
    train(
        make_base(tmp_path / "base"),
        rows,
        tmp_path / "out",
        ProvenanceCallback([rows], home=home.root, rpc_url=dead),
    )
    assert load_record(tmp_path / "out").status == "pending"

    run = Running(home, "model", "resume-provenance", str(tmp_path / "out"), "--rpc-url", anvil.url)
    page = _handoff_page(open_page, run.url())
    code, _, stderr = run.finish(timeout=300)
    assert code == 0, stderr
    record = load_record(tmp_path / "out")
    assert record.complete
    steps = [s.inner_text() for s in page.query_selector_all("#handoff-steps tr td:nth-child(2)")]
    assert steps == ["DatasetNFT.mint", "ModelNFT.mint", "ModelNFT.mint"]
    owner = rpc(anvil.url, "eth_accounts")[ACCOUNT].lower()
    assert registries.model_contract.record(record.models[0].token_id).owner.lower() == owner
