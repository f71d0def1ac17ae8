"""CuPy execution of the fused LIF/IF kernels, as SpikingJelly-compatible neurons.

Each configuration and dtype compiles once (``cupy.RawModule``) and is cached. The nodes
subclass SpikingJelly's ``LIFNode``/``IFNode``, so ``functional.reset_net``, step modes
and containers work unchanged. On CUDA tensors both step modes run the kernel: a
multi-step call runs all T steps in one launch, a single-step call (early-exit
inference, step by step) is the same launch with T = 1, and either continues from
whatever membrane state the node holds. CPU tensors, and surrogates the kernel does not
know, take SpikingJelly's own path.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from spikingjelly.activation_based import neuron

from spikecut.neurons.fused import COMPILE_OPTIONS, FusedSpec, kernel_source

_THREADS = 256
_STORAGE = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
_NULL = np.uint64(0)


@functools.lru_cache(maxsize=1)
def cupy_available() -> bool:
    """Whether CuPy imports and a CUDA device is present."""
    if not torch.cuda.is_available():
        return False
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True


def _runs_here(x: torch.Tensor) -> bool:
    """Whether the kernels can take ``x``."""
    return x.is_cuda and x.dtype in _STORAGE and cupy_available()


@functools.lru_cache(maxsize=None)
def _kernels(spec: FusedSpec, dtype: str, device: int):
    import cupy

    with cupy.cuda.Device(device):
        module = cupy.RawModule(code=kernel_source(spec, dtype), options=COMPILE_OPTIONS)
        return module.get_function("fused_forward"), module.get_function("fused_backward")


def _ptr(t: torch.Tensor | None) -> np.uint64:
    """A kernel argument: the tensor's device address, or null."""
    return _NULL if t is None else np.uint64(t.data_ptr())


def _launch(kernel, device: torch.device, n: int, *args) -> None:
    import cupy

    with cupy.cuda.Device(device.index):
        stream = cupy.cuda.ExternalStream(torch.cuda.current_stream(device).cuda_stream)
        kernel(((n + _THREADS - 1) // _THREADS,), (_THREADS,), args, stream=stream)


class _FusedMultiStep(torch.autograd.Function):
    """``(x [T, ...], v0 [...] or None) -> (spikes [T, ...], v_last [...], v_seq)``;
    v_seq is ``[T, ...]`` when ``want_v_seq``, else empty."""

    @staticmethod
    def forward(ctx, x, v0, v_init: float, spec: FusedSpec, want_v_seq: bool):
        dtype = _STORAGE[x.dtype]
        forward_kernel, _ = _kernels(spec, dtype, x.device.index)
        n_steps, n = x.shape[0], x[0].numel()
        spikes, v_last = torch.empty_like(x), torch.empty_like(x[0])
        v_seq = torch.empty_like(x) if want_v_seq else x.new_empty(0)
        z_seq = torch.empty_like(x) if any(ctx.needs_input_grad[:2]) else None
        _launch(forward_kernel, x.device, n, _ptr(x), _ptr(v0), np.float32(v_init),
                _ptr(spikes), _ptr(v_last), _ptr(z_seq), _ptr(v_seq if want_v_seq else None),
                np.int32(n_steps), np.int64(n))
        ctx.set_materialize_grads(False)
        ctx.spec, ctx.dtype = spec, dtype
        if z_seq is not None:
            ctx.save_for_backward(z_seq)
        if not want_v_seq:
            ctx.mark_non_differentiable(v_seq)
        return spikes, v_last, v_seq

    @staticmethod
    def backward(ctx, grad_spikes, grad_v_last, grad_v_seq):
        (z_seq,) = ctx.saved_tensors
        _, backward_kernel = _kernels(ctx.spec, ctx.dtype, z_seq.device.index)
        grads = [None if g is None else g.contiguous()
                 for g in (grad_spikes, grad_v_seq, grad_v_last)]
        grad_x = torch.empty_like(z_seq)
        grad_v0 = torch.empty_like(z_seq[0]) if ctx.needs_input_grad[1] else None
        n_steps, n = z_seq.shape[0], z_seq[0].numel()
        _launch(backward_kernel, z_seq.device, n, *map(_ptr, grads), _ptr(z_seq),
                _ptr(grad_x), _ptr(grad_v0), np.int32(n_steps), np.int64(n))
        return grad_x, grad_v0, None, None, None


def fused_multi_step(x: torch.Tensor, spec: FusedSpec, v0: torch.Tensor | float,
                     want_v_seq: bool = False
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Spikes, the final membrane and (when asked) every post-reset membrane of ``spec``
    driven by the CUDA tensor ``x`` of shape ``[T, ...]`` from the membrane ``v0``."""
    x = x.contiguous()
    if isinstance(v0, torch.Tensor):
        state, v_init = v0.to(x.dtype).expand(x.shape[1:]).contiguous(), 0.0
    else:
        state, v_init = None, float(v0)
    spikes, v_last, v_seq = _FusedMultiStep.apply(x, state, v_init, spec, want_v_seq)
    return spikes, v_last, (v_seq if want_v_seq else None)


class _FusedMixin:
    """Both step modes through the fused kernel where it applies."""

    def _fused_spec(self) -> FusedSpec | None:
        raise NotImplementedError

    def _fused_applies(self, x: torch.Tensor) -> FusedSpec | None:
        if not _runs_here(x):
            return None
        return self._fused_spec()

    def multi_step_forward(self, x_seq: torch.Tensor, *args, **kwargs):
        spec = self._fused_applies(x_seq)
        if spec is None:
            return super().multi_step_forward(x_seq, *args, **kwargs)
        spikes, self.v, v_seq = fused_multi_step(x_seq, spec, self.v, self.store_v_seq)
        if self.store_v_seq:
            self.v_seq = v_seq
        return spikes

    def single_step_forward(self, x: torch.Tensor, *args, **kwargs):
        spec = self._fused_applies(x)
        if spec is None:
            return super().single_step_forward(x, *args, **kwargs)
        spikes, self.v, _ = fused_multi_step(x.unsqueeze(0), spec, self.v)
        return spikes[0]


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
