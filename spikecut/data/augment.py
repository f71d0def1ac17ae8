"""Training-time augmentation of frame data: random crop with padding, horizontal flip,
AutoAugment and Cutout, each drawn independently per sample from torch's RNG (so the
run's seed fixes them). Applied to uint8 images before normalisation."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torchvision.transforms import v2

from spikecut.settings import AugmentConfig

Augment = Callable[[torch.Tensor], torch.Tensor]


def cutout(image: torch.Tensor, size: int) -> torch.Tensor:
    """Zero a ``size`` x ``size`` square centred on a random pixel (clipped at the
    border), as in DeVries & Taylor (2017)."""
    _, h, w = image.shape
    cy = int(torch.randint(h, ()))
    cx = int(torch.randint(w, ()))
    out = image.clone()
    out[
        :,
        max(0, cy - size // 2) : cy + (size + 1) // 2,
        max(0, cx - size // 2) : cx + (size + 1) // 2,
    ] = 0
    return out


def make_augment(cfg: AugmentConfig, image_size: tuple[int, int]) -> Augment | None:
    """The augmentation ``cfg`` asks for, or None when it asks for none."""
    steps: list = []
    if cfg.crop_padding > 0:
        steps.append(v2.RandomCrop(image_size, padding=cfg.crop_padding))
    if cfg.flip:
        steps.append(v2.RandomHorizontalFlip())
    if cfg.autoaugment:
        steps.append(v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10))
    size = cfg.cutout
    if not steps and size <= 0:
        return None
    pipeline = v2.Compose(steps) if steps else None

    def augment(batch: torch.Tensor) -> torch.Tensor:
        if batch.dtype != torch.uint8 or batch.ndim != 4:
            raise ValueError("augmentation expects uint8 frame batches [B, C, H, W]")
        out = []
        for image in batch:
            if pipeline is not None:
                image = pipeline(image)
            out.append(cutout(image, size) if size > 0 else image)
        return torch.stack(out)

    return augment
