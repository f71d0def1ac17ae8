"""Training-time augmentation of frame data, on whole batches on whichever device holds
them: random crop with zero padding, horizontal flip, AutoAugment (CIFAR-10 policy,
:mod:`spikecut.data.autoaugment`) and Cutout, in that order.

Every random choice is drawn on the CPU from the run's generator, a fixed number of
draws per batch, and only then sent to the batch's device, by copies that do not wait
for it; each operation is exact integer indexing or IEEE arithmetic done one operation
at a time. So the same seed gives the same batches whether the data sit in host or GPU
memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from spikecut.data.autoaugment import autoaugment
from spikecut.settings import AugmentConfig


def crop(batch: torch.Tensor, padding: int, offsets: torch.Tensor) -> torch.Tensor:
    """Each image padded with ``padding`` zeros on every side and cropped back to its
    size at ``offsets`` ``[B, 2]`` (row, column), each in [0, 2 * padding]."""
    b, c, h, w = batch.shape
    padded = torch.nn.functional.pad(batch, (padding,) * 4)
    rows = (offsets[:, 0, None] + torch.arange(h, device=batch.device))[:, :, None]
    cols = (offsets[:, 1, None] + torch.arange(w, device=batch.device))[:, None, :]
    picked = padded[torch.arange(b, device=batch.device)[:, None, None], :, rows, cols]
    return picked.permute(0, 3, 1, 2).contiguous()  # [B, H, W, C] -> [B, C, H, W]


def hflip(batch: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """The images where ``which`` ``[B]`` is true mirrored left to right."""
    return torch.where(which[:, None, None, None], batch.flip(-1), batch)


def cutout(batch: torch.Tensor, size: int, centres: torch.Tensor) -> torch.Tensor:
    """A ``size`` x ``size`` square of zeros in each image, centred on its pixel
    ``centres`` ``[B, 2]`` (row, column) and clipped at the border (DeVries & Taylor,
    2017): rows ``cy - size // 2`` up to, not including, ``cy + (size + 1) // 2``."""
    _, _, h, w = batch.shape
    rows = torch.arange(h, device=batch.device)[None, :, None]
    cols = torch.arange(w, device=batch.device)[None, None, :]
    cy, cx = centres[:, 0, None, None], centres[:, 1, None, None]
    inside = (
        (rows >= cy - size // 2)
        & (rows < cy + (size + 1) // 2)
        & (cols >= cx - size // 2)
        & (cols < cx + (size + 1) // 2)
    )
    return batch.masked_fill(inside[:, None], 0)


@dataclass(frozen=True)
class Augment:
    """The augmentation of :class:`AugmentConfig`, applied to uint8 batches
    ``[B, C, H, W]`` before normalisation."""

    cfg: AugmentConfig

    def __call__(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if batch.dtype != torch.uint8 or batch.ndim != 4:
            raise ValueError("augmentation expects uint8 frame batches [B, C, H, W]")
        n, _, h, w = batch.shape
        device = batch.device
        pad = self.cfg.crop_padding
        if pad > 0:
            offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
            batch = crop(batch, pad, offsets.to(device, non_blocking=True))
        if self.cfg.flip:
            batch = hflip(
                batch, (torch.rand(n, generator=generator) < 0.5).to(device, non_blocking=True)
            )
        if self.cfg.autoaugment:
            batch = autoaugment(batch, generator)
        if self.cfg.cutout > 0:
            centres = torch.stack(
                [
                    torch.randint(h, (n,), generator=generator),
                    torch.randint(w, (n,), generator=generator),
                ],
                dim=1,
            )
            batch = cutout(batch, self.cfg.cutout, centres.to(device, non_blocking=True))
        return batch


def make_augment(cfg: AugmentConfig) -> Augment | None:
    """The augmentation ``cfg`` asks for, or None when it asks for none."""
    return Augment(cfg) if cfg.any else None
