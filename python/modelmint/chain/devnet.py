"""A local anvil devnet: started detached on 127.0.0.1, recorded in the project folder.

The record (``devnet.json``: URL, pid, chain id) is what lets every later command find
the node without ``--rpc-url``. A record whose process is gone is stale and is removed,
so a crashed devnet never blocks ``devnet start``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from modelmint._files import write_atomic
from modelmint.errors import ChainError
from modelmint.home import Home

DEV_CHAIN_ID = 31337
_READY_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 10.0
# anvil otherwise writes every block's whole state to ~/.foundry/anvil/tmp once its memory
# window is full: a few MB a block as the registry grows, tens of GB over 10,000 mints, and
# left behind when anvil is killed. Pruning keeps recent states in memory only, which is all
# modelmint reads (latest state, logs, traces of just-mined transactions).
_ANVIL_FLAGS = ("--prune-history", "128")


@dataclass(frozen=True)
class Devnet:
    url: str
    pid: int
    port: int
    chain_id: int
    log: str


def find_anvil() -> str:
    """anvil from ``$MODELMINT_ANVIL``, then ``PATH``, then this checkout's node_modules."""
    candidates = [os.environ.get("MODELMINT_ANVIL"), shutil.which("anvil")]
    candidates.append(str(_checkout_root() / "node_modules" / ".bin" / "anvil"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ChainError(
        "anvil was not found",
        "run `npm ci` in the modelmint checkout, install Foundry, or set MODELMINT_ANVIL",
    )


def anvil_command(port: int, *extra: str, host: str = "127.0.0.1") -> list[str]:
    """The command line of an anvil on ``host:port`` with modelmint's flags, then ``extra``
    (``--chain-id``, ``--base-fee`` ...): the one way every anvil here is started."""
    return [find_anvil(), *_ANVIL_FLAGS, "--host", host, "--port", str(port), *extra]


def start(home: Home, port: int | None = None) -> Devnet:
    """Start anvil unless one is already recorded and running; return the running one."""
    running = status(home)
    if running is not None:
        return running
    home.root.mkdir(parents=True, exist_ok=True)
    last_error = ""
    # A free port can be taken between choosing and binding it: try a few.
    for _ in range(3):
        chosen = port or _free_port()
        with open(home.devnet_log, "ab") as log:
            proc = subprocess.Popen(
                anvil_command(chosen, "--chain-id", str(DEV_CHAIN_ID)),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives the CLI process that started it
            )
        url = f"http://127.0.0.1:{chosen}"
        if _wait_ready(url, proc):
            devnet = Devnet(
                url=url, pid=proc.pid, port=chosen, chain_id=DEV_CHAIN_ID, log=str(home.devnet_log)
            )
            write_atomic(home.devnet_file, json.dumps(asdict(devnet), indent=2).encode())
            return devnet
        _terminate(proc.pid)
        last_error = _tail(home.devnet_log)
        if port:
            break
    raise ChainError(f"anvil did not start ({last_error or 'no output'})", f"see {home.devnet_log}")


def status(home: Home) -> Devnet | None:
    """The recorded devnet if its process is alive and its RPC answers; clears a stale record."""
    try:
        devnet = Devnet(**json.loads(home.devnet_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if _alive(devnet.pid) and _answers(devnet.url):
        return devnet
    home.devnet_file.unlink(missing_ok=True)
    return None


def stop(home: Home) -> Devnet | None:
    """Stop the recorded devnet (SIGTERM, then SIGKILL after a grace period)."""
    try:
        devnet = Devnet(**json.loads(home.devnet_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    _terminate(devnet.pid)
    home.devnet_file.unlink(missing_ok=True)
    return devnet


def _checkout_root() -> Path:
    return Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        reply = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2
        )
        return reply.ok and "result" in reply.json()
    except (requests.RequestException, ValueError):
        return False


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if _answers(url):
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still answers kill(0): reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + _STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
