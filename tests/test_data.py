import numpy as np
import pytest
import torch

from spikecut.data import DATASETS, get_dataset, load_prepared, prepare, save_prepared
from spikecut.data.encoding import to_time_major


@pytest.fixture(scope="module")
def digits():
    return prepare("digits", n_steps=4, seed=0, test_fraction=0.25, val_fraction=0.1)


def test_splits_are_disjoint_stratified_and_complete(digits):
    sizes = {k: len(v) for k, v in digits.y.items()}
    assert sum(sizes.values()) == 1797
    assert sizes["test"] == pytest.approx(0.25 * 1797, abs=1)
    for split in ("train", "val", "test"):
        counts = np.bincount(digits.y[split], minlength=10) / len(digits.y[split])
        assert np.abs(counts - 0.1).max() < 0.03
    everything = np.concatenate(list(digits.index.values()))
    assert sorted(everything.tolist()) == list(range(1797))


def test_split_is_deterministic(digits):
    again = prepare("digits", n_steps=4, seed=0, test_fraction=0.25, val_fraction=0.1)
    other = prepare("digits", n_steps=4, seed=1, test_fraction=0.25, val_fraction=0.1)
    assert all(np.array_equal(digits.y[k], again.y[k]) for k in digits.y)
    assert all(np.array_equal(digits.x[k], again.x[k]) for k in digits.x)
    assert not np.array_equal(digits.x["test"], other.x["test"])


def test_limit_keeps_a_stratified_subset():
    data = prepare("digits", 4, 0, 0.25, 0.1, limit=200)
    assert sum(len(v) for v in data.y.values()) == 200
    assert np.bincount(data.y["train"], minlength=10).min() >= 10


def test_train_limit_shrinks_the_training_split_alone(digits):
    """The validation and test splits stay as they are; training keeps a stratified
    part of its own samples, by whole recordings where they share an image."""
    data = prepare("digits", 4, 0, 0.25, 0.1, train_limit=300)
    assert all(np.array_equal(data.index[k], digits.index[k]) for k in ("val", "test"))
    assert len(data.y["train"]) == 300 and set(data.index["train"]) < set(digits.index["train"])
    assert np.abs(np.bincount(data.y["train"], minlength=10) / 300 - 0.1).max() < 0.02
    events = prepare("digits-dvs", 4, 0, 0.25, 0.1, limit=400, options={"recordings": 2})
    fewer = prepare(
        "digits-dvs", 4, 0, 0.25, 0.1, limit=400, options={"recordings": 2}, train_limit=100
    )
    assert len(fewer.y["train"]) == 100 and np.array_equal(fewer.x["test"], events.x["test"])
    with pytest.raises(ValueError, match="limit or train_limit"):
        prepare("digits", 4, 0, 0.25, 0.1, train_limit=5)


def test_save_load_roundtrip(tmp_path, digits):
    save_prepared(digits, tmp_path / "f.npz", tmp_path / "p.json", {"seed": 0})
    back = load_prepared(tmp_path / "f.npz")
    assert back.kind == "static" and back.n_steps == 4 and back.input_shape == (1, 8, 8)
    assert all(np.array_equal(back.x[k], digits.x[k]) for k in digits.x)
    assert all(np.array_equal(back.index[k], digits.index[k]) for k in digits.x)
    assert (tmp_path / "p.json").read_text().count("class_counts") == 1


def test_corrupt_cache_gives_clear_error(tmp_path, digits):
    path = tmp_path / "f.npz"
    save_prepared(digits, path, tmp_path / "p.json", {})
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="corrupt or truncated.*delete .*f.npz"):
        load_prepared(path)


def test_time_major_encoding():
    static = np.ones((5, 1, 8, 8), np.float32)
    assert to_time_major(static, "static", 3).shape == (3, 5, 1, 8, 8)
    events = np.arange(5 * 3 * 2 * 2 * 2).reshape(5, 3, 2, 2, 2).astype(np.uint8)
    seq = to_time_major(events, "events", 3)
    assert seq.shape == (3, 5, 2, 2, 2) and seq.dtype == torch.float32
    assert torch.equal(seq[1, 4], torch.as_tensor(events[4, 1]).float())


def test_registry():
    assert {"digits", "digits-dvs", "cifar10", "cifar100", "tiny-imagenet"} <= set(DATASETS)
    assert get_dataset("digits-dvs").kind == "events"
    with pytest.raises(ValueError, match="unknown data set"):
        get_dataset("mnist")
