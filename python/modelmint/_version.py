"""The package version: the one place it is written.

pyproject.toml reads it (``dynamic = ["version"]``), ``modelmint.__version__`` and
``modelmint --version`` show it, and CHANGELOG.md names it in its newest release section.
"""

__version__ = "0.1.0"
