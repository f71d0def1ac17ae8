"""Direct (BPTT) training of SNNs with the RCS regulariser."""

from spikecut.training.bptt import TrainConfig, train_bptt
from spikecut.training.losses import LOSSES, task_loss

__all__ = ["LOSSES", "TrainConfig", "task_loss", "train_bptt"]
