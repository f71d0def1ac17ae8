"""fashion-dvs: Fashion-MNIST images (small fakes in the published format) watched by the
project's event camera, on a few images."""

import dataclasses

import numpy as np
import pytest

from spikecut.data import prepare
from spikecut.data.digits_dvs import DVSParams
from spikecut.data.download import md5sum
from spikecut.data.sets import fashion_dvs, fashion_mnist
from tests.fakes import downloaded_fashion_mnist, write_idx_gz


@pytest.fixture
def raw(tmp_path, monkeypatch):
    """The raw folder fashion-dvs reads, fashion-mnist's, holding a fake of its files as
    fetch_dataset downloads them; no Debian package."""
    return downloaded_fashion_mnist(tmp_path, monkeypatch, n_train=20, n_test=10)


def build(root, seed=0, recordings=1, n_steps=4):
    options = fashion_dvs.FashionDVSOptions(recordings=recordings)
    return fashion_dvs.DATASET.build(n_steps, seed, options, root)


def test_shapes_groups_and_official_split(raw):
    root, _, labels = raw
    samples = build(root, recordings=2)
    assert samples.x.shape == (60, 4, 2, 34, 34) and samples.x.dtype == np.uint8
    assert samples.groups.tolist() == np.repeat(np.arange(30), 2).tolist()
    assert samples.y.tolist() == np.repeat(labels, 2).tolist()
    assert samples.is_test.tolist() == [False] * 40 + [True] * 20
    counts = samples.x.reshape(60, -1).sum(1)
    assert (counts > 500).all()  # the saccades move a bright garment: many events
    # ON and OFF alike: the closed saccade path returns every pixel to its start
    on = samples.x[:, :, 1].reshape(60, -1).sum(1)
    assert abs(on.sum() / counts.sum() - 0.5) < 0.05


def test_events_follow_the_image(raw):
    """The fakes' garment is a bright rectangle whose height grows with the class:
    the rows that see events grow with it."""
    root, _, labels = raw
    frames = build(root).x.sum(axis=(1, 2, 4))  # events per sensor row
    rows = (frames > 0.2 * frames.max(axis=1, keepdims=True)).sum(axis=1)
    assert np.corrcoef(rows, labels)[0, 1] > 0.9


def test_deterministic_per_seed(raw):
    root, _, _ = raw
    first = build(root, seed=3)
    assert np.array_equal(first.x, build(root, seed=3).x)
    assert not np.array_equal(first.x, build(root, seed=4).x)


def test_chunks_draw_their_own_streams(raw, monkeypatch):
    """Synthesised a few images at a time, the same image in two chunks is recorded
    differently, and the frames are still whole."""
    root, images, labels = raw
    write_idx_gz(root / "train-images-idx3-ubyte.gz", np.repeat(images[:1], 20, axis=0))
    archives = tuple(
        dataclasses.replace(a, md5=md5sum(root / a.filename)) for a in fashion_mnist.ARCHIVES
    )
    monkeypatch.setattr(fashion_mnist, "ARCHIVES", archives)
    monkeypatch.setattr(fashion_dvs, "CHUNK", 7)
    samples = build(root, recordings=2)
    assert samples.x.shape == (60, 4, 2, 34, 34) and samples.groups[-1] == 29
    assert (samples.x.reshape(60, -1).sum(1) > 500).all()
    assert not np.array_equal(samples.x[0], samples.x[14])  # image 7 opens chunk 2


def test_prepared_keeps_each_image_in_one_split(raw):
    root, _, _ = raw
    data = prepare(
        "fashion-dvs",
        n_steps=3,
        seed=0,
        test_fraction=None,
        val_fraction=0.5,
        options={"recordings": 2},
        root=root.parent,
    )
    images = {k: set(v // 2) for k, v in data.index.items()}  # recordings are image-major
    assert images["test"] == set(range(20, 30))  # the official test images
    assert len(images["val"]) == 10 and len(images["train"]) == 10
    assert not images["train"] & images["val"]
    assert all(len(v) == 2 * len(images[k]) for k, v in data.index.items())
    assert data.input_shape == (2, 34, 34) and data.norm is None


def test_camera_is_digits_dvs_with_the_image_as_is():
    # the digits' size on the sensor is Fashion-MNIST's, so no image is resampled
    assert DVSParams().digit_size == fashion_mnist.SIDE
    assert fashion_dvs.DATASET.frame_shape(fashion_dvs.FashionDVSOptions()) == (
        2,
        DVSParams().sensor,
        DVSParams().sensor,
    )
