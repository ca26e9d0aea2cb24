"""Paths and small helpers the test modules share."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "generated_data" / "sample"
