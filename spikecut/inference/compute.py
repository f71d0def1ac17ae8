"""What an SNN's inference costs, per sample and per timestep: synaptic operations and
the encoding layer's multiply-accumulates, turned into an energy estimate.

Conventions (the usual ones in the SNN literature):
- The first synaptic layer (convolution or linear) sees analog input, so it performs
  dense MACs: every input element times its fan-out.
- Every later synaptic layer performs accumulates (ACs) only for non-zero inputs: a
  synaptic operation (SOP) is one non-zero input times its fan-out, the number of
  outputs it reaches. Fan-outs are exact per input position, so borders, padding and
  strides are counted as they are.
- Energy = E_MAC × MACs + E_AC × SOPs (:class:`spikecut.cutoff.costs.EnergyModel`).
  Memory traffic and neuron updates are not counted.
"""

from __future__ import annotations

from contextlib import ExitStack

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spikecut.inference.hooks import forward_hooks, modules_of


def fan_out(layer: nn.Module, input_shape: tuple[int, ...]) -> torch.Tensor:
    """How many outputs each input element of ``layer`` reaches, shaped like one
    sample's input (without the batch dimension)."""
    if isinstance(layer, nn.Linear):
        return torch.full(input_shape, float(layer.out_features))
    if isinstance(layer, nn.Conv2d):
        out_shape = F.conv2d(
            torch.zeros((1, *input_shape)),
            layer.weight.detach().cpu(),
            stride=layer.stride,
            padding=layer.padding,
            dilation=layer.dilation,
            groups=layer.groups,
        ).shape
        # each output position and channel reads a kernel window of every input
        # channel of its group: the transposed convolution of ones counts the readers.
        # output_padding restores the rows and columns a stride leaves at the end.
        size = [
            (o - 1) * s - 2 * p + d * (k - 1) + 1
            for o, s, p, d, k in zip(
                out_shape[-2:], layer.stride, layer.padding, layer.dilation, layer.kernel_size
            )
        ]
        extra = tuple(i - z for i, z in zip(input_shape[-2:], size))
        counts = F.conv_transpose2d(
            torch.ones(out_shape),
            torch.ones(layer.weight.shape),
            stride=layer.stride,
            padding=layer.padding,
            output_padding=extra,
            dilation=layer.dilation,
            groups=layer.groups,
        )
        return counts[0]
    raise TypeError(f"no fan-out rule for {type(layer).__name__}")


SYNAPTIC = (nn.Conv2d, nn.Linear)


class ComputeCounter:
    """Context manager: per forward call of a multi-step model on ``[T, B, ...]``, the
    encoding layer's MACs and the later synaptic layers' SOPs, each ``[T, B]``, found
    by module type."""

    def __init__(self, model: nn.Module):
        self.synaptic = modules_of(model, SYNAPTIC)
        if not self.synaptic:
            raise ValueError("the model has no convolution or linear layer to count")
        self._fan_out: dict[nn.Module, torch.Tensor] = {}
        self._hooks = ExitStack()
        self._first: nn.Module | None = None
        self._macs, self._sops = [], []
        self._call: dict = {}

    def _synaptic_hook(self, module, inputs, output):
        x = inputs[0]
        steps_batch, sample = x.shape[:2], tuple(x.shape[2:])
        if module not in self._fan_out:
            self._fan_out[module] = fan_out(module, sample).to(x.device)
        if self._first is None:
            self._first = module
        fan = self._fan_out[module]
        if module is self._first:
            dense = fan.sum().expand(steps_batch)
            self._call["macs"] = self._call.get("macs", 0) + dense.double()
        else:
            active = (x != 0).to(fan.dtype)
            sops = (active * fan).flatten(2).sum(2)
            self._call["sops"] = self._call.get("sops", 0) + sops.double()

    def __enter__(self) -> ComputeCounter:
        self._hooks.enter_context(forward_hooks((self.synaptic, self._synaptic_hook)))
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.close()

    def end_batch(self) -> None:
        """Close one forward call's counts."""
        call, self._call = self._call, {}
        shape = call["macs"].shape
        self._macs.append(call["macs"].T.cpu())
        self._sops.append(call.get("sops", torch.zeros(shape, dtype=torch.float64)).T.cpu())

    def result(self) -> dict[str, np.ndarray]:
        """``macs`` and ``sops`` ``[N, T]`` over all calls."""
        return {"macs": torch.cat(self._macs).numpy(), "sops": torch.cat(self._sops).numpy()}
