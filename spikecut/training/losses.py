"""Task losses over per-step outputs ``[T, B, C]`` (docs/method.md §6)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("mean", "tet")


def mean_output_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the time-averaged output."""
    return F.cross_entropy(logits.mean(dim=0), labels)


def tet_loss(
    logits: torch.Tensor, labels: torch.Tensor, lam: float = 1e-3, phi: float = 1.0
) -> torch.Tensor:
    """TET: (1 - lam) mean_t CE(o(t), y) + lam MSE(o, phi)."""
    n_steps, batch, n_classes = logits.shape
    ce = F.cross_entropy(logits.reshape(-1, n_classes), labels.repeat(n_steps))
    return (1 - lam) * ce + lam * F.mse_loss(logits, torch.full_like(logits, phi))


def task_loss(
    name: str, logits: torch.Tensor, labels: torch.Tensor, tet_lambda: float = 1e-3
) -> torch.Tensor:
    if name == "mean":
        return mean_output_loss(logits, labels)
    if name == "tet":
        return tet_loss(logits, labels, lam=tet_lambda)
    raise ValueError(f"unknown loss {name!r}; choose one of {LOSSES}")
