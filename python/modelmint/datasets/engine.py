"""Where a dataset's datapoints are hashed: on this machine, or across a Ray cluster.

An engine is a way to run the hashing, never a second scheme (docs/engine.md). Both engines
call the same reader for each shard (:func:`~modelmint.datasets.hash_dataset`, the rules of
docs/hashing.md), so the leaf list, the root and every proof are the same whichever runs.

- ``local`` (the default): this machine's cores, as :func:`hash_dataset` and
  :func:`hash_shards` always did.
- ``ray``: a Ray Data job with one task per shard, on an existing cluster (``address``:
  ``host:port`` of its head, or ``ray://host:port`` for Ray Client) or, without an address,
  a Ray instance started for the job on this machine. Each task hashes its shard with the
  local code and returns the shard's hashes (32 bytes a datapoint); the driver puts them
  in shard order. Memory per worker is one shard's hashes and a few MiB of pieces, whatever
  the dataset's size. Shard files must be readable at the same path on every node (a
  shared or replicated filesystem).
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from modelmint.datasets._digest import DatasetDigest, hash_dataset, input_size
from modelmint.datasets._frames import read_frame, write_frame
from modelmint.datasets._shards import SHARD_SCHEME, Shard, hash_shards, order_shards, shard_order_key
from modelmint.errors import EngineError, InputError, ModelmintError
from modelmint.hashing.files import Progress

ENGINES = ("local", "ray")

_SET_MARK = re.compile(r"-(\d+)-of-(\d+)")


@dataclass(frozen=True)
class Engine:
    """How to compute a dataset's datapoint hashes.

    Attributes:
        name: ``local`` or ``ray``.
        address: for ``ray``, the cluster to run on; None starts a Ray instance here.
    """

    name: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise InputError(f"unknown engine {self.name!r}", f"use one of {', '.join(ENGINES)}")
        if self.address is not None and self.name != "ray":
            raise InputError(
                "an engine address is for the ray engine only",
                "choose the ray engine, or give no address",
                hint="ray-address",
            )

    def hash(
        self,
        paths: Sequence[str | os.PathLike[str]],
        fmt: str | None = None,
        progress: Progress | None = None,
    ) -> DatasetDigest:
        """Hashes one dataset, or several shard files as one dataset (:func:`hash_shards`).

        Raises:
            InputError: as :func:`hash_dataset` / :func:`hash_shards`, or the shards'
                ``-i-of-n`` indices miss one or repeat one.
            EngineError: the cluster cannot be reached, or goes away during the job.
        """
        if self.name == "local":
            if len(paths) == 1:
                return hash_dataset(paths[0], fmt, progress)
            shard_format, shards = order_shards(paths, fmt)
            check_shard_set(shards)
            return hash_shards(paths, shard_format, progress)
        return _hash_on_ray(paths, fmt, progress, self.address)


def check_shard_set(shards: Sequence[Shard]) -> None:
    """Refuses a set of ``name-i-of-n`` shards with an index given twice or one missing.

    Shards are grouped by their name without the index (as :func:`shard_order_key` orders
    them); a group's indices must be distinct and run from 0 to n - 1, or from 1 to n.

    Raises:
        InputError: an index is given twice, or one is missing.
    """
    groups: dict[bytes, dict[int, str]] = {}
    declared: dict[bytes, int] = {}
    for shard in shards:
        marks = _SET_MARK.findall(shard.name)
        if not marks:
            continue
        stem, index, _ = shard_order_key(shard.name)
        group = groups.setdefault(stem, {})
        if index in group:
            raise InputError(
                f"shards {group[index]} and {shard.name} have the same index {index}",
                "give each shard of a set once, with its own index",
            )
        group[index] = shard.name
        declared[stem] = max(declared.get(stem, 0), int(marks[-1][1]))
    for stem, group in groups.items():
        first = 0 if 0 in group else 1
        missing = sorted(set(range(first, first + max(declared[stem], len(group)))) - set(group))
        if missing:
            raise InputError(
                f"shard {missing[0]} of the set of {next(iter(group.values()))} is missing "
                f"({len(group)} of {declared[stem]} given)",
                "give every shard of the set; a commitment covers the whole dataset",
            )


def _hash_shard_task(row: dict[str, Any]) -> dict[str, Any]:
    """One Ray Data task: a shard's hashes, by the local code. An InputError travels back
    as its message, so the driver raises it as one line."""
    try:
        digest = hash_dataset(row["path"], row["format"])
    except ModelmintError as e:
        return {"index": row["index"], "hashes": b"", "count": 0, "problem": e.problem, "fix": e.fix or ""}
    return {"index": row["index"], "hashes": digest.hashes, "count": digest.count, "problem": "", "fix": ""}


def _hash_on_ray(
    paths: Sequence[str | os.PathLike[str]], fmt: str | None, progress: Progress | None, address: str | None
) -> DatasetDigest:
    shard_format, shards = order_shards(paths, fmt)
    check_shard_set(shards)
    if importlib.util.find_spec("ray") is None:
        raise EngineError(
            "the ray engine needs Ray", "install modelmint's cluster extra: pip install 'modelmint[cluster]'"
        )
    if address is not None:
        _probe(address)
    items = [{"index": i, "path": str(s.path), "format": shard_format} for i, s in enumerate(shards)]
    sizes = [input_size(s.path, shard_format) for s in shards]
    results: dict[int, tuple[int, bytes]] = {}
    # The Ray driver runs in its own process: Ray ends a driver whose cluster goes away, and
    # this process must live to say so in one line (and to register nothing).
    with tempfile.TemporaryFile() as log:
        driver = subprocess.Popen(
            [sys.executable, "-m", "modelmint.datasets._ray_driver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        try:
            write_frame(driver.stdin, {"address": address, "items": items})  # type: ignore[arg-type]
            driver.stdin.close()  # type: ignore[union-attr]
            while (frame := read_frame(driver.stdout))[0]:  # type: ignore[arg-type]
                kind, *values = frame[1]
                if kind == "input":
                    raise InputError(values[0], values[1] or None)
                if kind == "engine":
                    raise EngineError(values[0], values[1] or None)
                index, count, hashes = values
                results[index] = (count, hashes)
                if progress is not None:
                    progress(sizes[index])
        finally:
            if driver.poll() is None:
                driver.kill()
            driver.wait()
            driver.stdout.close()  # type: ignore[union-attr]
    if len(results) != len(shards):
        raise EngineError(
            f"the Ray job failed after {len(results)} of {len(shards)} shards (its driver stopped, exit code "
            f"{driver.returncode}: the cluster went away or a node failed)",
            "check the cluster and hash the dataset again; nothing was registered",
        )
    for index, shard in enumerate(shards):
        if results[index][0] == 0:
            raise InputError(
                f"{shard.path} holds no datapoints", "a dataset needs at least one datapoint to commit to"
            )
    hashes = b"".join(results[i][1] for i in range(len(shards)))
    if len(shards) == 1:
        return DatasetDigest(
            format=shard_format, scheme=f"modelmint.{shard_format}.v1", count=len(hashes) // 32, hashes=hashes
        )
    counts = tuple((s.name, results[i][0]) for i, s in enumerate(shards))
    return DatasetDigest(
        format=shard_format, scheme=SHARD_SCHEME, count=len(hashes) // 32, hashes=hashes, shards=counts
    )


def run_driver(job: dict[str, Any], out: BinaryIO) -> None:
    """The Ray driver (``python -m modelmint.datasets._ray_driver``): runs the job and
    sends each shard's result as it arrives, then ``("done",)``."""

    def send(message: tuple[Any, ...]) -> None:
        write_frame(out, message)

    import ray
    import ray.data

    address = job["address"]
    where = address or "a Ray instance on this machine"
    try:
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    except Exception as e:
        send(
            (
                "engine",
                f"cannot connect to the Ray cluster at {where} ({_first_line(e)})",
                "check the cluster's address and that the cluster is up",
            )
        )
        return
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False  # modelmint's own bar follows the job
        items = job["items"]
        dataset = ray.data.from_items(items, override_num_blocks=len(items)).map(_hash_shard_task, num_cpus=1)
        for row in dataset.iter_rows():
            if row["problem"]:
                send(("input", row["problem"], row["fix"]))
                return
            send(("shard", int(row["index"]), int(row["count"]), bytes(row["hashes"])))
    except Exception as e:
        send(
            (
                "engine",
                f"the Ray job failed ({_first_line(e)})",
                "check the cluster and hash the dataset again; nothing was registered",
            )
        )
    finally:
        ray.shutdown()


def _probe(address: str) -> None:
    """Fails at once when nothing listens at the address: Ray itself retries for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=10):
            pass
    except (OSError, ValueError) as e:
        raise EngineError(
            f"cannot connect to the Ray cluster at {address} ({getattr(e, 'strerror', None) or e})",
            "check the address (host:port of the head, or ray://host:port) and that the cluster is up",
        ) from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]
