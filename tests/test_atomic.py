"""Tests for rnnkit.atomic: a failed write never damages the old file or leaves litter."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import safetensors.torch
import torch

from rnnkit import atomic
from rnnkit.atomic import (
    atomic_directory,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)
from rnnkit.training import weights
from rnnkit.training.weights import atomic_save_safetensors


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- files --------------------------------------------------------------------------------


def test_write_bytes_creates_and_replaces_without_leftovers(tmp_path):
    target = tmp_path / "a.bin"
    assert atomic_write_bytes(target, b"one") == target
    atomic_write_bytes(target, bytearray(b"two!"))
    assert target.read_bytes() == b"two!"
    assert names(tmp_path) == ["a.bin"]


def test_write_text_is_utf8_and_keeps_newlines(tmp_path):
    target = atomic_write_text(tmp_path / "t.txt", "é\r\nx\n")
    assert target.read_bytes() == "é\r\nx\n".encode()


def test_new_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        target = atomic_write_text(tmp_path / "t.txt", "x")
    finally:
        os.umask(old)
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_weights_get_the_same_permissions_as_every_other_file(tmp_path):
    # safetensors writes its own file, 0o600: a run shared with a group must load for it.
    old = os.umask(0o027)
    try:
        weights = atomic_save_safetensors(tmp_path / "w.safetensors", {"w": torch.ones(2)})
        text = atomic_write_text(tmp_path / "c.json", "{}")
    finally:
        os.umask(old)
    assert weights.stat().st_mode & 0o777 == text.stat().st_mode & 0o777 == 0o640


def test_write_json_layout(tmp_path):
    obj = {"z": 1, "a": [1.5, float("inf"), -float("inf")], "ü": "ß"}
    text = atomic_write_json(tmp_path / "o.json", obj).read_text(encoding="utf-8")
    assert text == (
        '{\n  "z": 1,\n  "a": [\n    1.5,\n    Infinity,\n    -Infinity\n  ],\n  "ü": "ß"\n}\n'
    )
    back = json.loads(text)
    assert list(back) == ["z", "a", "ü"]  # key order kept, not sorted
    assert back["a"][1] == math.inf


def test_write_json_of_unserializable_writes_nothing(tmp_path):
    target = atomic_write_json(tmp_path / "o.json", {"v": 1})
    with pytest.raises(TypeError):
        atomic_write_json(target, {"v": object()})
    assert json.loads(target.read_text()) == {"v": 1}
    assert names(tmp_path) == ["o.json"]


def test_type_errors(tmp_path):
    with pytest.raises(TypeError, match="data: expected bytes"):
        atomic_write_bytes(tmp_path / "x", "text")
    with pytest.raises(TypeError, match="text: expected str"):
        atomic_write_text(tmp_path / "x", b"bytes")
    assert names(tmp_path) == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_keeps_old_file_and_removes_temp(tmp_path, monkeypatch, failing):
    target = atomic_write_bytes(tmp_path / "a.bin", b"old")

    def boom(*args, **kwargs):
        raise OSError(f"simulated {failing} failure")

    monkeypatch.setattr(atomic.os, failing, boom)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_bytes(target, b"new content")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["a.bin"]


def test_missing_directory_raises_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "no" / "a.bin", b"x")
    assert names(tmp_path) == []


# --- safetensors ----------------------------------------------------------------------------


def test_safetensors_round_trip_with_aliases_views_and_metadata(tmp_path):
    base = torch.arange(12.0).reshape(3, 4)
    tensors = {
        "base": base,
        "alias": base,  # same tensor twice: safetensors alone refuses this
        "transposed": base.t(),  # a non-contiguous view of the same storage
        "row": base[1],
        "ints": torch.tensor([1, 2, 3], dtype=torch.int64),
        "scalar": torch.tensor(2.5),
    }
    path = atomic_save_safetensors(tmp_path / "t.safetensors", tensors, {"note": "hi"})
    loaded = safetensors.torch.load_file(path)
    assert set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        assert torch.equal(loaded[name], tensor), name
        assert loaded[name].dtype == tensor.dtype
    with safetensors.safe_open(path, "pt") as f:
        assert f.metadata() == {"note": "hi"}
    assert torch.equal(base, torch.arange(12.0).reshape(3, 4))  # the input was not changed
    assert names(tmp_path) == ["t.safetensors"]


def test_safetensors_failure_keeps_old_file(tmp_path, monkeypatch):
    path = atomic_save_safetensors(tmp_path / "t.safetensors", {"a": torch.ones(2)})
    real = safetensors.torch.save_file

    def half_written(tensors, filename, metadata=None):
        real(tensors, filename, metadata=metadata)
        Path(filename).write_bytes(Path(filename).read_bytes()[:10])
        raise OSError("disk full")

    monkeypatch.setattr(weights.safetensors.torch, "save_file", half_written)
    with pytest.raises(OSError, match="disk full"):
        atomic_save_safetensors(path, {"a": torch.zeros(1000)})
    monkeypatch.undo()
    assert torch.equal(safetensors.torch.load_file(path)["a"], torch.ones(2))
    assert names(tmp_path) == ["t.safetensors"]


def test_safetensors_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match=r"tensors\['a'\]: expected a Tensor"):
        atomic_save_safetensors(tmp_path / "t.safetensors", {"a": [1, 2]})
    with pytest.raises(TypeError, match="metadata"):
        atomic_save_safetensors(tmp_path / "t.safetensors", {}, {"a": 1})
    assert names(tmp_path) == []


# --- directories ----------------------------------------------------------------------------


def test_directory_created(tmp_path):
    final = tmp_path / "gen"
    with atomic_directory(final) as temp:
        assert temp.parent == tmp_path and temp != final and not final.exists()
        (temp / "sub").mkdir()
        (temp / "sub" / "x.txt").write_text("plain write, fsynced on exit")
    assert (final / "sub" / "x.txt").read_text() == "plain write, fsynced on exit"
    assert names(tmp_path) == ["gen"]


def test_directory_replaces_existing(tmp_path):
    final = tmp_path / "gen"
    with atomic_directory(final) as temp:
        (temp / "old.txt").write_text("old")
    with atomic_directory(final) as temp:
        (temp / "new.txt").write_text("new")
    assert names(final) == ["new.txt"]
    assert names(tmp_path) == ["gen"]  # no *.old-* or *.tmp-* left


def test_exception_in_directory_keeps_previous_and_removes_temp(tmp_path):
    final = tmp_path / "gen"
    with atomic_directory(final) as temp:
        (temp / "keep.txt").write_text("previous")
    with pytest.raises(RuntimeError, match="crash"), atomic_directory(final) as temp:
        (temp / "half.txt").write_text("half")
        raise RuntimeError("crash while filling")
    assert names(final) == ["keep.txt"]
    assert (final / "keep.txt").read_text() == "previous"
    assert names(tmp_path) == ["gen"]


def test_exception_in_new_directory_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_directory(tmp_path / "gen"):
        raise KeyboardInterrupt
    assert names(tmp_path) == []


def test_failed_second_rename_restores_previous(tmp_path, monkeypatch):
    final = tmp_path / "gen"
    with atomic_directory(final) as temp:
        (temp / "keep.txt").write_text("previous")
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # final -> old worked; temp -> final fails
            raise OSError("simulated rename failure")
        return real_rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", rename)
    with pytest.raises(OSError, match="simulated"), atomic_directory(final) as temp:
        (temp / "new.txt").write_text("new")
    monkeypatch.undo()
    assert names(final) == ["keep.txt"]
    assert names(tmp_path) == ["gen"]
