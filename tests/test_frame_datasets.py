"""The frame loaders on small fake data sets written in the real on-disk formats."""

import pickle

import numpy as np
import pytest

from spikecut.data.frames import load_cifar, load_tiny_imagenet
from tests.fakes import write_cifar, write_tiny_imagenet


@pytest.mark.parametrize("num_classes", [10, 100])
def test_cifar_in_torchvision_layout(tmp_path, num_classes):
    cls = write_cifar(tmp_path, num_classes)
    x, y, is_test = load_cifar(tmp_path, num_classes)
    n_train = 20 * len(cls.train_list)
    assert x.shape == (n_train + 20, 3, 32, 32) and x.dtype == np.uint8
    assert is_test.sum() == 20 and not is_test[:n_train].any()
    assert y.min() >= 0 and y.max() < num_classes
    # the first image's red plane is the first 1024 bytes of the first batch
    with open(tmp_path / cls.base_folder / cls.train_list[0][0], "rb") as fh:
        first = pickle.load(fh)["data"][0]
    np.testing.assert_array_equal(x[0, 0].ravel(), first[:1024])


def test_cifar_integrity_failure_is_clear(tmp_path):
    cls = write_cifar(tmp_path, 10)
    (tmp_path / cls.base_folder / "data_batch_3").write_bytes(b"broken")
    with pytest.raises(FileNotFoundError, match="no valid cifar-10-batches-py.*data_batch_3"):
        load_cifar(tmp_path, 10)


def test_tiny_imagenet_folder_layout(tmp_path):
    write_tiny_imagenet(tmp_path)
    x, y, is_test = load_tiny_imagenet(tmp_path)
    assert x.shape == (12 + 5, 3, 64, 64) and x.dtype == np.uint8
    assert y[:12].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert y[12:].tolist() == [0, 1, 2, 0, 1] and is_test.tolist() == [False] * 12 + [True] * 5
    # greyscale images come out with three equal planes
    assert (x[12, 0] == x[12, 1]).all()
    again = load_tiny_imagenet(tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip((x, y, is_test), again))


def test_tiny_imagenet_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="wnids.txt is missing"):
        load_tiny_imagenet(tmp_path)


def test_tiny_imagenet_from_archive_to_prepared_split(tmp_path, monkeypatch):
    """Download (from a loopback server), verify, unpack, load and split: the whole
    path a real Tiny-ImageNet takes, on a fake one zipped in the published layout."""
    import dataclasses
    import hashlib
    import http.server
    import threading
    import zipfile
    from functools import partial

    from spikecut.data import DATASETS, prepare
    from spikecut.data.download import Archive, fetch_dataset

    source = tmp_path / "src" / "tiny-imagenet-200"
    source.mkdir(parents=True)
    write_tiny_imagenet(source, n_classes=3, per_class=8, n_val=6)
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "tiny-imagenet-200.zip", "w") as zf:
        for path in sorted(source.rglob("*")):
            zf.write(path, path.relative_to(source.parent))
    digest = hashlib.md5((served / "tiny-imagenet-200.zip").read_bytes()).hexdigest()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/tiny-imagenet-200.zip"
    served_archive = Archive(url, digest, "tiny-imagenet-200.zip")
    spec = dataclasses.replace(DATASETS["tiny-imagenet"], archives=(served_archive,))
    monkeypatch.setitem(DATASETS, "tiny-imagenet", spec)
    try:
        placed = fetch_dataset(spec.archives, tmp_path / "raw" / "tiny-imagenet")
    finally:
        httpd.shutdown()
    assert placed["tiny-imagenet-200.zip"]["md5"] == digest

    data = prepare(
        "tiny-imagenet",
        n_steps=4,
        seed=0,
        test_fraction=0.5,
        val_fraction=0.25,
        root=tmp_path / "raw",
    )
    assert len(data.y["test"]) == 6  # the official validation set, not test_fraction
    assert len(data.y["train"]) + len(data.y["val"]) == 24 and len(data.y["val"]) == 6
    assert data.x["train"].dtype == np.uint8 and data.input_shape == (3, 64, 64)
    assert data.norm is not None
    again = prepare("tiny-imagenet", 4, 0, 0.5, 0.25, root=tmp_path / "raw")
    assert all(np.array_equal(data.index[k], again.index[k]) for k in data.index)


def test_uint8_images_are_normalised():
    from spikecut.data.encoding import to_time_major

    x = np.full((2, 3, 4, 4), 255, dtype=np.uint8)
    norm = ((0.5, 0.5, 0.5), (0.25, 0.5, 1.0))
    seq = to_time_major(x, "static", 3, norm=norm)
    assert seq.shape == (3, 2, 3, 4, 4)
    assert seq[0, 0, :, 0, 0].tolist() == [2.0, 1.0, 0.5]
