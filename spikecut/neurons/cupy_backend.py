"""CuPy execution of the fused LIF/IF kernels, as SpikingJelly-compatible neurons.

Each configuration and dtype compiles once (``cupy.RawModule``) and is cached. The nodes
subclass SpikingJelly's ``LIFNode``/``IFNode``, so ``functional.reset_net``, step modes
and containers work unchanged; they take the fused path for multi-step CUDA input that
starts from the resting state (right after a reset) and defer to SpikingJelly otherwise.

Nothing here has run on a GPU yet (issue 5): the algorithm is checked on CPU through its
PyTorch twin in :mod:`spikecut.neurons.fused`, and ``tests/test_cupy_gpu.py`` compares
these nodes with it on CUDA.
"""

from __future__ import annotations

import functools

import torch
from spikingjelly.activation_based import neuron

from spikecut.neurons.fused import FusedSpec, kernel_source

_THREADS = 256
_STORAGE = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
_DTYPE_OF = {name: dtype for dtype, name in _STORAGE.items()}


def cupy_available() -> bool:
    """Whether CuPy imports and a CUDA device is present."""
    if not torch.cuda.is_available():
        return False
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def _kernels(spec: FusedSpec, dtype: str):
    import cupy

    module = cupy.RawModule(code=kernel_source(spec, dtype), options=("-std=c++17",))
    return module.get_function("fused_forward"), module.get_function("fused_backward")


def _arg(t: torch.Tensor):
    """A zero-copy CuPy view; bfloat16 travels as int16, the kernel reads it as bf16."""
    import cupy

    return cupy.asarray(t.view(torch.int16) if t.dtype == torch.bfloat16 else t)


def _launch(kernel, n: int, *args) -> None:
    import cupy
    import numpy as np

    stream = cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream)
    blocks = (n + _THREADS - 1) // _THREADS
    with stream:
        kernel((blocks,), (_THREADS,), (*[_arg(a) for a in args[:-2]], np.int32(args[-2]),
                                        np.int64(args[-1])))


class _FusedMultiStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, spec: FusedSpec):
        x = x.contiguous()
        dtype = _STORAGE[x.dtype]
        forward_kernel, _ = _kernels(spec, dtype)
        n_steps, n = x.shape[0], x[0].numel()
        spikes, v_seq = torch.empty_like(x), torch.empty_like(x)
        h_seq = torch.empty(x.shape, dtype=torch.float32, device=x.device)
        _launch(forward_kernel, n, x, spikes, h_seq, v_seq, n_steps, n)
        ctx.save_for_backward(h_seq)
        ctx.spec, ctx.dtype = spec, dtype
        return spikes, v_seq

    @staticmethod
    def backward(ctx, grad_spikes: torch.Tensor, grad_v: torch.Tensor):
        (h_seq,) = ctx.saved_tensors
        _, backward_kernel = _kernels(ctx.spec, ctx.dtype)
        zeros = torch.zeros(h_seq.shape, dtype=_DTYPE_OF[ctx.dtype], device=h_seq.device)
        grad_spikes = zeros if grad_spikes is None else grad_spikes.contiguous()
        grad_v = zeros if grad_v is None else grad_v.contiguous()
        grad_x = torch.empty_like(grad_spikes)
        n_steps, n = h_seq.shape[0], h_seq[0].numel()
        _launch(backward_kernel, n, grad_spikes, grad_v, h_seq, grad_x, n_steps, n)
        return grad_x, None


class _FusedMixin:
    """Multi-step forward through the fused kernel where it applies."""

    def _fused_spec(self) -> FusedSpec | None:
        raise NotImplementedError

    def multi_step_forward(self, x_seq: torch.Tensor, *args, **kwargs):
        spec = self._fused_spec()
        if (spec is None or not x_seq.is_cuda or x_seq.dtype not in _STORAGE
                or not (isinstance(self.v, float) and self.v == spec.v_init)):
            return super().multi_step_forward(x_seq, *args, **kwargs)
        spikes, v_seq = _FusedMultiStep.apply(x_seq, spec)
        self.v = v_seq[-1]
        if self.store_v_seq:
            self.v_seq = v_seq
        return spikes


def _surrogate_spec(fn) -> tuple[str, float] | None:
    from spikingjelly.activation_based import surrogate

    from spikecut.neurons.surrogates import Triangle

    if isinstance(fn, Triangle):
        return "triangle", fn.width
    if isinstance(fn, surrogate.Sigmoid):
        return "sigmoid", fn.alpha
    if isinstance(fn, surrogate.ATan):
        return "atan", fn.alpha
    return None


class CupyLIFNode(_FusedMixin, neuron.LIFNode):
    def _fused_spec(self) -> FusedSpec | None:
        sg = _surrogate_spec(self.surrogate_function)
        if sg is None:
            return None
        return FusedSpec("lif", self.tau, self.decay_input, self.v_threshold, self.v_reset,
                         self.detach_reset, *sg)


class CupyIFNode(_FusedMixin, neuron.IFNode):
    def _fused_spec(self) -> FusedSpec | None:
        sg = _surrogate_spec(self.surrogate_function)
        if sg is None:
            return None
        return FusedSpec("if", 2.0, False, self.v_threshold, self.v_reset,
                         self.detach_reset, *sg)
