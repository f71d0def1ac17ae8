"""Training: BPTT of SNNs and QCFS ANNs for conversion, with the RCS regulariser."""

from spikecut.training.checkpoint import Checkpointer
from spikecut.training.loop import TrainConfig, per_step_logits, train_model
from spikecut.training.losses import LOSSES, task_loss

__all__ = ["LOSSES", "Checkpointer", "TrainConfig", "per_step_logits", "task_loss", "train_model"]
