"""The fused multi-step LIF/IF algorithm behind the CuPy kernels, in two forms.

* :func:`kernel_source` writes the CUDA C source: one thread owns one neuron across all
  T steps. The forward pass keeps the membrane in a float32 register, starts it from a
  constant or from a per-neuron state ``v0`` (so chunked and single-step inference stay
  on the kernel), and writes the spikes, the final membrane and, only when asked, the
  post-reset membranes v(t) that RCS reads (no second pass) and z(t) = h(t) - v_th for
  the backward pass. The backward pass walks time in reverse from z alone.
* :func:`reference_forward` and :func:`reference_backward` are the same recurrences in
  PyTorch, step by step and in the same operation order. They are checked against
  autograd through SpikingJelly on the CPU, which validates the hand-derived backward
  pass wherever a GPU is missing, and the GPU tests hold the kernels to them.

Dynamics (docs/method.md §6, SpikingJelly's conventions), with k = 1 - 1/tau:
  LIF, decay_input=False:  h = k v + v_reset / tau + x
  LIF, decay_input=True:   h = k v + (x + v_reset) / tau
  IF:                      h = v + x
  s = H(h - v_th);  hard reset: v = h (1 - s) + v_reset s;  soft reset: v = h - v_th s

Half-precision tensors are stored as 16-bit patterns and converted in the kernel, so
the source needs no CUDA headers and compiles the same under NVRTC and nvcc. z is stored
in the tensor's dtype; a spike is read back from z's sign bit, which rounding keeps, so
the backward pass sees exactly the forward pass's spikes in every dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from spikecut.neurons.surrogates import SURROGATES

SURROGATE_KINDS = tuple(SURROGATES)
DTYPES = ("float32", "float16", "bfloat16")
# Contracting a*b+c into one FMA would round differently from PyTorch's separate ops
# and could flip a spike sitting within an ulp of the threshold.
COMPILE_OPTIONS = ("--fmad=false",)

_STORAGE_C = {
    "float32": """
typedef float store_t;
__device__ __forceinline__ float load(store_t b) { return b; }
__device__ __forceinline__ store_t save(float f) { return f; }
__device__ __forceinline__ store_t save_z(float f) { return f; }
""",
    "float16": """
typedef unsigned short store_t;
__device__ __forceinline__ float load(store_t b) {
    float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(b)); return f;
}
__device__ __forceinline__ store_t save(float f) {
    store_t b; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(b) : "f"(f)); return b;
}
// z saturates at the largest finite half: an infinite z would turn h = z + v_th into
// inf and (v_reset - h) * 0 into NaN in the backward pass.
__device__ __forceinline__ store_t save_z(float f) {
    return save(fminf(fmaxf(f, -65504.0f), 65504.0f));
}
""",
    "bfloat16": """
typedef unsigned short store_t;
__device__ __forceinline__ float load(store_t b) {
    return __uint_as_float(((unsigned int)b) << 16);
}
__device__ __forceinline__ store_t save(float f) {  // round to nearest even
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (store_t)((u >> 16) | 0x40u);  // NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (store_t)(u >> 16);
}
__device__ __forceinline__ store_t save_z(float f) { return save(f); }
""",
}


@dataclass(frozen=True)
class FusedSpec:
    kind: str = "lif"  # "lif" or "if"
    tau: float = 2.0
    decay_input: bool = False
    v_threshold: float = 1.0
    v_reset: float | None = 0.0  # None: soft reset
    detach_reset: bool = False
    surrogate: str = "triangle"
    # triangle: half-width w; sigmoid and atan: their alpha, as in SpikingJelly
    surrogate_param: float = 1.0

    def __post_init__(self):
        if self.kind not in ("lif", "if"):
            raise ValueError(f"kind must be 'lif' or 'if', got {self.kind!r}")
        if self.surrogate not in SURROGATE_KINDS:
            raise ValueError(f"surrogate must be one of {SURROGATE_KINDS}")
        numbers = {
            "tau": self.tau,
            "v_threshold": self.v_threshold,
            "v_reset": 0.0 if self.v_reset is None else self.v_reset,
            "surrogate_param": self.surrogate_param,
        }
        bad = {k: v for k, v in numbers.items() if not math.isfinite(v)}
        if bad:
            raise ValueError(f"neuron parameters must be finite, got {bad}")
        if self.kind == "lif" and self.tau < 1.0:
            raise ValueError(f"LIF needs tau >= 1 (a leak in [0, 1)), got {self.tau}")
        if self.surrogate_param <= 0:
            raise ValueError(f"surrogate_param must be positive, got {self.surrogate_param}")

    @property
    def leak(self) -> float:
        """dh/dv: how much of the previous membrane survives a step."""
        return 1.0 - 1.0 / self.tau if self.kind == "lif" else 1.0

    @property
    def input_gain(self) -> float:
        """dh/dx."""
        return 1.0 / self.tau if self.kind == "lif" and self.decay_input else 1.0

    @property
    def offset(self) -> float:
        """The constant term of h: the pull towards v_reset."""
        if self.kind == "if" or self.v_reset is None:
            return 0.0
        return self.v_reset / self.tau

    @property
    def v_rest(self) -> float:
        """The membrane after a reset, where no other starting state is given."""
        return 0.0 if self.v_reset is None else self.v_reset


def surrogate_grad(z: torch.Tensor, spec: FusedSpec) -> torch.Tensor:
    """dS/dz at z = h - v_th for the spec's surrogate."""
    return SURROGATES[spec.surrogate].torch_grad(z, spec.surrogate_param)


def reference_forward(
    x: torch.Tensor, spec: FusedSpec, v0: torch.Tensor | float | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spikes, z = h - v_th and post-reset membranes v, each ``[T, ...]``, from the
    starting membrane ``v0`` (default: the resting value)."""
    v0 = spec.v_rest if v0 is None else v0
    v = torch.zeros_like(x[0]) + v0
    spikes, zs, vs = [], [], []
    for t in range(x.shape[0]):
        h = spec.leak * v + spec.offset + spec.input_gain * x[t]
        s = (h >= spec.v_threshold).to(x.dtype)
        if spec.v_reset is None:
            v = h - spec.v_threshold * s
        else:
            v = h * (1 - s) + spec.v_reset * s
        spikes.append(s)
        zs.append(h - spec.v_threshold)
        vs.append(v)
    return torch.stack(spikes), torch.stack(zs), torch.stack(vs)


def reference_backward(
    grad_spikes: torch.Tensor | None,
    grad_v: torch.Tensor | None,
    z: torch.Tensor,
    spec: FusedSpec,
    grad_v_last: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grads of the input x and of the starting membrane v0, from the grads of the
    spikes, of the post-reset membranes and of the final membrane (None: zero)."""
    grad_x = torch.empty_like(z)
    carry = torch.zeros_like(z[0]) if grad_v_last is None else grad_v_last.clone()
    for t in reversed(range(z.shape[0])):
        h = z[t] + spec.v_threshold
        sg = surrogate_grad(z[t], spec)
        s = (~torch.signbit(z[t])).to(z.dtype)
        if spec.v_reset is None:
            dv_dh = 1.0 if spec.detach_reset else 1.0 - spec.v_threshold * sg
        else:
            dv_dh = (1 - s) + (0.0 if spec.detach_reset else (spec.v_reset - h) * sg)
        grad_h = (0.0 if grad_spikes is None else grad_spikes[t] * sg) + (
            (0.0 if grad_v is None else grad_v[t]) + carry
        ) * dv_dh
        grad_x[t] = grad_h * spec.input_gain
        carry = grad_h * spec.leak
    return grad_x, carry


def _f(value: float) -> str:
    """A float32 literal."""
    return f"{float(value)!r}f"


def _surrogate_c(spec: FusedSpec) -> str:
    return SURROGATES[spec.surrogate].cuda_grad(_f(spec.surrogate_param))


def kernel_source(spec: FusedSpec, dtype: str = "float32") -> str:
    """CUDA C for the forward and backward kernels of ``spec`` with ``dtype`` storage
    (float32, float16 or bfloat16); arithmetic is float32 throughout. Optional arrays
    are null pointers when absent."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    vth, leak, gain, offset = (
        _f(v) for v in (spec.v_threshold, spec.leak, spec.input_gain, spec.offset)
    )
    if spec.v_reset is None:
        reset = f"v = h - {vth} * s;"
        dv_dh = "1.0f" if spec.detach_reset else f"1.0f - {vth} * sg"
    else:
        vr = _f(spec.v_reset)
        reset = f"v = h * (1.0f - s) + {vr} * s;"
        # 1 - s, with s read back from the sign of z; then the reset's own slope
        no_spike = "(signbit(z) ? 1.0f : 0.0f)"
        dv_dh = no_spike if spec.detach_reset else f"{no_spike} + ({vr} - (z + {vth})) * sg"
    return (
        _STORAGE_C[dtype]
        + f"""
extern "C" __global__ void fused_forward(
        const store_t* __restrict__ x, const store_t* __restrict__ v0, const float v_init,
        store_t* __restrict__ spikes, store_t* __restrict__ v_last,
        store_t* __restrict__ z_seq, store_t* __restrict__ v_seq,
        const int T, const long long N) {{
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N) return;
    float v = v0 ? load(v0[i]) : v_init;
    for (int t = 0; t < T; ++t) {{
        const long long k = (long long)t * N + i;
        const float h = {leak} * v + {offset} + {gain} * load(x[k]);
        const float s = h >= {vth} ? 1.0f : 0.0f;
        {reset}
        spikes[k] = save(s);
        if (z_seq) z_seq[k] = save_z(h - {vth});
        if (v_seq) v_seq[k] = save(v);
    }}
    v_last[i] = save(v);
}}

extern "C" __global__ void fused_backward(
        const store_t* __restrict__ grad_spikes, const store_t* __restrict__ grad_v_seq,
        const store_t* __restrict__ grad_v_last, const store_t* __restrict__ z_seq,
        store_t* __restrict__ grad_x, store_t* __restrict__ grad_v0,
        const int T, const long long N) {{
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N) return;
    float carry = grad_v_last ? load(grad_v_last[i]) : 0.0f;
    for (int t = T - 1; t >= 0; --t) {{
        const long long k = (long long)t * N + i;
        const float z = load(z_seq[k]);
        const float sg = {_surrogate_c(spec)};
        const float grad_h = (grad_spikes ? load(grad_spikes[k]) * sg : 0.0f)
                             + ((grad_v_seq ? load(grad_v_seq[k]) : 0.0f) + carry) * ({dv_dh});
        grad_x[k] = save(grad_h * {gain});
        carry = grad_h * {leak};
    }}
    if (grad_v0) grad_v0[i] = save(carry);
}}
"""
    )
