import pytest
import torch

from spikecut.data.augment import cutout, make_augment
from spikecut.settings import AugmentConfig


def batch(n=8):
    torch.manual_seed(0)
    return torch.randint(1, 256, (n, 3, 32, 32), dtype=torch.uint8)


def test_nothing_asked_gives_none():
    assert make_augment(AugmentConfig(), (32, 32)) is None
    assert make_augment(AugmentConfig(crop_padding=0, flip=False, cutout=0), (32, 32)) is None


def test_crop_and_flip_keep_shape_and_content():
    x = batch()
    aug = make_augment(AugmentConfig(crop_padding=4, flip=True), (32, 32))
    torch.manual_seed(1)
    out = aug(x)
    assert out.shape == x.shape and out.dtype == torch.uint8
    torch.manual_seed(1)
    assert torch.equal(out, aug(x))  # the seed fixes every draw
    # every output image is its input shifted by at most 4 pixels, maybe mirrored:
    # the padded border is zero, so the non-zero count can only shrink
    assert ((out > 0).sum(dim=(1, 2, 3)) <= (x > 0).sum(dim=(1, 2, 3))).all()
    assert not torch.equal(out, x)


def test_flip_alone_mirrors_some_images():
    x = batch(32)
    torch.manual_seed(0)
    out = make_augment(AugmentConfig(flip=True), (32, 32))(x)
    flipped = [torch.equal(o, i.flip(-1)) for o, i in zip(out, x)]
    kept = [torch.equal(o, i) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and 0 < sum(flipped) < 32


def test_cutout_zeroes_a_square():
    image = torch.full((3, 32, 32), 7, dtype=torch.uint8)
    torch.manual_seed(3)
    out = cutout(image, 8)
    zeros = (out[0] == 0).nonzero()
    rows, cols = zeros[:, 0].unique(), zeros[:, 1].unique()
    assert len(rows) <= 8 and len(cols) <= 8 and len(zeros) == len(rows) * len(cols)
    assert (out[:, rows[0], cols[0]] == 0).all() and image.min() == 7


def test_autoaugment_runs_on_uint8():
    out = make_augment(AugmentConfig(autoaugment=True, cutout=16), (32, 32))(batch())
    assert out.shape == (8, 3, 32, 32) and out.dtype == torch.uint8


def test_refuses_float_or_event_batches():
    aug = make_augment(AugmentConfig(flip=True), (32, 32))
    with pytest.raises(ValueError, match="uint8 frame batches"):
        aug(torch.rand(2, 3, 32, 32))
