"""The Ray engine on a real two-node Ray cluster started by this test session.

The head and a second node are two ``ray start --block`` processes on loopback, each with
one CPU and the session's own temp folder; the tests stop exactly those processes (their
process groups), never ``ray stop``, which would end every Ray process on the machine.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmint.datasets import hash_shards
from modelmint.datasets.engine import Engine
from modelmint.errors import EngineError, InputError
from modelmint.registry import commit_dataset

ray = pytest.importorskip("ray")

RAY = str(Path(sys.executable).with_name("ray"))
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@dataclass
class Cluster:
    address: str
    processes: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        for process in reversed(self.processes):  # the processes this test started, and their children
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(nodes: int, temp_dir: str) -> Cluster:
    port = _free_port()
    common = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--disable-usage-stats", "--block"]
    head = [
        RAY,
        "start",
        "--head",
        "--port",
        str(port),
        "--include-dashboard=false",
        "--temp-dir",
        temp_dir,
        *common,
    ]
    processes = [
        subprocess.Popen(
            head, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    ]
    cluster = Cluster(f"127.0.0.1:{port}", processes)
    try:
        _wait_for_nodes(cluster, 1)
        for _ in range(nodes - 1):
            worker = [RAY, "start", "--address", cluster.address, *common]
            processes.append(
                subprocess.Popen(
                    worker,
                    env=ENV,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        _wait_for_nodes(cluster, nodes)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_for_nodes(cluster: Cluster, count: int, timeout: float = 120) -> None:
    probe = f"import ray; ray.init(address='{cluster.address}', log_to_driver=False); print(sum(n['Alive'] for n in ray.nodes()))"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run(
            [sys.executable, "-c", probe], env=ENV, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(1)
    raise RuntimeError(f"the test cluster did not reach {count} nodes")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # This process is the driver; the variable goes when the module's tests are done.
    # A short path: Ray's Unix sockets live under the temp folder (107-byte limit).
    with (
        pytest.MonkeyPatch.context() as patch,
        tempfile.TemporaryDirectory(prefix="mmray-", dir="/tmp") as temp_dir,
    ):
        patch.setenv("RAY_AUTH_MODE", "disabled")
        c = start_cluster(2, temp_dir)
        try:
            yield c
        finally:
            c.stop()


def _jsonl_shards(folder: Path, count: int, rows: int, seed: int = 3) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"train-{i:05d}-of-{count:05d}.jsonl"
        lines = [
            json.dumps(
                {"id": i * rows + j, "text": f"row {j} é😀", "score": rng.random(), "n": rng.randrange(100)}
            )
            for j in range(rows)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_two_node_cluster_gives_the_single_machine_root(cluster: Cluster, tmp_path: Path) -> None:
    paths = _jsonl_shards(tmp_path / "jsonl", 16, 200)
    reported: list[int] = []
    on_ray = Engine("ray", cluster.address).hash(list(reversed(paths)), progress=reported.append)
    local = hash_shards(paths)
    assert on_ray == local  # the same leaf list, shard counts and scheme
    assert on_ray.tree().root == local.tree().root
    assert on_ray.tree().proof(1234) == local.tree().proof(1234)
    assert sum(reported) == sum(p.stat().st_size for p in paths)


def test_csv_and_parquet_shards(cluster: Cluster, tmp_path: Path) -> None:
    csv_paths, parquet_paths = [], []
    for i in range(4):
        path = tmp_path / f"part-{i}-of-4.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "text"])
            writer.writerows([[i * 10 + j, f"text {j}"] for j in range(10)])
        csv_paths.append(path)
        table = pa.table({"id": list(range(i * 10, i * 10 + 10)), "x": [j / 7 for j in range(10)]})
        parquet = tmp_path / f"part-{i}-of-4.parquet"
        pq.write_table(table, parquet, row_group_size=3)
        parquet_paths.append(parquet)
    assert Engine("ray", cluster.address).hash(csv_paths) == hash_shards(csv_paths)
    assert Engine("ray", cluster.address).hash(parquet_paths) == hash_shards(parquet_paths)


def test_a_bad_shard_is_one_input_error(cluster: Cluster, tmp_path: Path) -> None:
    paths = _jsonl_shards(tmp_path, 2, 5)
    with open(paths[1], "a", encoding="utf-8") as f:
        f.write('{"id": 1, "id": 2}\n')
    with pytest.raises(InputError, match=r"train-00001-of-00002.jsonl line 6: JSON object repeats the key"):
        Engine("ray", cluster.address).hash(paths)


@pytest.mark.parametrize("engine", [Engine(), Engine("ray", "127.0.0.1:1")])
def test_a_missing_shard_or_a_repeated_index_is_refused_before_hashing(
    engine: Engine, tmp_path: Path
) -> None:
    paths = _jsonl_shards(tmp_path, 4, 3)
    with pytest.raises(InputError, match=r"shard 2 of the set of .* is missing \(3 of 4 given\)"):
        engine.hash([p for i, p in enumerate(paths) if i != 2])
    twin = tmp_path / "train-3-of-00004.jsonl"
    twin.write_bytes(paths[3].read_bytes())
    with pytest.raises(InputError, match="have the same index 3"):
        engine.hash([*paths, twin])


def test_no_cluster_at_the_address_is_one_engine_error(tmp_path: Path) -> None:
    paths = _jsonl_shards(tmp_path, 2, 3)
    with pytest.raises(EngineError, match=r"cannot connect to the Ray cluster at 127\.0\.0\.1:"):
        Engine("ray", f"127.0.0.1:{_free_port()}").hash(paths)


@pytest.mark.slow  # waits out Ray's own failure detection; the bad-shard test checks the nothing-registered rule
def test_a_cluster_that_goes_away_mid_job_fails_the_job_and_registers_nothing(
    chain, store, deployed, tmp_path: Path, registries
) -> None:
    paths = _jsonl_shards(tmp_path / "data", 24, 5000)
    with tempfile.TemporaryDirectory(prefix="mmray-", dir="/tmp") as temp_dir:
        doomed = start_cluster(1, temp_dir)
        try:

            def kill_on_first_shard(_n: int) -> None:
                doomed.stop()  # the head and its workers go away while 23 shards are left

            with pytest.raises(EngineError, match="the Ray job failed"):
                commit_dataset(
                    registries, paths, engine=Engine("ray", doomed.address), progress=kill_on_first_shard
                )
        finally:
            doomed.stop()
    assert not any(p.is_file() for p in Path(store.root).rglob("*"))  # nothing stored
    again = commit_dataset(registries, paths)  # nothing registered: the same data mints a new token
    assert again.token_id == 1
    assert not again.already_registered


def test_cli_mints_on_the_cluster_with_the_local_root(
    cli, deployed, cluster: Cluster, tmp_path: Path
) -> None:
    paths = [str(p) for p in _jsonl_shards(tmp_path, 16, 20)]
    on_ray = cli(
        "dataset", "mint", *paths, "--engine", "ray", "--address", cluster.address, "--json", env=ENV
    )
    assert on_ray.code == 0, on_ray.stderr
    local = cli("dataset", "mint", *paths, "--json")
    assert json.loads(local.stdout)["alreadyRegistered"]  # the same root: the same token
    assert json.loads(local.stdout)["merkleRoot"] == json.loads(on_ray.stdout)["merkleRoot"]
    cli(
        "dataset", "mint", *paths, "--engine", "ray", "--address", f"127.0.0.1:{_free_port()}", env=ENV
    ).assert_user_error("cannot connect to the Ray cluster")
    cli("dataset", "mint", *paths[:-1], "--engine", "ray").assert_user_error("shard 15 of the set")
