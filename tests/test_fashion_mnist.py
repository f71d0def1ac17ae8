"""Fashion-MNIST's loader: the published gzipped IDX files (small fakes written in that
format), their checks, Debian's package as the offline source, and the real files where
that package is installed."""

import dataclasses
import gzip
import hashlib
import json
import logging

import numpy as np
import pytest

from spikecut.data import DATASETS, prepare
from spikecut.data.download import DatasetUnavailable, fetch_dataset, md5sum
from spikecut.data.sets import fashion_mnist
from spikecut.stages import fetch_dataset as fetch_stage
from tests.fakes import Served, downloaded_fashion_mnist, write_fashion_mnist, write_idx_gz

NAMES = [a.filename for a in fashion_mnist.ARCHIVES]


@pytest.fixture
def downloaded(tmp_path, monkeypatch):
    """A fake in the raw folder, where fetch_dataset puts the official files, with
    their md5 as the published ones; no Debian package."""
    return downloaded_fashion_mnist(tmp_path, monkeypatch, n_train=40, n_test=20)


@pytest.fixture
def debian(tmp_path, monkeypatch):
    """A fake installed as Debian installs the package, with its content's sha256."""
    folder = tmp_path / "debian"
    images, labels = write_fashion_mnist(folder, n_train=40, n_test=20, seed=1)
    content = {n: hashlib.sha256(gzip.open(folder / n).read()).hexdigest() for n in NAMES}
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", folder)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_CONTENT_SHA256", content)
    return folder, images, labels


def test_reads_the_downloaded_files(downloaded):
    root, images, labels = downloaded
    x, y, is_test = fashion_mnist.load(root)
    assert x.shape == (60, 1, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], images)
    np.testing.assert_array_equal(y, labels)
    assert is_test.tolist() == [False] * 40 + [True] * 20


def test_prepared_with_the_official_split(downloaded):
    root, _, labels = downloaded
    data = prepare("fashion-mnist", None, 0, None, 0.25, root=root.parent)
    assert data.index["test"].tolist() == list(range(40, 60))
    assert len(data.y["val"]) == 10 and len(data.y["train"]) == 30
    assert data.input_shape == (1, 28, 28) and data.kind == "static"
    assert data.norm == ((0.2860,), (0.3530,))
    assert np.array_equal(data.y["test"], labels[40:])


def test_fetched_where_the_loader_reads(tmp_path, downloaded, monkeypatch):
    """The project's download machinery puts each file, md5-checked and left as it is,
    where the loader looks first."""
    source, images, _ = downloaded
    root = tmp_path / "fetched"
    with Served(source) as url:
        archives = tuple(
            dataclasses.replace(a, url=f"{url}/{a.filename}") for a in fashion_mnist.ARCHIVES
        )
        fetch_dataset(archives, root)
    assert sorted(p.name for p in root.iterdir()) == sorted(NAMES)  # nothing unpacked
    monkeypatch.setattr(fashion_mnist, "ARCHIVES", archives)
    np.testing.assert_array_equal(fashion_mnist.load(root)[0][:, 0], images)


@pytest.fixture
def offline_spec(monkeypatch):
    """fashion-mnist's spec with its files at an address that refuses connections, as
    an offline machine does (port 9 on loopback)."""
    archives = tuple(
        dataclasses.replace(a, url=f"http://127.0.0.1:9/{a.filename}")
        for a in fashion_mnist.ARCHIVES
    )
    monkeypatch.setitem(
        DATASETS, "fashion-mnist", dataclasses.replace(DATASETS["fashion-mnist"], archives=archives)
    )


def test_offline_fetch_falls_back_on_debian(tmp_path, offline_spec, debian, caplog):
    folder, images, labels = debian
    raw = tmp_path / "raw"
    marker = raw / "fashion-mnist" / "fetched.json"
    with caplog.at_level(logging.WARNING, logger="spikecut.stages.data"):
        fetch_stage(str(marker), "fashion-mnist", str(raw / "fashion-mnist"))
    assert json.loads(marker.read_text()) == {n: {"path": str(folder / n)} for n in NAMES}
    assert "could not be downloaded" in caplog.text and str(folder / NAMES[0]) in caplog.text
    data = prepare("fashion-mnist", None, 0, None, 0.25, root=raw)
    assert np.array_equal(data.y["test"], labels[40:])
    np.testing.assert_array_equal(data.x["test"][:, 0], images[40:])


def test_offline_fetch_refuses_a_damaged_package(tmp_path, offline_spec, debian):
    """Debian's files are checked when the fetch records them, not first when a
    preparation reads them."""
    folder, images, _ = debian
    write_idx_gz(folder / "t10k-images-idx3-ubyte.gz", images[40:] ^ 1)
    root = tmp_path / "raw" / "fashion-mnist"
    with pytest.raises(
        DatasetUnavailable,
        match="could not download .*Without a download: .*holds content of sha256 .*reinstall",
    ):
        fetch_stage(str(root / "fetched.json"), "fashion-mnist", str(root))
    assert not (root / "fetched.json").exists()


def test_offline_fetch_without_debian_says_both_ways(tmp_path, offline_spec, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    root = tmp_path / "raw" / "fashion-mnist"
    with pytest.raises(DatasetUnavailable) as err:
        fetch_stage(str(root / "fetched.json"), "fashion-mnist", str(root))
    message = str(err.value)
    assert "could not download http://127.0.0.1:9/train-images-idx3-ubyte.gz" in message
    assert "on a machine with internet access" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert not (root / "fetched.json").exists()


def test_corrupt_download_is_refused(downloaded):
    root, _, _ = downloaded
    path = root / "train-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-9] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetUnavailable, match=f"{path} has md5 .* corrupt or incomplete"):
        fashion_mnist.load(root)


def test_debian_files_are_read_when_none_were_downloaded(tmp_path, debian):
    folder, images, labels = debian
    # Debian recompressed the files: another container, the same content
    path = folder / "t10k-images-idx3-ubyte.gz"
    before = md5sum(path)
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1))
    assert md5sum(path) != before
    x, y, is_test = fashion_mnist.load(tmp_path / "raw" / "fashion-mnist")
    np.testing.assert_array_equal(x[:, 0], images)
    np.testing.assert_array_equal(y, labels)
    assert is_test.sum() == 20


def test_each_file_downloaded_comes_before_debian_one(downloaded, debian):
    root, images, _ = downloaded
    (root / "t10k-images-idx3-ubyte.gz").unlink()
    x = fashion_mnist.load(root)[0][:, 0]
    np.testing.assert_array_equal(x[:40], images[:40])  # the downloaded training images
    np.testing.assert_array_equal(x[40:], debian[1][40:])  # Debian's test images


def test_damaged_debian_file_is_refused(tmp_path, debian):
    folder, images, _ = debian
    changed = images[:40].copy()
    changed[3, 10, 10] ^= 1
    write_idx_gz(folder / "train-images-idx3-ubyte.gz", changed)
    with pytest.raises(DatasetUnavailable, match="holds content of sha256 .* reinstall"):
        fashion_mnist.load(tmp_path / "raw")
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DatasetUnavailable, match="cannot be decompressed .*reinstall"):
        fashion_mnist.load(tmp_path / "raw")


def test_nothing_found_offline_says_both_ways(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    root = tmp_path / "raw" / "fashion-mnist"
    with pytest.raises(DatasetUnavailable) as err:
        fashion_mnist.load(root)
    message = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert f"neither in {root}" in message and str(tmp_path / "no-debian") in message
    assert all(f"{fashion_mnist.URL}{name}" in message for name in NAMES)
    assert f"delete {root / 'fetched.json'}" in message  # fetching again downloads them


def test_idx_header_is_checked():
    header = bytes([0, 0, 8, 2]) + np.asarray([2, 3], ">u4").tobytes()
    assert fashion_mnist.read_idx(header + bytes(range(6)), "f").tolist() == [
        [0, 1, 2],
        [3, 4, 5],
    ]
    with pytest.raises(ValueError, match="f holds 5 values, its header says \\(2, 3\\)"):
        fashion_mnist.read_idx(header + bytes(5), "f")
    with pytest.raises(ValueError, match="not an IDX file of unsigned bytes"):
        fashion_mnist.read_idx(bytes([0, 0, 0x0D, 1]), "f")  # floats


real = pytest.mark.skipif(
    not fashion_mnist.DEBIAN_DIR.is_dir(),
    reason=f"Fashion-MNIST is not installed in {fashion_mnist.DEBIAN_DIR}: "
    "`apt-get install dataset-fashion-mnist` (as root) installs it",
)


@real
def test_real_files(tmp_path):
    x, y, is_test = fashion_mnist.load(tmp_path)  # nothing downloaded: Debian's files
    assert x.shape == (70_000, 1, 28, 28) and is_test.sum() == 10_000
    assert not is_test[:60_000].any()
    assert np.bincount(y[:60_000]).tolist() == [6000] * 10
    assert np.bincount(y[60_000:]).tolist() == [1000] * 10
    # the first labels, as the authors' files hold them
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert y[60_000:60_010].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    # the normalisation the data set declares is its training images'
    train = x[:60_000] / 255.0
    spec = fashion_mnist.DATASET
    assert spec.mean == (round(train.mean(), 4),) and spec.std == (round(train.std(), 4),)
