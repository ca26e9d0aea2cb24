"""Listing and hashing a model's files: ignored names, links, threads, and changes while hashing."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from modelmint.errors import InputError
from modelmint.models import open_model
from modelmint.models._files import hash_files, list_files


def test_manifest_lists_every_file_with_its_sha256_and_size(tiny_model):
    manifest = open_model(tiny_model).manifest()
    paths = [e.path for e in manifest.files]
    assert paths == sorted(paths, key=str.encode)
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= set(paths)
    for e in manifest.files:
        data = (tiny_model / e.path).read_bytes()
        assert e.sha256 == hashlib.sha256(data).digest()
        assert e.size == len(data)


def test_git_and_download_bookkeeping_are_ignored(tiny_model):
    before = open_model(tiny_model).manifest().root
    (tiny_model / ".git" / "objects").mkdir(parents=True)
    (tiny_model / ".git" / "objects" / "ab").write_bytes(b"blob")
    (tiny_model / ".gitattributes").write_text("*.safetensors filter=lfs diff=lfs merge=lfs -text\n")
    (tiny_model / ".cache" / "huggingface" / "download").mkdir(parents=True)
    (tiny_model / ".cache" / "huggingface" / "download" / "config.json.metadata").write_text("etag")
    assert open_model(tiny_model).manifest().root == before
    (tiny_model / ".hidden").write_text("counts")
    assert open_model(tiny_model).manifest().root != before


def test_symbolic_links_are_refused_unless_followed(tiny_model, tmp_path):
    copy_root = open_model(tiny_model).manifest().root
    blob = tmp_path / "blobs" / "3f9a0c"
    blob.parent.mkdir()
    shutil.move(tiny_model / "model.safetensors", blob)
    os.symlink(blob, tiny_model / "model.safetensors")
    with pytest.raises(InputError, match=r"model\.safetensors is a symbolic link.*follow_symlinks"):
        open_model(tiny_model)
    # A Hugging Face cache snapshot is links into blobs/: followed, it commits to the same content.
    assert open_model(tiny_model, follow_symlinks=True).manifest().root == copy_root

    os.symlink(tmp_path, tiny_model / "loop")
    with pytest.raises(InputError, match="link to a folder"):
        open_model(tiny_model, follow_symlinks=True)


def test_threads_do_not_change_the_result(tiny_model):
    big = tiny_model / "extra.bin"
    big.write_bytes(os.urandom(9 << 20 | 123))  # several 4 MiB chunks and a ragged end
    files = list_files(tiny_model)
    one = hash_files(tiny_model, files, workers=1)
    many = hash_files(tiny_model, files, workers=4)
    assert one == many
    assert next(e for e in one if e.path == "extra.bin").sha256 == hashlib.sha256(big.read_bytes()).digest()


def test_progress_adds_up_to_the_bytes_hashed(tiny_model):
    source = open_model(tiny_model)
    seen: list[int] = []
    source.manifest(seen.append)
    assert sum(seen) == source.hash_size == sum(f.size for f in source.files)


def test_a_file_rewritten_while_hashing_is_refused(tiny_model):
    source = open_model(tiny_model, workers=1)

    def write_meanwhile(_n: int) -> None:
        with open(tiny_model / "model.safetensors", "ab") as f:  # the file being read now
            f.write(b"\0")

    with pytest.raises(InputError, match="changed while it was being hashed"):
        source.manifest(write_meanwhile)


def test_a_file_added_while_hashing_is_refused(tiny_model):
    source = open_model(tiny_model)
    with pytest.raises(InputError, match=r"changed while it was being hashed \(late.bin"):
        source.manifest(lambda _n: (tiny_model / "late.bin").write_bytes(b"x"))


def test_a_file_hashed_earlier_then_changed_is_refused(tiny_model):
    source = open_model(tiny_model, workers=1)
    calls = []

    def touch_first_file(_n: int) -> None:
        calls.append(_n)
        if len(calls) == len(source.files):  # the last file: the largest was hashed first
            os.utime(tiny_model / "model.safetensors", ns=(1, 1))

    with pytest.raises(InputError, match=r"model.safetensors was added, removed or rewritten"):
        source.manifest(touch_first_file)


def test_folders_that_are_not_models_are_refused(tmp_path, tiny_model):
    empty = tmp_path / "empty"
    (empty / ".git").mkdir(parents=True)
    (empty / ".git" / "HEAD").write_text("x")
    with pytest.raises(InputError, match="holds no files"):
        open_model(empty)

    no_config = tmp_path / "no-config"
    no_config.mkdir()
    (no_config / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match=r"no config\.json"):
        open_model(no_config)

    gguf_only = tmp_path / "gguf-only"
    gguf_only.mkdir()
    (gguf_only / "m.gguf").write_bytes(b"GGUF")
    with pytest.raises(InputError, match=r"no config.json: for a GGUF model give the file itself"):
        open_model(gguf_only)

    (tiny_model / "model.safetensors").unlink()
    with pytest.raises(InputError, match="no weights file"):
        open_model(tiny_model)


def test_a_missing_path_says_so(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_model(tmp_path / "nope")
    with pytest.raises(InputError, match="does not exist"):
        open_model(str(tmp_path / "a" / "b"))  # looks like no repo id: never sent to the Hub
