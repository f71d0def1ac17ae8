"""N-MNIST from small fakes of its two published archives: downloaded from a loopback
server with their md5 checked, unpacked, read through tonic and framed by the
registry's prepare."""

import dataclasses

import numpy as np
import pytest

from spikecut.data import DATASETS, prepare
from spikecut.data.download import (
    DatasetUnavailable,
    extract,
    extracted_dir,
    fetch_dataset,
    md5sum,
)
from spikecut.data.events import load_event_dataset
from spikecut.data.sets import n_mnist
from tests.fakes import Served, write_atis_bin, write_nmnist


@pytest.fixture
def published(tmp_path):
    """The fake archives, as the authors publish them."""
    folder = tmp_path / "published"
    write_nmnist(folder, per_class=3, test_per_class=2, n_events=120)
    return folder


def served_spec(folder, url, md5=None):
    archives = tuple(
        dataclasses.replace(a, url=f"{url}/{a.filename}", md5=md5 or md5sum(folder / a.filename))
        for a in n_mnist.ARCHIVES
    )
    return dataclasses.replace(DATASETS["n-mnist"], archives=archives)


def test_fetched_and_prepared_end_to_end(tmp_path, published, monkeypatch):
    raw = tmp_path / "raw"
    with Served(published) as url:
        spec = served_spec(published, url)
        placed = fetch_dataset(spec.archives, raw / "n-mnist")
    monkeypatch.setitem(DATASETS, "n-mnist", spec)
    assert {name: p["md5"] for name, p in placed.items()} == {
        a.filename: md5sum(published / a.filename) for a in n_mnist.ARCHIVES
    }
    data = prepare("n-mnist", n_steps=4, seed=0, test_fraction=None, val_fraction=0.34, root=raw)
    assert data.kind == "events" and data.num_classes == 10 and data.norm is None
    assert data.x["test"].shape == (20, 4, 2, 34, 34) and data.x["test"].dtype == np.uint8
    assert data.index["test"].tolist() == list(range(30, 50))  # the official test digits
    assert sorted(data.y["test"].tolist()) == sorted(list(range(10)) * 2)
    assert len(data.y["val"]) == 11 and len(data.y["train"]) == 19
    total = sum(int(v.reshape(len(v), -1).sum()) for v in data.x.values())
    assert total == 50 * 120  # every event on the 34x34 sensor lands in one bin


def test_wrong_md5_keeps_nothing(tmp_path, published):
    root = tmp_path / "raw" / "n-mnist"
    with Served(published) as url:
        spec = served_spec(published, url, md5="0" * 32)
        with pytest.raises(DatasetUnavailable, match="train.zip has md5 .*nothing was kept"):
            fetch_dataset(spec.archives, root)
    assert list(root.iterdir()) == []


def test_files_labels_and_events(tmp_path):
    root = tmp_path / "n-mnist"
    write_nmnist(root / "unpack", per_class=2, test_per_class=1)
    for archive in n_mnist.ARCHIVES:
        extract(root / "unpack" / archive.filename, extracted_dir(root, archive))
    files, labels, is_test = n_mnist.list_files(root)
    assert len(files) == 30 and is_test.tolist() == [False] * 20 + [True] * 10
    assert labels.tolist() == [d for d in range(10) for _ in range(2)] + list(range(10))
    assert [f.parent.name for f in files] == [str(label) for label in labels]
    x, y = np.array([0, 33, 7]), np.array([33, 0, 5])
    write_atis_bin(files[0], x, y, np.array([1, 0, 1]), np.array([5, 80_000, 299_999]))
    ev = n_mnist.read_events(files[0])
    # as recorded: N-MNIST is already cropped, nothing is moved to the origin
    assert ev["x"].tolist() == [0, 33, 7] and ev["y"].tolist() == [33, 0, 5]
    assert ev["t"].tolist() == [5, 80_000, 299_999] and ev["p"].tolist() == [1, 0, 1]


def test_missing_and_truncated_files_are_named(tmp_path, published):
    root = tmp_path / "raw" / "n-mnist"
    with pytest.raises(FileNotFoundError, match="train.zip.d/Train is missing: fetch"):
        n_mnist.list_files(root)
    with Served(published) as url:
        fetch_dataset(served_spec(published, url).archives, root)
    victim = sorted(root.glob("test.zip.d/Test/3/*.bin"))[0]
    victim.write_bytes(victim.read_bytes()[:402])
    with pytest.raises(ValueError, match=f"event file {victim} is corrupt or truncated"):
        load_event_dataset(
            n_mnist.list_files, n_mnist.read_events, n_mnist.ARCHIVES, root, (34, 34), 2
        )
