"""Task losses over per-step outputs ``[T, B, C]`` (docs/method.md §6), by the name
``training.loss`` gives them."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from spikecut.settings import TrainConfig


def mean_output_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the time-averaged output."""
    return F.cross_entropy(logits.mean(dim=0), labels)


def tet_loss(
    logits: torch.Tensor, labels: torch.Tensor, lam: float, phi: float = 1.0
) -> torch.Tensor:
    """TET: (1 - lam) mean_t CE(o(t), y) + lam MSE(o, phi)."""
    n_steps, batch, n_classes = logits.shape
    ce = F.cross_entropy(logits.reshape(-1, n_classes), labels.repeat(n_steps))
    return (1 - lam) * ce + lam * F.mse_loss(logits, torch.full_like(logits, phi))


# training.loss's choices: each from the outputs, the labels and the training settings
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor, TrainConfig], torch.Tensor]] = {
    "mean": lambda logits, labels, cfg: mean_output_loss(logits, labels),
    "tet": lambda logits, labels, cfg: tet_loss(logits, labels, cfg.tet_lambda),
}


def task_loss(logits: torch.Tensor, labels: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    return LOSSES[cfg.loss](logits, labels, cfg)
