"""The surrogate gradients spikecut's neurons use: the triangle, which SpikingJelly 2.0
does not ship, and one record per surrogate that both the SpikingJelly path and the
fused kernels read."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from spikingjelly.activation_based import surrogate


def _triangle_grad(x: torch.Tensor, width: float) -> torch.Tensor:
    return (width - x.abs()).clamp_min(0) / (width * width)


class _TriangleSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, width: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.width = width
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_output * _triangle_grad(x, ctx.width), None


class Triangle(surrogate.SurrogateFunctionBase):
    """Heaviside forward; triangular pseudo-derivative max(0, w - |x|) / w**2 backward.

    The triangle has unit area, so ``width`` trades reach for peak height; the paper's
    direct-training setting is ``width = 1`` (docs/method.md §6).
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


@dataclass(frozen=True)
class Surrogate:
    """Everything about one surrogate gradient, for both execution paths: the
    SpikingJelly module that autograd uses, its parameter, and the same derivative
    dS/dz (z = h - V_th, parameter ``a``) in PyTorch and as a CUDA C expression for the
    fused kernels."""

    module: type[surrogate.SurrogateFunctionBase]
    parameter: str  # the module's attribute the kernels need
    from_width: Callable[[float], float]  # config width -> that parameter
    torch_grad: Callable[[torch.Tensor, float], torch.Tensor]
    cuda_grad: Callable[[str], str]  # the parameter's C literal -> an expression in z

    def build(self, width: float) -> surrogate.SurrogateFunctionBase:
        return self.module(self.from_width(width))


def _sigmoid_grad(z: torch.Tensor, a: float) -> torch.Tensor:
    sig = 1.0 / (1.0 + torch.exp(-a * z))
    return a * sig * (1.0 - sig)


_HALF_PI = math.pi / 2

SURROGATES: dict[str, Surrogate] = {
    "triangle": Surrogate(
        Triangle,
        "width",
        float,
        _triangle_grad,
        lambda a: f"fmaxf({a} - fabsf(z), 0.0f) / ({a} * {a})",
    ),
    "sigmoid": Surrogate(
        surrogate.Sigmoid,
        "alpha",
        lambda width: 4.0 / width,
        _sigmoid_grad,
        lambda a: (
            f"{a} * (1.0f / (1.0f + expf(-{a} * z))) * (1.0f - 1.0f / (1.0f + expf(-{a} * z)))"
        ),
    ),
    "atan": Surrogate(
        surrogate.ATan,
        "alpha",
        lambda width: 2.0 / width,
        lambda z, a: (a * 0.5) / (1.0 + (_HALF_PI * a * z) * (_HALF_PI * a * z)),
        lambda a: (
            f"({a} * 0.5f) / (1.0f + ({float(_HALF_PI)!r}f * {a} * z) "
            f"* ({float(_HALF_PI)!r}f * {a} * z))"
        ),
    ),
}


def make_surrogate(name: str, width: float = 1.0) -> surrogate.SurrogateFunctionBase:
    """Build a surrogate by name; ``width`` sets how far from threshold gradients reach."""
    try:
        return SURROGATES[name].build(width)
    except KeyError:
        raise ValueError(
            f"unknown surrogate {name!r}; choose one of {sorted(SURROGATES)}"
        ) from None


def surrogate_of(fn: surrogate.SurrogateFunctionBase) -> tuple[str, float] | None:
    """(name, parameter) of a surrogate module the kernels know, or None."""
    for name, record in SURROGATES.items():
        if type(fn) is record.module:
            return name, float(getattr(fn, record.parameter))
    return None
