"""The walkthrough notebook runs top to bottom on the embedded defaults (local devnet, local store)."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from modelmint.chain import devnet
from modelmint.home import Home
from tests_support import MODEL_CACHE, REPO

NOTEBOOK = REPO / "notebooks" / "walkthrough.ipynb"


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_walkthrough_runs_and_verifies(tmp_path, monkeypatch):
    home = Home(tmp_path / "home")
    monkeypatch.setenv(
        "MODELMINT_HOME", str(home.root)
    )  # the kernel inherits it: a folder this test can clean
    monkeypatch.setenv("MODELMINT_CACHE", os.environ.get("MODELMINT_CACHE") or str(MODEL_CACHE))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    try:
        client.execute()  # raises CellExecutionError, with the cell's traceback, if any cell fails
    finally:
        devnet.stop(home)  # in case the notebook failed before its clean-up cell

    text = "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "smollm2-sample matches model 2" in text
    assert "does NOT match model 2; differs: model.safetensors" in text
    assert "member.jsonl: 1 of 1 datapoints proven" in text
    assert "outsider.jsonl: 0 of 1" in text
    assert "stopped" in text.splitlines()[-1]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for cell in notebook.cells for o in cell.get("outputs", []))  # fmt: skip
    assert devnet.status(home) is None
