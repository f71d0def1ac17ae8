"""AutoAugment with the CIFAR-10 policy (Cubuk et al., CVPR 2019), batched.

Each image draws one of the policy's 25 sub-policies; each of its two operations is
applied with its probability, at its magnitude bin (of 10), with a random sign where
the operation has one. The operations follow the definitions torchvision's AutoAugment
uses (nearest-neighbour geometry with zero fill; PIL's histogram equalisation), and
the tests check each against torchvision on single images.

The draws happen on the CPU, so grouping the images by operation needs no device
synchronisation; each operation then runs once per batch on the images that drew it,
each image with its own magnitude.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

# (operation, probability, magnitude bin) pairs, as published
POLICY = (
    (("invert", 0.1, None), ("contrast", 0.2, 6)),
    (("rotate", 0.7, 2), ("translate_x", 0.3, 9)),
    (("sharpness", 0.8, 1), ("sharpness", 0.9, 3)),
    (("shear_y", 0.5, 8), ("translate_y", 0.7, 9)),
    (("autocontrast", 0.5, None), ("equalize", 0.9, None)),
    (("shear_y", 0.2, 7), ("posterize", 0.3, 7)),
    (("color", 0.4, 3), ("brightness", 0.6, 7)),
    (("sharpness", 0.3, 9), ("brightness", 0.7, 9)),
    (("equalize", 0.6, None), ("equalize", 0.5, None)),
    (("contrast", 0.6, 7), ("sharpness", 0.6, 5)),
    (("color", 0.7, 7), ("translate_x", 0.5, 8)),
    (("equalize", 0.3, None), ("autocontrast", 0.4, None)),
    (("translate_y", 0.4, 3), ("sharpness", 0.2, 6)),
    (("brightness", 0.9, 6), ("color", 0.2, 8)),
    (("solarize", 0.5, 2), ("invert", 0.0, None)),
    (("equalize", 0.2, None), ("autocontrast", 0.6, None)),
    (("equalize", 0.2, None), ("equalize", 0.6, None)),
    (("color", 0.9, 9), ("equalize", 0.6, None)),
    (("autocontrast", 0.8, None), ("solarize", 0.2, 8)),
    (("brightness", 0.1, 3), ("color", 0.7, 0)),
    (("solarize", 0.4, 5), ("autocontrast", 0.9, None)),
    (("translate_y", 0.9, 9), ("translate_y", 0.7, 9)),
    (("autocontrast", 0.9, None), ("solarize", 0.8, 3)),
    (("equalize", 0.8, None), ("invert", 0.1, None)),
    (("translate_y", 0.7, 9), ("autocontrast", 0.9, None)),
)
BINS = 10


# -- pixel operations: uint8 [n, C, H, W], and a CPU tensor of one value per image ----


def _per_image(values: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    return values.to(image.device, torch.float32, non_blocking=True).view(-1, 1, 1, 1)


def _blend(image: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """factor * image + (1 - factor) * other, clamped and truncated to uint8, computed
    as image + (1 - factor) * (other - image): exactly the image where the other is
    equal to it. One IEEE operation at a time, so that no device fuses them
    differently."""
    x = image.float()
    out = x + (other - x) * _per_image(1.0 - factor, image)
    return out.clamp(0, 255).to(torch.uint8)


def _grey(image: torch.Tensor) -> torch.Tensor:
    """Luma (ITU-R 601-2, as PIL), floored, ``[n, 1, H, W]`` float."""
    if image.shape[1] == 1:
        return image.float()
    x = image.float()
    return (x[:, 0:1] * 0.2989 + x[:, 1:2] * 0.587 + x[:, 2:3] * 0.114).floor()


def invert(image: torch.Tensor, _=None) -> torch.Tensor:
    return 255 - image


def brightness(image: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Every value scaled by 1 + m (a blend with black)."""
    return (image.float() * _per_image(1.0 + m, image)).clamp(0, 255).to(torch.uint8)


def color(image: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Saturation: a blend with the image's own grey, by the factor 1 + m."""
    return _blend(image, _grey(image), 1.0 + m)


def contrast(image: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """A blend with the image's mean grey, by the factor 1 + m. The floored grey values
    are integers, so their float64 sum is exact in any order."""
    grey = _grey(image)
    mean = grey.double().sum(dim=(1, 2, 3), keepdim=True) / grey[0].numel()
    return _blend(image, mean.float(), 1.0 + m)


def sharpness(image: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """A blend, by the factor 1 + m, with the image smoothed by the 3x3 kernel of ones
    around a 5, over 13, its border left as it is. The smoothing is exact: round(s / 13)
    of the integer sum s, which is never halfway since 13 is odd."""
    h, w = image.shape[-2:]
    if h <= 2 or w <= 2:
        return image
    x = image.to(torch.int32)
    s = 4 * x[..., 1:-1, 1:-1]
    for dy in range(3):
        for dx in range(3):
            s = s + x[..., dy : dy + h - 2, dx : dx + w - 2]
    smooth = image.clone()
    smooth[..., 1:-1, 1:-1] = ((2 * s + 13) // 26).to(torch.uint8)
    return _blend(image, smooth.float(), 1.0 + m)


def posterize(image: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """Keep the ``bits`` most significant bits of every value."""
    mask = (255 << (8 - bits.to(torch.int32))) & 255
    return image & mask.to(image.device, torch.uint8, non_blocking=True).view(-1, 1, 1, 1)


def solarize(image: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """Invert every value at or above ``threshold``."""
    return torch.where(image.float() >= _per_image(threshold, image), 255 - image, image)


def autocontrast(image: torch.Tensor, _=None) -> torch.Tensor:
    """Stretch each channel's range to [0, 255]; a flat channel is left as it is."""
    lo = image.amin(dim=(-2, -1), keepdim=True).float()
    hi = image.amax(dim=(-2, -1), keepdim=True).float()
    flat = hi == lo
    lo = torch.where(flat, 0.0, lo)
    scale = torch.where(flat, 1.0, (hi - lo) * (1.0 / 255))
    return ((image.float() - lo) / scale).clamp(0, 255).to(torch.uint8)


def equalize(image: torch.Tensor, _=None) -> torch.Tensor:
    """Histogram equalisation of each channel, PIL's way: with ``step`` the number of
    pixels below the channel's brightest value over 255, rounded down, the value v maps
    to (#pixels below v + step // 2) // step; a channel with step 0 is left as it is.
    Integer arithmetic throughout."""
    n, c = image.shape[:2]
    flat = image.reshape(n * c, -1).long()
    hist = torch.zeros(n * c, 256, dtype=torch.long, device=image.device)
    hist.scatter_add_(1, flat, torch.ones_like(flat))
    top = flat.amax(dim=1, keepdim=True)
    step = (flat.shape[1] - hist.gather(1, top)) // 255
    below = hist.cumsum(dim=1) - hist
    lut = ((below + step // 2) // step.clamp(min=1)).clamp(max=255)
    out = torch.where(step > 0, lut.gather(1, flat), flat)
    return out.to(torch.uint8).reshape(image.shape)


# -- geometry: nearest neighbour, zero fill -----------------------------------------


def warp(image: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """Each output pixel takes the input pixel nearest to where ``inverse`` ``[n, 2, 3]``
    maps it, or 0 outside the image. Coordinates are pixel centres relative to the
    image's centre, as in torchvision's affine transforms; halves round to even, as
    ``grid_sample``'s nearest mode does."""
    n, c, h, w = image.shape
    device = image.device
    m = inverse.to(device, torch.float32, non_blocking=True)
    xs = (torch.arange(w, device=device, dtype=torch.float32) - (w - 1) / 2).view(1, 1, w)
    ys = (torch.arange(h, device=device, dtype=torch.float32) - (h - 1) / 2).view(1, h, 1)

    def source(row: int, centre: float) -> torch.Tensor:
        a, b, t = (m[:, row, k].view(n, 1, 1) for k in range(3))
        return torch.round(xs * a + ys * b + (t + centre))

    ix, iy = source(0, (w - 1) / 2), source(1, (h - 1) / 2)
    inside = (ix >= 0) & (ix <= w - 1) & (iy >= 0) & (iy <= h - 1)
    index = (iy.clamp(0, h - 1) * w + ix.clamp(0, w - 1)).long().view(n, 1, h * w)
    picked = image.reshape(n, c, h * w).gather(2, index.expand(n, c, h * w))
    return torch.where(inside.view(n, 1, h, w), picked.view(n, c, h, w), 0)


Rows = tuple[tuple[float, float, float], tuple[float, float, float]]


def _affine(inverse: Callable[[float, int, int], Rows]):
    """A batched operation from the inverse map of one magnitude at image size (H, W)."""

    def operation(image: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        maps = torch.tensor([inverse(v, h, w) for v in m.tolist()], dtype=torch.float64)
        return warp(image, maps)

    return operation


def _rotation(angle: float, h: int, w: int) -> Rows:
    r = math.radians(angle)
    return ((math.cos(r), -math.sin(r), 0.0), (math.sin(r), math.cos(r), 0.0))


# Inverse maps, output -> input. The shear is about the top-left corner, whose pixel
# centre lies w/2 from the image's centre; a positive angle turns anticlockwise;
# translations are whole pixels.
shear_y = _affine(lambda m, h, w: ((1.0, 0.0, 0.0), (m, 1.0, m * w / 2)))
translate_x = _affine(lambda m, h, w: ((1.0, 0.0, -float(int(m))), (0.0, 1.0, 0.0)))
translate_y = _affine(lambda m, h, w: ((1.0, 0.0, 0.0), (0.0, 1.0, -float(int(m)))))
rotate = _affine(_rotation)


def _linear(top: float) -> Callable[[int, int], np.ndarray]:
    return lambda h, w: np.linspace(0.0, top, BINS)


# The operations the policy uses: name -> (operation, its magnitude at each bin for an
# H x W image, or None; whether a random sign flips it)
OPERATIONS: dict[str, tuple[Callable, Callable[[int, int], np.ndarray] | None, bool]] = {
    "shear_y": (shear_y, _linear(0.3), True),
    "translate_x": (translate_x, lambda h, w: np.linspace(0.0, 150.0 / 331.0 * w, BINS), True),
    "translate_y": (translate_y, lambda h, w: np.linspace(0.0, 150.0 / 331.0 * h, BINS), True),
    "rotate": (rotate, _linear(30.0), True),
    "brightness": (brightness, _linear(0.9), True),
    "color": (color, _linear(0.9), True),
    "contrast": (contrast, _linear(0.9), True),
    "sharpness": (sharpness, _linear(0.9), True),
    "posterize": (posterize, lambda h, w: 8 - np.round(np.arange(BINS) / ((BINS - 1) / 4)), False),
    "solarize": (solarize, lambda h, w: 255.0 * np.linspace(1.0, 0.0, BINS), False),
    "autocontrast": (autocontrast, None, False),
    "equalize": (equalize, None, False),
    "invert": (invert, None, False),
}


def magnitude(name: str, bin_: int | None, negative: bool, h: int, w: int) -> float:
    """The parameter of ``name`` at magnitude ``bin_`` on an H x W image."""
    _, bins, signed = OPERATIONS[name]
    if bins is None:
        return 0.0
    value = float(bins(h, w)[bin_])
    return -value if signed and negative else value


Plan = list[dict[str, tuple[list[int], list[float]]]]


def draw(n: int, h: int, w: int, generator: torch.Generator) -> Plan:
    """What happens to each of ``n`` images of H x W, drawn from ``generator``: per image
    a sub-policy, then for each of its two operations a uniform number that decides
    whether it applies and one that decides its sign. Per stage, each operation's
    images and their magnitudes."""
    policy = torch.randint(len(POLICY), (n,), generator=generator).tolist()
    applies = torch.rand((n, 2), generator=generator).tolist()
    negative = (torch.rand((n, 2), generator=generator) <= 0.5).tolist()
    plan: Plan = [{}, {}]
    for i in range(n):
        for stage, (name, probability, bin_) in enumerate(POLICY[policy[i]]):
            if applies[i][stage] <= probability:
                members, values = plan[stage].setdefault(name, ([], []))
                members.append(i)
                values.append(magnitude(name, bin_, negative[i][stage], h, w))
    return plan


def autoaugment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Every image of the uint8 ``batch`` through a sub-policy drawn from ``generator``
    (:func:`draw`); each operation runs once, on the images that drew it."""
    n, _, h, w = batch.shape
    out = batch.clone()
    for stage in draw(n, h, w, generator):
        for name, (members, values) in stage.items():
            index = torch.tensor(members).to(batch.device, non_blocking=True)
            out[index] = OPERATIONS[name][0](out[index], torch.tensor(values, dtype=torch.float64))
    return out
