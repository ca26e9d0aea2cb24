"""Session fixtures: one real anvil for the whole run, fresh deployments where a test needs them.

Tests talk to a real node, never a mock of the chain: anvil starts here in about 0.1 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from model_samples import build_gguf, build_llama
from modelmint.chain import deployments, devnet
from modelmint.chain.client import Chain
from modelmint.home import Home
from modelmint.registry.registries import Registries
from modelmint.storage import LocalStore
from tests_support import MODEL_CACHE, REPO


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[devnet.Devnet]:
    home = Home(tmp_path_factory.mktemp("anvil-home"))
    running = devnet.start(home)
    yield running
    devnet.stop(home)


@pytest.fixture
def start_anvil() -> Iterator[Callable[..., str]]:
    """Starts extra anvils (``--host``, ``--chain-id``, ``--base-fee`` ...) and returns each
    one's URL once it answers; every one is stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str, host: str = "127.0.0.1", connect: str = "127.0.0.1") -> str:
        port = devnet._free_port()
        procs.append(
            subprocess.Popen(
                devnet.anvil_command(port, *args, host=host),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        url = f"http://{connect}:{port}"
        deadline = time.monotonic() + 10
        while not devnet._answers(url):
            assert time.monotonic() < deadline, "anvil did not start"
            time.sleep(0.05)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def home(tmp_path: Path, anvil: devnet.Devnet) -> Home:
    """A fresh project folder whose devnet record points at the session's anvil."""
    h = Home(tmp_path / "home")
    h.root.mkdir(parents=True)
    record = {"url": anvil.url, "pid": anvil.pid, "port": anvil.port, "chain_id": anvil.chain_id}
    h.devnet_file.write_text(json.dumps({**record, "log": str(anvil.log)}))
    return h


@pytest.fixture
def chain(home: Home) -> Chain:
    return Chain.connect(home)


@pytest.fixture
def deployed(chain: Chain) -> deployments.Deployment:
    """Fresh contracts for this test, so tests never see each other's tokens."""
    return deployments.deploy(chain)


@pytest.fixture
def store(home: Home) -> LocalStore:
    return LocalStore(home.store_dir)


@pytest.fixture
def registries(chain: Chain, deployed: deployments.Deployment, store: LocalStore) -> Registries:
    """This test's fresh contracts, through its chain and content store."""
    return Registries.from_deployment(chain, deployed, store)


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def assert_user_error(self, *needles: str) -> None:
        """A user-facing failure: exit 1, one line on stderr starting 'error:', no traceback."""
        assert self.code == 1, self
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("error: "), self.stderr
        for needle in needles:
            assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def cli(home: Home):
    """Run the real ``modelmint`` command in a subprocess against this test's project folder."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> CliResult:
        full_env = {**os.environ, "MODELMINT_HOME": str(home.root), "COLUMNS": "200", **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "modelmint", *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=REPO,
            input=input,
            timeout=300,
            check=False,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def model_cache() -> Iterator[Path]:
    """The model cache (``$MODELMINT_CACHE``, else ~/.cache/modelmint), exported so CLI
    subprocesses find the same folder; it outlives the session, so only the first run
    anywhere pays for conversions and fine-tunes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELMINT_CACHE", str(MODEL_CACHE))
        yield MODEL_CACHE


@pytest.fixture(scope="session")
def smollm2(model_cache: Path) -> Path:
    """The Hugging Face folder of SmolLM2-135M-Instruct (read-only: copy it before changing it)."""
    from modelmint.models.bundled import smollm2_135m

    return smollm2_135m()


# Small real models (model_samples): the model, registry and CLI tests share them.
@pytest.fixture(scope="session")
def llama_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("llama") / "tiny-llama"
    return path, build_llama(path)


@pytest.fixture(scope="session")
def llama_child_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another tiny Llama: same config, other weights (a "fine-tuned" child)."""
    path = tmp_path_factory.mktemp("llama-child") / "tiny-llama-child"
    build_llama(path, seed=1)
    return path


@pytest.fixture
def tiny_model(llama_template: tuple[Path, int], tmp_path: Path) -> Path:
    """This test's own copy of the tiny Llama folder (built once per session by transformers)."""
    return Path(shutil.copytree(llama_template[0], tmp_path / "tiny-llama"))


@pytest.fixture
def child_model(llama_child_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(llama_child_template, tmp_path / "tiny-llama-child"))


@pytest.fixture
def gguf_model(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.gguf"
    build_gguf(path)
    return path
