import json

import numpy as np
import pandas as pd
import pytest

from spikecut.io import (
    atomic_path,
    config_id,
    load_torch,
    read_npz,
    save_torch,
    write_csv,
    write_npz,
)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_replaces_only_when_done(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"
    assert target.read_text() == "new" and len(list(tmp_path.iterdir())) == 1


def test_npz_roundtrip_and_errors(tmp_path):
    path = tmp_path / "a.npz"
    write_npz(path, {"run": "x"}, a=np.arange(3))
    arrays, meta = read_npz(path, ("a",))
    assert meta == {"run": "x"} and arrays["a"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"lacks the arrays \['b'\]"):
        read_npz(path, ("b",))
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        read_npz(path, ("a",))
    with pytest.raises(FileNotFoundError):
        read_npz(tmp_path / "missing.npz", ("a",))


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / "m.pt"
    save_torch(path, {"w": np.ones(1000)})
    assert load_torch(path)["w"].sum() == 1000
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="checkpoint .* corrupt or truncated"):
        load_torch(path)


def test_config_id_is_stable_and_sensitive(tmp_path):
    assert config_id({"a": 1, "b": [1, 2]}) == config_id({"b": [1, 2], "a": 1})
    assert config_id({"a": 1}) != config_id({"a": 2})
    write_csv(tmp_path / "c.csv", pd.DataFrame({"x": [1]}))
    assert pd.read_csv(tmp_path / "c.csv")["x"].tolist() == [1]
    assert json.loads(json.dumps(config_id([1])))
