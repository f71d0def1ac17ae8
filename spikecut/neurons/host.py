"""IF and LIF inference on the CPU, in place.

SpikingJelly's CPU path keeps every step's charge, spikes and reset membrane as new
tensors and stacks them, for the backward pass; without autograd, on the converted
networks that the recording and early-exit stages run, that bookkeeping took most of
the time. This loop writes each step's spikes straight into the output and updates one
membrane in place. It performs SpikingJelly's float32 operations in SpikingJelly's
order, so spikes and membranes are equal bit for bit (``tests/test_host_neurons.py``).
"""

from __future__ import annotations

import torch

from spikecut.neurons.fused import FusedSpec


def host_applies(x: torch.Tensor, store_v_seq: bool) -> bool:
    """Whether :func:`host_multi_step` may run ``x``: float32 on the CPU, no gradient
    wanted, no membrane sequence to keep."""
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and not (torch.is_grad_enabled() and x.requires_grad)
        and not store_v_seq
    )


@torch.no_grad()
def host_multi_step(
    x_seq: torch.Tensor, spec: FusedSpec, v: torch.Tensor | float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes ``[T, ...]`` and the final membrane, from the membrane ``v``."""
    v = torch.broadcast_to(torch.as_tensor(v, dtype=x_seq.dtype), x_seq.shape[1:]).clone()
    spikes = torch.empty_like(x_seq)
    rest = 0.0 if spec.v_reset is None else spec.v_reset
    for t, x in enumerate(x_seq):
        if spec.kind == "if":
            v.add_(x)
        elif spec.decay_input:  # v + (x - (v - rest)) / tau
            v.add_(torch.sub(x, v - rest).div_(spec.tau))
        else:  # v - (v - rest) / tau + x
            v.sub_((v - rest).div_(spec.tau)).add_(x)
        # h >= threshold is SpikingJelly's heaviside(h - threshold) >= 0: the difference
        # of two finite floats is zero only where they are equal
        torch.ge(v, spec.v_threshold, out=spikes[t])
        if spec.v_reset is None:
            v.sub_(spikes[t], alpha=spec.v_threshold)  # exact: the spike is 0 or 1
        else:  # spike * reset + (1 - spike) * h, with the spike 0 or 1
            v.masked_fill_(spikes[t].bool(), spec.v_reset)
    return spikes, v
