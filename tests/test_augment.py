"""Batched augmentation: each operation against its definition, brute force or
torchvision's single-image functions, and the draws against the generator."""

import math

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from spikecut.data import autoaugment as aa
from spikecut.data.augment import crop, cutout, hflip, make_augment
from spikecut.settings import AugmentConfig


def noise(n=8, c=3, size=32, seed=0):
    return torch.randint(0, 256, (n, c, size, size), dtype=torch.uint8, generator=gen(seed))


def smooth(n=8, size=32, seed=0):
    """Images with large flat and graded regions, where rounding is most often tied."""
    coarse = torch.randint(0, 256, (n, 3, 4, 4), generator=gen(seed)).float()
    return torch.nn.functional.interpolate(coarse, size=size, mode="bilinear").to(torch.uint8)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_nothing_asked_gives_none():
    assert make_augment(AugmentConfig()) is None
    assert make_augment(AugmentConfig(crop_padding=0, flip=False, cutout=0)) is None


def test_crop_takes_the_window_at_each_offset():
    x = noise()
    offsets = torch.randint(0, 9, (8, 2), generator=gen(1))
    out = crop(x, 4, offsets)
    for image, got, (dy, dx) in zip(x, out, offsets.tolist()):
        padded = torch.zeros(3, 40, 40, dtype=torch.uint8)
        padded[:, 4:36, 4:36] = image
        assert torch.equal(got, padded[:, dy : dy + 32, dx : dx + 32])


def test_flip_is_an_exact_mirror():
    x = noise()
    which = torch.tensor([True, False] * 4)
    out = hflip(x, which)
    for image, got, flipped in zip(x, out, which):
        want = image[:, :, torch.arange(31, -1, -1)] if flipped else image
        assert torch.equal(got, want)


@pytest.mark.parametrize("size", [1, 8, 9])
def test_cutout_zeroes_the_square_around_each_centre(size):
    x = torch.full((6, 2, 12, 12), 7, dtype=torch.uint8)
    centres = torch.tensor([[0, 0], [11, 11], [5, 6], [0, 11], [6, 0], [3, 3]])
    out = cutout(x, size, centres)
    for got, (cy, cx) in zip(out, centres.tolist()):
        want = torch.full((2, 12, 12), 7, dtype=torch.uint8)
        for r in range(12):
            for c in range(12):
                if (
                    cy - size // 2 <= r < cy + (size + 1) // 2
                    and cx - size // 2 <= c < cx + (size + 1) // 2
                ):
                    want[:, r, c] = 0
        assert torch.equal(got, want)


def test_the_pipeline_draws_its_offsets_within_the_padding_and_only_from_the_generator():
    x = noise(32)
    augment = make_augment(AugmentConfig(crop_padding=4, flip=True))
    torch.manual_seed(0)
    first = augment(x, gen(5))
    torch.manual_seed(1)  # the global RNG plays no part
    assert torch.equal(first, augment(x, gen(5)))
    assert not torch.equal(first, augment(x, gen(6)))
    mirrored = 0
    for image, got in zip(x, first):
        padded = torch.zeros(3, 40, 40, dtype=torch.uint8)
        padded[:, 4:36, 4:36] = image
        windows = {
            (dy, dx, flip)
            for dy in range(9)
            for dx in range(9)
            for flip in (False, True)
            if torch.equal(
                got,
                padded[:, dy : dy + 32, dx : dx + 32].flip(-1)
                if flip
                else padded[:, dy : dy + 32, dx : dx + 32],
            )
        }
        assert len(windows) == 1, "each output is one window of the padded input"
        mirrored += windows.pop()[2]
    assert 0 < mirrored < 32


def test_every_option_together_keeps_type_and_shape():
    cfg = AugmentConfig(crop_padding=4, flip=True, autoaugment=True, cutout=16)
    out = make_augment(cfg)(noise(), gen(0))
    assert out.shape == (8, 3, 32, 32) and out.dtype == torch.uint8
    with pytest.raises(ValueError, match="uint8 frame batches"):
        make_augment(cfg)(torch.rand(2, 3, 32, 32), gen(0))


# -- AutoAugment ----------------------------------------------------------------------

NEAREST = InterpolationMode.NEAREST


def torchvision_op(name, image, m):
    """torchvision's own single-image operation, as its AutoAugment calls it."""
    geometry = dict(scale=1.0, interpolation=NEAREST)
    calls = {
        "shear_y": lambda: TF.affine(
            image,
            angle=0.0,
            translate=[0, 0],
            shear=[0.0, math.degrees(math.atan(m))],
            center=[0, 0],
            **geometry,
        ),
        "translate_x": lambda: TF.affine(
            image, angle=0.0, translate=[int(m), 0], shear=[0.0, 0.0], **geometry
        ),
        "translate_y": lambda: TF.affine(
            image, angle=0.0, translate=[0, int(m)], shear=[0.0, 0.0], **geometry
        ),
        "rotate": lambda: TF.rotate(image, angle=m, interpolation=NEAREST),
        "brightness": lambda: TF.adjust_brightness(image, 1.0 + m),
        "color": lambda: TF.adjust_saturation(image, 1.0 + m),
        "contrast": lambda: TF.adjust_contrast(image, 1.0 + m),
        "sharpness": lambda: TF.adjust_sharpness(image, 1.0 + m),
        "posterize": lambda: TF.posterize(image, int(m)),
        "solarize": lambda: TF.solarize(image, m),
        "autocontrast": lambda: TF.autocontrast(image),
        "equalize": lambda: TF.equalize(image),
        "invert": lambda: TF.invert(image),
    }
    return calls[name]()


def exact_source(name, m, size=32):
    """Where each output pixel of a geometric operation reads, in float64: ``[2, H, W]``
    fractional (column, row) source indices."""
    rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    if name == "shear_y":
        return cols.astype(float), rows + m * (cols + 0.5)
    if name == "rotate":
        r, c = math.radians(m), (size - 1) / 2
        x, y = cols - c, rows - c
        return math.cos(r) * x - math.sin(r) * y + c, math.sin(r) * x + math.cos(r) * y + c
    return cols - int(m) * (name == "translate_x"), rows - int(m) * (name == "translate_y")


GEOMETRY = ("shear_y", "translate_x", "translate_y", "rotate")
BLENDS = ("color", "sharpness")  # float blends: rounding may differ by one level


@pytest.mark.parametrize("name", sorted(aa.OPERATIONS))
@pytest.mark.parametrize("images", [noise, smooth])
def test_each_operation_matches_torchvision_image_by_image(name, images):
    x = images()
    signs = (False, True) if aa.OPERATIONS[name][2] else (False,)
    for bin_ in range(aa.BINS):
        for negative in signs:
            # one magnitude per image: the batch mixes them
            ms = [aa.magnitude(name, (bin_ + i) % aa.BINS, negative, 32, 32) for i in range(len(x))]
            got = aa.OPERATIONS[name][0](x, torch.tensor(ms, dtype=torch.float64))
            for image, out, m in zip(x, got, ms):
                want = torchvision_op(name, image, m)
                diff = (out.int() - want.int()).abs()
                if name in GEOMETRY:
                    # nearest neighbour: only a source exactly halfway between two
                    # pixels may round either way
                    sx, sy = exact_source(name, m)
                    tied = (np.abs(sx % 1 - 0.5) < 1e-6) | (np.abs(sy % 1 - 0.5) < 1e-6)
                    assert not (diff.sum(0).numpy() > 0)[~tied].any(), (name, m)
                elif name in BLENDS:
                    assert diff.max() <= 1, (name, m)
                else:
                    assert torch.equal(out, want), (name, m)


def test_equalize_is_pils():
    x = smooth(4)
    out = aa.equalize(x, None)
    for image, got in zip(x, out):
        for channel, result in zip(image, got):
            pil = ImageOps.equalize(Image.fromarray(channel.numpy()))
            assert np.array_equal(np.asarray(pil), result.numpy())
    flat = torch.full((1, 3, 8, 8), 9, dtype=torch.uint8)
    assert torch.equal(aa.equalize(flat, None), flat)  # nothing to spread


def test_blends_are_exact_where_nothing_changes():
    # a flat image is its own smoothing, and a one-channel image its own grey (an RGB
    # grey is not: the luma weights add up to 0.9999)
    for name, channels in (("sharpness", 3), ("color", 1), ("contrast", 1)):
        flat = torch.full((2, channels, 16, 16), 77, dtype=torch.uint8)
        for m in (-0.9, 0.5, 0.9):
            out = aa.OPERATIONS[name][0](flat, torch.full((2,), m, dtype=torch.float64))
            assert torch.equal(out, flat), (name, m)


def test_the_policy_and_magnitudes_are_torchvisions():
    from torchvision.transforms.v2 import AutoAugment, AutoAugmentPolicy

    theirs = AutoAugment(AutoAugmentPolicy.CIFAR10)
    names = {name.replace("_", ""): name for name in aa.OPERATIONS}
    assert [
        tuple((names[op.lower()], p, bin_) for op, p, bin_ in pair) for pair in theirs._policies
    ] == list(aa.POLICY)
    for op, (bins, signed) in theirs._AUGMENTATION_SPACE.items():
        name = names.get(op.lower())
        if name is None:
            continue  # an operation the CIFAR-10 policy does not use
        assert aa.OPERATIONS[name][2] == signed, name
        want = bins(aa.BINS, 32, 32)
        if want is None:
            assert aa.OPERATIONS[name][1] is None, name
            continue
        scale = 255.0 if name == "solarize" else 1.0  # torchvision's is a fraction of 255
        np.testing.assert_allclose(
            aa.OPERATIONS[name][1](32, 32), scale * want.double().numpy(), rtol=1e-6, err_msg=name
        )


def test_each_image_draws_its_subpolicy_and_applies_each_operation_at_its_probability():
    """The plan against the rule, image by image, from the same draws replayed: image i
    takes sub-policy k, and its operation at stage s applies when its uniform number
    is at most the operation's probability, with a negative magnitude when the sign's
    number is at most one half."""
    n = 4000
    drawn = gen(3)
    plan = aa.draw(n, 32, 32, drawn)
    replay = gen(3)
    policy = torch.randint(len(aa.POLICY), (n,), generator=replay).tolist()
    applies = torch.rand((n, 2), generator=replay).tolist()
    negative = torch.rand((n, 2), generator=replay).tolist()
    for stage in range(2):
        want: dict = {}
        for i in range(n):
            name, probability, bin_ = aa.POLICY[policy[i]][stage]
            if applies[i][stage] <= probability:
                m = aa.magnitude(name, bin_, negative[i][stage] <= 0.5, 32, 32)
                want.setdefault(name, ([], []))[0].append(i)
                want[name][1].append(m)
        assert plan[stage] == want
    applied = sum(len(members) for stage in plan for members, _ in stage.values())
    expected = n * np.mean([p for pair in aa.POLICY for _, p, _ in pair]) * 2
    assert abs(applied - expected) < 0.05 * expected
    # and nothing else was drawn
    assert torch.equal(drawn.get_state(), replay.get_state())


def test_autoaugment_is_reproducible_and_changes_images():
    x = smooth(64)
    a, b = aa.autoaugment(x, gen(0)), aa.autoaugment(x, gen(0))
    assert torch.equal(a, b)
    changed = (a != x).flatten(1).any(1).float().mean()
    assert 0.5 < changed < 1.0  # some sub-policies often leave an image as it is


@pytest.mark.gpu
def test_the_same_seed_gives_the_same_batch_on_cpu_and_gpu():
    cfg = AugmentConfig(crop_padding=4, flip=True, autoaugment=True, cutout=16)
    x = smooth(256)
    on_cpu = make_augment(cfg)(x, gen(9))
    on_gpu = make_augment(cfg)(x.cuda(), gen(9))
    assert torch.equal(on_cpu, on_gpu.cpu())
