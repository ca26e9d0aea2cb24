"""Keeping transformers' own progress bars and notices out of modelmint's output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Within the block, transformers draws no tqdm bars and logs errors only; restored after.

    modelmint reports progress itself (rich, on a terminal); the library's bars for loading
    and writing a 135M model would be noise on every command and in notebooks.
    """
    from transformers.utils import logging

    bars, verbosity = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()
