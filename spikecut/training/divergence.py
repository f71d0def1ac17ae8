"""Whether a finished run diverged: trained, yet no better than guessing.

A learning rate far too high can leave every loss finite (so nothing stops the run)
and a model that answers at chance; its cutoff curves and intervals then look like
results. Two signs mark such a run, each with a documented bound:

- its validation accuracy never rose above chance: at best within three binomial
  standard errors of 1/C over at least three epochs (fewer epochs cannot tell a slow
  start from a failure);
- its task loss ended above ten times that of guessing, 10 ln C (a network's loss
  starts near ln C and falls).
"""

from __future__ import annotations

import math

import pandas as pd

CHANCE_EPOCHS = 3  # the fewest epochs over which "never above chance" is judged
LOSS_FACTOR = 10.0  # times the loss of guessing, ln C


def divergence(metrics: pd.DataFrame, num_classes: int, n_val: int) -> str | None:
    """Why the run of ``metrics`` (per epoch: ``val_accuracy``, ``task_loss``) counts
    as diverged, in words, or None."""
    chance = 1.0 / num_classes
    best = float(metrics["val_accuracy"].max())
    bound = chance + 3 * math.sqrt(chance * (1 - chance) / max(n_val, 1))
    if len(metrics) >= CHANCE_EPOCHS and best <= bound:
        return (
            f"its validation accuracy never rose above chance: at best {best:.1%} over "
            f"{len(metrics)} epochs, where guessing among {num_classes} classes gives "
            f"{chance:.1%} (and {bound:.1%} is within three standard errors of it)"
        )
    last = float(metrics["task_loss"].iloc[-1])
    limit = LOSS_FACTOR * math.log(num_classes)
    if not last <= limit:
        return (
            f"its training loss ended at {last:.4g}, above {limit:.3g}, ten times the loss "
            "of guessing"
        )
    return None
