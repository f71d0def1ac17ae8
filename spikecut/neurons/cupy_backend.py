"""CuPy execution of the fused LIF/IF kernels, as SpikingJelly-compatible neurons.

Each configuration and dtype compiles once (``cupy.RawModule``) and is cached. Before
its first use in a process, on each device, it also checks itself: it runs forward and
backward on a small input and compares the results with the PyTorch reference of the
same algorithm (milliseconds). A kernel that fails to compile or disagrees is not used:
a node built for ``neuron.backend: cupy`` raises, any other warns once, naming the
configuration, and takes SpikingJelly's path instead. The nodes
subclass SpikingJelly's ``LIFNode``/``IFNode``, so ``functional.reset_net``, step modes
and containers work unchanged. On CUDA tensors both step modes run the kernel: a
multi-step call runs all T steps in one launch, a single-step call (early-exit
inference, step by step) is the same launch with T = 1, and either continues from
whatever membrane state the node holds. On the CPU, float32 inference without autograd
runs :mod:`spikecut.neurons.host`'s in-place loop; other CPU tensors, and surrogates the
kernel does not know, take SpikingJelly's own path.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch
from spikingjelly.activation_based import neuron

from spikecut.neurons.fused import (
    COMPILE_OPTIONS,
    FusedSpec,
    kernel_source,
    reference_backward,
    reference_forward,
)
from spikecut.neurons.host import host_applies, host_multi_step
from spikecut.neurons.surrogates import surrogate_of

_THREADS = 256
_STORAGE = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
_TORCH_DTYPES = {v: k for k, v in _STORAGE.items()}
_NULL = np.uint64(0)
# the self-check's input: more neurons than one block, so the bounds guard is exercised
_CHECK_SHAPE = (5, _THREADS + 44)


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
        _launch(
            forward_kernel,
            x.device,
            n,
            _ptr(x),
            _ptr(v0),
            np.float32(v_init),
            _ptr(spikes),
            _ptr(v_last),
            _ptr(z_seq),
            _ptr(v_seq if want_v_seq else None),
            np.int32(n_steps),
            np.int64(n),
        )
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
        grads = [
            None if g is None else g.contiguous() for g in (grad_spikes, grad_v_seq, grad_v_last)
        ]
        grad_x = torch.empty_like(z_seq)
        grad_v0 = torch.empty_like(z_seq[0]) if ctx.needs_input_grad[1] else None
        n_steps, n = z_seq.shape[0], z_seq[0].numel()
        _launch(
            backward_kernel,
            z_seq.device,
            n,
            *map(_ptr, grads),
            _ptr(z_seq),
            _ptr(grad_x),
            _ptr(grad_v0),
            np.int32(n_steps),
            np.int64(n),
        )
        return grad_x, grad_v0, None, None, None


def fused_multi_step(
    x: torch.Tensor, spec: FusedSpec, v0: torch.Tensor | float, want_v_seq: bool = False
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


def _disagreement(spec: FusedSpec, dtype: str, device: torch.device) -> str | None:
    """How the kernels of ``spec`` with ``dtype`` storage differ from the PyTorch
    reference on a small random input, through the same autograd function the nodes
    use; None where they agree: spikes exactly, membranes and gradients to the storage
    precision."""
    torch_dtype = _TORCH_DTYPES[dtype]
    gen = torch.Generator().manual_seed(0)

    def rand(shape, scale=1.0, shift=0.0):
        return (torch.randn(shape, generator=gen) * scale + shift).to(device, torch_dtype)

    # the first use is often inference (recording, early exit) under no_grad, and the
    # check needs the backward pass
    with torch.inference_mode(False), torch.enable_grad():
        x = rand(_CHECK_SHAPE, 1.5, 0.5).requires_grad_()
        v0 = rand(_CHECK_SHAPE[1:], 0.5 * spec.v_threshold).requires_grad_()
        spikes, v_last, v_seq = fused_multi_step(x, spec, v0, want_v_seq=True)
        grads = [rand(t.shape) for t in (spikes, v_seq, v_last)]
        torch.autograd.backward([spikes, v_seq, v_last], grads)
    ref_s, ref_z, ref_v = reference_forward(x.detach().float(), spec, v0.detach().float())
    want_x, want_v0 = reference_backward(
        grads[0].float(), grads[1].float(), ref_z.to(torch_dtype).float(), spec, grads[2].float()
    )
    wrong = int((spikes.float() != ref_s).sum())
    if wrong:
        return f"gives {wrong} of {spikes.numel()} spikes different from the reference"
    tol = 1e-5 if dtype == "float32" else 2 * torch.finfo(torch_dtype).eps
    for name, got, want in (
        ("membrane", v_seq, ref_v),
        ("final membrane", v_last, ref_v[-1]),
        ("input gradient", x.grad, want_x),
        ("state gradient", v0.grad, want_v0),
    ):
        want = want.to(torch_dtype).float()
        got = got.detach().float()
        if not torch.allclose(got, want, rtol=tol, atol=tol):
            error = float((got - want).abs().max())
            return f"gives a {name} up to {error:.3g} away from the reference"
    return None


@functools.lru_cache(maxsize=None)
def kernel_problem(spec: FusedSpec, dtype: str, device: torch.device) -> str | None:
    """Why the kernels of ``spec`` with ``dtype`` storage cannot be used on ``device``,
    or None; compiled and checked once per process."""
    try:
        return _disagreement(spec, dtype, device)
    except Exception as err:  # noqa: BLE001 - any failure to build or run means "don't"
        detail = " ".join(str(err).split())  # compilers' messages span lines
        return f"failed to compile or run ({type(err).__name__}: {detail[:400]})"


@functools.lru_cache(maxsize=None)
def _warn_fallback(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=2)


class _FusedMixin:
    """Both step modes through the fused kernel where it applies (``fused``), and CPU
    inference through the host loop. ``strict`` nodes (the ``cupy`` backend) raise
    where a kernel fails its self-check; others fall back to SpikingJelly's
    implementation with one warning per configuration."""

    def __init__(self, *args, strict: bool = False, fused: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.strict = strict
        self.fused = fused

    def _fused_spec(self) -> FusedSpec | None:
        raise NotImplementedError

    def _fused_applies(self, x: torch.Tensor) -> FusedSpec | None:
        if not (self.fused and _runs_here(x)):
            return None
        spec = self._fused_spec()
        if spec is None:
            return None
        dtype = _STORAGE[x.dtype]
        problem = kernel_problem(spec, dtype, x.device)
        if problem is None:
            return spec
        message = f"the fused CuPy neuron kernel for {spec} with {dtype} on {x.device} {problem}"
        if self.strict:
            raise RuntimeError(
                f"{message}; set neuron.backend: auto to fall back to SpikingJelly's implementation"
            )
        _warn_fallback(f"{message}; using SpikingJelly's implementation instead")
        return None

    def _run(self, x_seq: torch.Tensor, store_v_seq: bool) -> torch.Tensor | None:
        """The spikes of ``x_seq`` from the kernel (which keeps the membranes where
        ``store_v_seq``) or the host loop (never where the node keeps them), continuing
        from and updating the membrane; None where neither applies."""
        spec = self._fused_applies(x_seq)
        if spec is not None:
            spikes, self.v, v_seq = fused_multi_step(x_seq, spec, self.v, store_v_seq)
            if store_v_seq:
                self.v_seq = v_seq
            return spikes
        if host_applies(x_seq, self.store_v_seq):
            spec = self._fused_spec()
            if spec is not None:
                spikes, self.v = host_multi_step(x_seq, spec, self.v)
                return spikes
        return None

    def multi_step_forward(self, x_seq: torch.Tensor, *args, **kwargs):
        spikes = self._run(x_seq, self.store_v_seq)
        if spikes is None:
            return super().multi_step_forward(x_seq, *args, **kwargs)
        return spikes

    def single_step_forward(self, x: torch.Tensor, *args, **kwargs):
        spikes = self._run(x.unsqueeze(0), store_v_seq=False)
        if spikes is None:
            return super().single_step_forward(x, *args, **kwargs)
        return spikes[0]


class CupyLIFNode(_FusedMixin, neuron.LIFNode):
    def _fused_spec(self) -> FusedSpec | None:
        sg = surrogate_of(self.surrogate_function)
        if sg is None:
            return None
        return FusedSpec(
            "lif",
            self.tau,
            self.decay_input,
            self.v_threshold,
            self.v_reset,
            self.detach_reset,
            *sg,
        )


class CupyIFNode(_FusedMixin, neuron.IFNode):
    def _fused_spec(self) -> FusedSpec | None:
        sg = surrogate_of(self.surrogate_function)
        if sg is None:
            return None
        return FusedSpec("if", 2.0, False, self.v_threshold, self.v_reset, self.detach_reset, *sg)
