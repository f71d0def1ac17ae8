"""Surrogate gradients that SpikingJelly 2.0 does not ship."""

from __future__ import annotations

import torch
from spikingjelly.activation_based import surrogate


class _TriangleSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, width: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.width = width
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (x,) = ctx.saved_tensors
        w = ctx.width
        grad = (w - x.abs()).clamp_min(0) / (w * w)
        return grad_output * grad, None


class Triangle(surrogate.SurrogateFunctionBase):
    """Heaviside forward; triangular pseudo-derivative max(0, w - |x|) / w**2 backward.

    The triangle has unit area, so ``width`` trades reach for peak height; the paper's
    direct-training setting is ``width = 1`` (SPEC §3).
    """

    def __init__(self, width: float = 1.0, spiking: bool = True):
        if width <= 0:
            raise ValueError(f"triangle surrogate width must be > 0, got {width}")
        super().__init__(spiking=spiking, width=float(width))

    @staticmethod
    def spiking_function(x: torch.Tensor, width: float) -> torch.Tensor:
        return _TriangleSpike.apply(x, width)

    @staticmethod
    def primitive_function(x: torch.Tensor, width: float) -> torch.Tensor:
        # The integral of the triangle: a piecewise-quadratic ramp from 0 to 1.
        y = (x / width).clamp(-1.0, 1.0)
        return torch.where(y < 0, 0.5 * (1 + y) ** 2, 1 - 0.5 * (1 - y) ** 2)


SURROGATES = {
    "triangle": lambda width: Triangle(width=width),
    "sigmoid": lambda width: surrogate.Sigmoid(alpha=4.0 / width),
    "atan": lambda width: surrogate.ATan(alpha=2.0 / width),
}


def make_surrogate(name: str, width: float = 1.0) -> surrogate.SurrogateFunctionBase:
    """Build a surrogate by name; ``width`` sets how far from threshold gradients reach."""
    try:
        return SURROGATES[name](width)
    except KeyError:
        raise ValueError(
            f"unknown surrogate {name!r}; choose one of {sorted(SURROGATES)}"
        ) from None
