"""One training loop for both tracks: BPTT of an SNN over T steps, and a QCFS ANN (one
step) for conversion. Each brings its input encoding and its form of RCS."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

import pandas as pd
import torch
from spikingjelly.activation_based import functional
from torch import nn
from tqdm.auto import tqdm

from spikecut.data import PreparedData
from spikecut.inference.run import Encoder, per_step_logits
from spikecut.regularisers import Regulariser
from spikecut.seeding import restore_rng_state, rng_state
from spikecut.settings import TrainConfig
from spikecut.training.checkpoint import Checkpointer
from spikecut.training.losses import task_loss

log = logging.getLogger(__name__)


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose 'adam' or 'sgd'")


def train_model(
    model: nn.Module,
    data: PreparedData,
    cfg: TrainConfig,
    alpha: float,
    encode: Encoder,
    regulariser: Regulariser,
    generator: torch.Generator,
    device: torch.device,
    progress: bool = True,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    checkpoint: Checkpointer | None = None,
) -> tuple[nn.Module, pd.DataFrame]:
    """Minimise task loss + ``alpha`` * RCS; return the state with the best validation
    accuracy at the last step, and per-epoch metrics. The test split is never touched.
    With ``checkpoint``, the run saves itself after every epoch and resumes from there."""
    model.to(device)
    optimizer = make_optimizer(model, cfg)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    x_train = torch.as_tensor(data.x["train"])
    y_train = torch.as_tensor(data.y["train"])
    n_batches = -(-len(y_train) // cfg.batch_size)
    best_acc, best_epoch, best_state, rows = -1.0, 0, None, []
    first = 1
    saved = checkpoint.load() if checkpoint else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        restore_rng_state(saved["rng"], generator)
        best_acc, best_epoch, best_state, rows = (
            saved[k] for k in ("best_acc", "best_epoch", "best_state", "rows")
        )
        first = saved["epoch"] + 1
        log.info(
            "resuming from %s after epoch %d of %d", checkpoint.path, saved["epoch"], cfg.epochs
        )

    epochs = tqdm(
        range(first, cfg.epochs + 1),
        desc="epochs",
        unit="epoch",
        initial=first - 1,
        total=cfg.epochs,
        disable=not progress,
    )
    for epoch in epochs:
        model.train()
        order = torch.randperm(len(y_train), generator=generator)
        sums = {"loss": 0.0, "task_loss": 0.0, "rcs": 0.0, "correct": 0}
        for batch_idx in range(n_batches):
            idx = order[batch_idx * cfg.batch_size : (batch_idx + 1) * cfg.batch_size]
            labels = y_train[idx].to(device)
            inputs = x_train[idx] if augment is None else augment(x_train[idx])
            with regulariser:
                logits = model(encode(inputs).to(device))
            task = task_loss(cfg.loss, logits, labels, cfg.tet_lambda)
            with torch.set_grad_enabled(alpha > 0):
                rcs = regulariser.value(logits, labels)
            loss = task + alpha * rcs if alpha > 0 else task
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"loss became {loss.item()} at epoch {epoch}, batch {batch_idx + 1}/"
                    f"{n_batches} (task {task.item():.4g}, RCS {rcs.item():.4g}); lower the "
                    "learning rate or alpha"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            functional.reset_net(model)
            n = len(idx)
            sums["loss"] += loss.item() * n
            sums["task_loss"] += task.item() * n
            sums["rcs"] += rcs.item() * n
            sums["correct"] += (logits.sum(0).argmax(-1) == labels).sum().item()
        lr = scheduler.get_last_lr()[0]
        scheduler.step()

        model.eval()
        val_logits = per_step_logits(model, data.x["val"], encode, cfg.batch_size * 4, device)
        val_acc = float((val_logits.sum(1).argmax(-1).numpy() == data.y["val"]).mean())
        n_train = len(y_train)
        row = {
            "epoch": epoch,
            "lr": lr,
            "loss": sums["loss"] / n_train,
            "task_loss": sums["task_loss"] / n_train,
            "rcs": sums["rcs"] / n_train,
            "train_accuracy": sums["correct"] / n_train,
            "val_accuracy": val_acc,
        }
        rows.append(row)
        epochs.set_postfix(loss=f"{row['loss']:.3f}", val=f"{val_acc:.3f}")
        log.info("epoch %d: %s", epoch, row)
        # Later epochs win ties: the cosine schedule has settled them more.
        if val_acc >= best_acc:
            best_acc, best_epoch = val_acc, epoch
            best_state = copy.deepcopy(model.state_dict())
        if checkpoint:
            checkpoint.save(
                {
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "rng": rng_state(generator),
                    "best_acc": best_acc,
                    "best_epoch": best_epoch,
                    "best_state": best_state,
                    "rows": rows,
                }
            )

    model.load_state_dict(best_state)
    metrics = pd.DataFrame(rows)
    metrics["selected"] = metrics["epoch"] == best_epoch
    return model, metrics
