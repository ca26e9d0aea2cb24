"""Shared by the benchmark scripts: machine facts and publishing a section of docs/benchmarks.md.

Each script measures modelmint side by side with its reference in one run, prints a
markdown table, and replaces its own section of docs/benchmarks.md, which lies between
``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->`` (appended if absent).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import resource
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Python {platform.python_version()}"


def today() -> str:
    return _dt.date.today().isoformat()


def peak_rss_mib(children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children), in MiB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def publish(name: str, markdown: str) -> None:
    """Print ``markdown`` and make it the ``name`` section of docs/benchmarks.md."""
    print(markdown)
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = (
        DOC.read_text()
        if DOC.exists()
        else "# Benchmarks\n\nWritten by `make bench`; each section is replaced when its script runs.\n"
    )
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    text = (
        pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    DOC.write_text(text)
