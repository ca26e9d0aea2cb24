"""Regenerates the HuRef token-frequency corpus, python/modelmint/fingerprints/huref/data/corpus.txt.gz.

Run with CPython 3.11 (the shipped file was made with 3.11.7): `python generated_data/huref/make_corpus.py`.
The corpus is English documentation that ships with CPython itself, so it needs no download:
1. every `pydoc_data.topics` entry, in sorted key order;
2. every docstring of at least 200 characters (module, class and function docstrings, in
   `ast.walk` order, cleaned by `ast.get_docstring`) of `Lib/*.py` and `Lib/*/*.py`, files in
   sorted path order, skipping `test`, `idlelib` and `site-packages`.
Parts are joined with blank lines; the gzip has no name and mtime 0, so the bytes are
reproducible. The output is committed; changing it changes every token ranking (make_tokens.py).
"""

import ast
import gzip
import hashlib
import sys
import sysconfig
from pathlib import Path

import pydoc_data.topics

OUT = Path(__file__).resolve().parents[2] / "python/modelmint/fingerprints/huref/data/corpus.txt.gz"


def main() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit("run with CPython 3.11: the corpus is CPython 3.11's documentation")
    parts = [pydoc_data.topics.topics[key] for key in sorted(pydoc_data.topics.topics)]
    lib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(lib.glob("*.py")) + sorted(lib.glob("*/*.py")):
        if {"test", "idlelib", "site-packages"} & set(path.relative_to(lib).parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node, clean=True)
                if doc and len(doc) >= 200:
                    parts.append(doc)
    text = "\n\n".join(p.strip() for p in parts) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{OUT}: {len(text):,} characters, sha256 {hashlib.sha256(text.encode()).hexdigest()}")


if __name__ == "__main__":
    main()
