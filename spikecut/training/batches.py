"""The training split, served as batches from wherever the training step reads them
fastest.

On a GPU the split is copied to device memory once when it takes at most
:data:`DEVICE_SHARE` of the memory free there, so a batch is an index into it and never
crosses the bus. A split too large for that stays in host memory; each batch is gathered
there, pinned, and copied on a side stream while the previous batch computes. Either
way the batches are the same: the order is drawn on the CPU, and a batch holds the
samples as stored, before augmentation and encoding.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import torch

log = logging.getLogger(__name__)

DEVICE_SHARE = 0.25  # of the free device memory; the rest is for the model's activations


def fits_on_device(nbytes: int, device: torch.device, share: float = DEVICE_SHARE) -> bool:
    """Whether ``nbytes`` take at most ``share`` of the memory free on ``device`` (host
    memory is always taken as enough)."""
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes <= share * free


class TrainingSplit:
    def __init__(
        self, x: np.ndarray, y: np.ndarray, device: torch.device, share: float = DEVICE_SHARE
    ):
        samples = torch.as_tensor(x)
        self.device = device
        self.labels = torch.as_tensor(y).to(device)
        self.on_device = fits_on_device(samples.nbytes, device, share)
        size = f"{samples.nbytes / 2**20:.0f} MiB"
        if self.on_device:
            self.samples = samples.to(device)
            if device.type == "cuda":
                log.info("training split (%s) held in %s memory", size, device)
        else:
            self.samples = samples
            log.info(
                "training split (%s) is over %.0f%% of the free memory of %s: batches are "
                "copied from pinned host memory, one ahead",
                size,
                100 * share,
                device,
            )

    def __len__(self) -> int:
        return len(self.labels)

    def batches(
        self, order: torch.Tensor, batch_size: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(samples as stored, labels) on the device, ``batch_size`` at a time in
        ``order``, a CPU permutation."""
        if self.on_device:
            for index in order.to(self.device, non_blocking=True).split(batch_size):
                yield self.samples[index], self.labels[index]
            return
        chunks = order.split(batch_size)
        stream = torch.cuda.Stream(self.device)

        def send(index: torch.Tensor) -> torch.Tensor:
            pinned = self.samples.index_select(0, index).pin_memory()
            with torch.cuda.stream(stream):
                return pinned.to(self.device, non_blocking=True)

        ahead = send(chunks[0])
        for i, index in enumerate(chunks):
            current = torch.cuda.current_stream(self.device)
            current.wait_stream(stream)
            batch = ahead
            batch.record_stream(current)  # its memory is reused only after this step
            yield batch, self.labels[index.to(self.device, non_blocking=True)]
            # the step on this batch is queued by now: gather the next one meanwhile
            if i + 1 < len(chunks):
                ahead = send(chunks[i + 1])
