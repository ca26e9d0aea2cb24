"""Gas targets of the calls that matter at scale (issues 10 and 11).

The measuring code is bench/gas.py's, run here on this test's fresh contracts; this test only
asserts: the targets, the agreement of the methods, and the committed figures in
bench/gas.json. It writes nothing: `make bench` (bench/gas.py) publishes the table in
docs/benchmarks.md and rewrites bench/gas.json.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests_support import REPO


def _gas_bench():
    name = "modelmint_bench_gas"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "gas.py")
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file runs
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.mark.slow
def test_gas_of_proofs_and_mints(chain, store, registries):
    gas = _gas_bench()
    table = gas.measure(chain, store, registries)

    assert gas.problems(table) == []
    held = [row.what for row in table.rows if row.held_to_mint_target]
    # Every mint and reveal, an owner's first token and a contested root included (issue 10).
    assert len(held) == 11, held
    assert table.newcomer_reveal <= gas.MINT_TARGET
    assert gas.snapshot_changes(table) == [], (
        "gas moved: run `make bench` (bench/gas.py) and commit the table"
    )
