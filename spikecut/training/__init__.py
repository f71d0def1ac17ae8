"""Training: BPTT of SNNs and QCFS ANNs for conversion, with the RCS regulariser."""

from spikecut.training.checkpoint import Checkpointer
from spikecut.training.loop import train_model
from spikecut.training.losses import LOSSES, task_loss

__all__ = ["LOSSES", "Checkpointer", "task_loss", "train_model"]
