"""modelmint: provenance of datasets and models on Ethereum."""

__version__ = "0.1.0"
