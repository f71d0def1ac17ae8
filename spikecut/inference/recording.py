"""Record per-step outputs o(t) once, for the cutoff analytics (docs/method.md §5).

The calibration set is the training split without augmentation, run with dropout after
every spiking layer (train-mode dropout, fixed seed, the same masks whatever the batch
size), which makes the training-set confidence more pessimistic, as the authors do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from spikingjelly.activation_based import neuron
from torch import nn

from spikecut.data import PreparedData
from spikecut.inference.compute import ComputeCounter
from spikecut.inference.hooks import forward_hooks, modules_of
from spikecut.inference.run import Encoder, per_step_logits


def _generator(*key: int) -> torch.Generator:
    # torch seeds its CPU generator from 32 bits only: mix the key down to them
    return torch.Generator().manual_seed(int(np.random.SeedSequence(key).generate_state(1)[0]))


@contextmanager
def calibration_dropout(model: nn.Module, p: float, seed: int) -> Iterator[None]:
    """Dropout with probability ``p`` (train-mode scaling) on every spiking layer's
    multi-step output, for the calibration pass. Each sample's mask at each layer is
    drawn from its own generator, seeded by ``seed``, the layer and the sample's
    position in the pass, so that the masks, and the calibration, do not depend on how
    the samples are batched. Torch's global random state is left as it was."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"calibration dropout must be in [0, 1), got {p}")
    layers = modules_of(model, neuron.BaseNode) if p > 0 else []
    seen = dict.fromkeys(layers, 0)  # samples each layer has passed so far

    def drop(module, inputs, output):
        layer, start = layers.index(module), seen[module]
        seen[module] += output.shape[1]
        masks = [
            torch.rand(output[:, 0].shape, generator=_generator(seed, layer, start + i)) >= p
            for i in range(output.shape[1])
        ]
        keep = torch.stack(masks, dim=1).to(output.device, output.dtype)
        return output * keep / (1.0 - p)

    with forward_hooks((layers, drop)):
        yield


def record_outputs(
    model: nn.Module,
    data: PreparedData,
    encode: Encoder,
    dropout: float,
    dropout_seed: int,
    batch_size: int,
    device: torch.device,
) -> tuple[dict[str, torch.Tensor], dict[str, np.ndarray]]:
    """Per-step logits ``[N, T, C]`` of the test, validation and calibration sets (the
    latter with ``dropout`` after every spiking layer), and the test set's compute per
    sample and step (see :class:`ComputeCounter`)."""
    model.to(device).eval()

    def run(split: str, counter: ComputeCounter | None = None) -> torch.Tensor:
        return per_step_logits(model, data.x[split], encode, batch_size, device, counter)

    with ComputeCounter(model) as counter:
        out = {"test": run("test", counter)}
    out["val"] = run("val")
    with calibration_dropout(model, dropout, dropout_seed):
        out["cal"] = run("train")
    return out, counter.result()
