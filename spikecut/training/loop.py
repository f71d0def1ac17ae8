"""One training loop for both tracks: BPTT of an SNN over T steps, and a QCFS ANN (one
step) for conversion. Each brings its input encoding and its form of the run's
regulariser (``training.regulariser``), whose value the metrics name after it.

The step never waits for the device (float16's gradient scaler aside, which checks the
gradients on the host every step): the loss and accuracy sums, and the first batch
whose loss is not finite, stay on the device until the epoch ends, and are read there
in one transfer; a non-finite loss stops the epoch a few batches after it, when the
flag's copy reaches the host."""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass

import pandas as pd
import torch
from spikingjelly.activation_based import functional
from torch import nn
from tqdm.auto import tqdm

from spikecut.data import PreparedData
from spikecut.data.augment import Augment
from spikecut.inference.run import Encoder, per_step_logits
from spikecut.regularisers import REGULARISERS, Regulariser, is_baseline
from spikecut.seeding import restore_rng_state, rng_state
from spikecut.settings import TrainConfig
from spikecut.training.batches import TrainingSplit
from spikecut.training.checkpoint import Checkpointer
from spikecut.training.losses import task_loss
from spikecut.training.precision import Precision

log = logging.getLogger(__name__)


# training.optimizer's choices: each builds its optimiser from the parameters and the
# training settings
OPTIMIZERS: dict[str, Callable[[Iterable, TrainConfig], torch.optim.Optimizer]] = {
    "adam": lambda params, cfg: torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay),
    "sgd": lambda params, cfg: torch.optim.SGD(
        params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    ),
}


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    return OPTIMIZERS[cfg.optimizer](model.parameters(), cfg)


class EpochTotals:
    """Per-epoch sums of the loss terms and correct answers, and the first batch whose
    loss is not finite with its terms, all kept on the device. The sums are float64
    over float32 values, so they equal sums of the same values read one by one."""

    def __init__(self, device: torch.device):
        self.sums = torch.zeros(4, dtype=torch.float64, device=device)
        self.first_bad = torch.zeros(4, dtype=torch.float64, device=device)  # batch, terms
        # on a GPU, the host learns of a bad batch through a copy it never waits for
        self._seen = torch.zeros(1, dtype=torch.float64, pin_memory=device.type == "cuda")
        self._copied: torch.cuda.Event | None = None

    def add(self, batch: int, loss, task, penalty, logits, labels) -> None:
        n = len(labels)
        terms = torch.stack([loss, task, penalty]).detach().double()
        correct = (logits.detach().float().sum(0).argmax(-1) == labels).sum().double()
        self.sums += torch.cat([terms * n, correct.view(1)])
        bad = ~torch.isfinite(terms[0]) & (self.first_bad[0] == 0)
        first = torch.cat([terms.new_full((1,), batch), terms])
        self.first_bad = torch.where(bad, first, self.first_bad)

    def diverged(self) -> bool:
        """Whether a batch's loss is known not to be finite. On a GPU without waiting
        for it: the answer is that of the last copy of the flag that has arrived, a
        few batches late."""
        if self.first_bad.device.type != "cuda":
            return bool(self.first_bad[0])
        if self._copied is not None and not self._copied.query():
            return False
        if self._copied is not None and self._seen[0]:
            return True
        self._seen.copy_(self.first_bad[:1], non_blocking=True)
        self._copied = torch.cuda.Event()
        self._copied.record()
        return False

    def read(self) -> tuple[list[float], list[float]]:
        values = torch.cat([self.sums, self.first_bad]).tolist()  # the one host sync
        return values[:4], values[4:]


@dataclass
class TrainingStep:
    """One optimiser step on a batch as stored: augmentation, encoding, the forward
    pass and the loss under the run's precision, backward pass, optimiser step, and the
    neurons reset for the next batch."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    precision: Precision
    cfg: TrainConfig
    alpha: float
    encode: Encoder
    regulariser: Regulariser
    generator: torch.Generator
    augment: Augment | None = None

    def __call__(
        self, stored: torch.Tensor, labels: torch.Tensor, batch: int, totals: EpochTotals
    ) -> None:
        if self.augment is not None:
            stored = self.augment(stored, self.generator)
        # the baseline skips the regulariser: capturing every layer's membrane costs
        # time, and its value would be read by nothing (its metric is NaN)
        regularised = not is_baseline(self.alpha)
        with self.precision.autocast():
            with self.regulariser if regularised else nullcontext():
                logits = self.model(self.encode(stored))
            task = task_loss(logits, labels, self.cfg)
            if regularised:
                penalty = self.regulariser.value(logits, labels)
                loss = task + self.alpha * penalty
            else:
                penalty, loss = task.new_full((), math.nan), task
        self.optimizer.zero_grad(set_to_none=True)
        self.precision.backward_and_step(loss, self.optimizer)
        functional.reset_net(self.model)
        totals.add(batch, loss, task, penalty, logits, labels)


@dataclass
class TrainingSetup:
    """What a method gives a run to train: the model, its input encoding, its form of
    the regulariser and the augmentation of its data."""

    model: nn.Module
    spec: dict  # the architecture, enough to rebuild the model from a checkpoint
    encode: Encoder
    regulariser: Regulariser
    augment: Augment | None = None


def training_step(
    setup: TrainingSetup,
    cfg: TrainConfig,
    alpha: float,
    generator: torch.Generator,
    device: torch.device,
) -> TrainingStep:
    """The step of a run: the setup's model moved to ``device`` and, where ``cfg``
    asks, compiled (in place, so its state dict keeps its keys), with its optimiser and
    its precision."""
    model = setup.model.to(device)
    if cfg.compile:
        model.compile()
    return TrainingStep(
        model,
        make_optimizer(model, cfg),
        Precision(cfg.precision, device),
        cfg,
        alpha,
        setup.encode,
        setup.regulariser,
        generator,
        setup.augment,
    )


def train_model(
    setup: TrainingSetup,
    data: PreparedData,
    cfg: TrainConfig,
    alpha: float,
    generator: torch.Generator,
    device: torch.device,
    progress: bool = True,
    checkpoint: Checkpointer | None = None,
) -> tuple[nn.Module, pd.DataFrame]:
    """Minimise task loss + ``alpha`` * regulariser for the setup's model (its value is
    the metric named after ``cfg.regulariser``); return the state with
    the best validation accuracy at the last step, and per-epoch metrics. The test split
    is never touched. The setup's augmentation draws from ``generator``, after the
    epoch's order. With ``checkpoint``, the run saves itself after every epoch and
    resumes from there."""
    step = training_step(setup, cfg, alpha, generator, device)
    model, encode = setup.model, setup.encode
    optimizer, precision = step.optimizer, step.precision
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    split = TrainingSplit(data.x["train"], data.y["train"], device)
    n_batches = -(-len(split) // cfg.batch_size)
    regulariser = REGULARISERS[cfg.regulariser]
    best_acc, best_epoch, best_state, rows = -1.0, 0, None, []
    first = 1
    saved = checkpoint.load() if checkpoint else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        precision.load_state_dict(saved["precision"])
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
        order = torch.randperm(len(split), generator=generator)
        totals = EpochTotals(device)
        for batch, (stored, labels) in enumerate(split.batches(order, cfg.batch_size), 1):
            step(stored, labels, batch, totals)
            if totals.diverged():
                break
        sums, bad = totals.read()
        if bad[0]:
            where = f"loss became {bad[1]} at epoch {epoch}, batch {int(bad[0])}/{n_batches}"
            if not is_baseline(alpha):
                raise FloatingPointError(
                    f"{where} (task {bad[2]:.4g}, {regulariser.label} {bad[3]:.4g}); "
                    "lower the learning rate or alpha"
                )
            raise FloatingPointError(f"{where}; lower the learning rate")
        lr = scheduler.get_last_lr()[0]
        scheduler.step()

        model.eval()
        val_logits = per_step_logits(model, data.x["val"], encode, cfg.batch_size * 4, device)
        val_acc = float((val_logits.sum(1).argmax(-1).numpy() == data.y["val"]).mean())
        n_train = len(split)
        row = {
            "epoch": epoch,
            "lr": lr,
            "loss": sums[0] / n_train,
            "task_loss": sums[1] / n_train,
            regulariser.name: sums[2] / n_train,
            "train_accuracy": sums[3] / n_train,
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
                    "precision": precision.state_dict(),
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
