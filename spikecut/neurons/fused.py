"""The fused multi-step LIF/IF algorithm behind the CuPy kernels (issue 5), in two forms.

* :func:`kernel_source` writes the CUDA C source: one thread owns one neuron across all
  T steps; the forward pass stores the pre-spike potential h(t) (for the surrogate) and
  the post-reset membrane v(t) (for RCS, so no second pass is needed); the backward pass
  walks time in reverse from those.
* :func:`reference_forward` and :func:`reference_backward` are the same recurrences in
  PyTorch, step by step. They are checked against autograd through SpikingJelly on the
  CPU, which validates the hand-derived backward pass wherever a GPU is missing.

Dynamics (SPEC §3, SpikingJelly's conventions), with k = 1 - 1/tau:
  LIF, decay_input=False:  h = k v + v_reset / tau + x
  LIF, decay_input=True:   h = k v + (x + v_reset) / tau
  IF:                      h = v + x
  s = H(h - v_th);  hard reset: v = h (1 - s) + v_reset s;  soft reset: v = h - v_th s
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

SURROGATE_KINDS = ("triangle", "sigmoid", "atan")
DTYPES = {"float32": "float", "float16": "__half", "bfloat16": "__nv_bfloat16"}


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
    def v_init(self) -> float:
        return 0.0 if self.v_reset is None else self.v_reset


def surrogate_grad(z: torch.Tensor, spec: FusedSpec) -> torch.Tensor:
    """dS/dz at z = h - v_th for the spec's surrogate."""
    a = spec.surrogate_param
    if spec.surrogate == "triangle":
        return (a - z.abs()).clamp_min(0) / (a * a)
    if spec.surrogate == "sigmoid":
        sig = torch.sigmoid(a * z)
        return a * sig * (1 - sig)
    return (a / 2) / (1 + (math.pi / 2 * a * z) ** 2)


def reference_forward(x: torch.Tensor, spec: FusedSpec
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spikes, pre-spike potentials h and post-reset membranes v, each ``[T, ...]``."""
    v = torch.full_like(x[0], spec.v_init)
    spikes, hs, vs = [], [], []
    for t in range(x.shape[0]):
        h = spec.leak * v + spec.offset + spec.input_gain * x[t]
        s = (h >= spec.v_threshold).to(x.dtype)
        if spec.v_reset is None:
            v = h - spec.v_threshold * s
        else:
            v = h * (1 - s) + spec.v_reset * s
        spikes.append(s)
        hs.append(h)
        vs.append(v)
    return torch.stack(spikes), torch.stack(hs), torch.stack(vs)


def reference_backward(grad_spikes: torch.Tensor, grad_v: torch.Tensor, h: torch.Tensor,
                       spec: FusedSpec) -> torch.Tensor:
    """grad of the input x from the grads of spikes and of post-reset membranes."""
    grad_x = torch.empty_like(h)
    carry = torch.zeros_like(h[0])  # dL/dv(t) arriving from step t + 1
    for t in reversed(range(h.shape[0])):
        z = h[t] - spec.v_threshold
        sg = surrogate_grad(z, spec)
        s = (z >= 0).to(h.dtype)
        if spec.v_reset is None:
            dv_dh = 1.0 if spec.detach_reset else 1.0 - spec.v_threshold * sg
        else:
            dv_dh = (1 - s) + (0.0 if spec.detach_reset else (spec.v_reset - h[t]) * sg)
        grad_h = grad_spikes[t] * sg + (grad_v[t] + carry) * dv_dh
        grad_x[t] = grad_h * spec.input_gain
        carry = grad_h * spec.leak
    return grad_x


def _surrogate_c(spec: FusedSpec) -> str:
    a = repr(float(spec.surrogate_param))
    if spec.surrogate == "triangle":
        return f"fmaxf({a}f - fabsf(z), 0.0f) / ({a}f * {a}f)"
    if spec.surrogate == "sigmoid":
        sig = f"(1.0f / (1.0f + expf(-{a}f * z)))"
        return f"{a}f * {sig} * (1.0f - {sig})"
    c = repr(math.pi / 2)
    return f"({a}f * 0.5f) / (1.0f + ({c}f * {a}f * z) * ({c}f * {a}f * z))"


def kernel_source(spec: FusedSpec, dtype: str = "float32") -> str:
    """CUDA C for the forward and backward kernels of ``spec`` with ``dtype`` storage
    (float32, float16 or bfloat16); arithmetic is float32 throughout."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}")
    t = DTYPES[dtype]
    to_f = {"float": "(float)", "__half": "__half2float", "__nv_bfloat16": "__bfloat162float"}[t]
    from_f = {"float": "(float)", "__half": "__float2half",
              "__nv_bfloat16": "__float2bfloat16"}[t]
    vth, leak, gain = (repr(float(v)) for v in (spec.v_threshold, spec.leak, spec.input_gain))
    offset, v_init = repr(float(spec.offset)), repr(float(spec.v_init))
    if spec.v_reset is None:
        reset = f"v = h - {vth}f * s;"
        dv_dh = "1.0f" if spec.detach_reset else f"1.0f - {vth}f * sg"
    else:
        vr = repr(float(spec.v_reset))
        reset = f"v = h * (1.0f - s) + {vr}f * s;"
        dv_dh = "(1.0f - s)" if spec.detach_reset else f"(1.0f - s) + ({vr}f - h) * sg"
    return f"""
#include <cuda_fp16.h>
#include <cuda_bf16.h>

extern "C" __global__ void fused_forward(const {t}* __restrict__ x, {t}* __restrict__ spikes,
                                         float* __restrict__ h_seq, {t}* __restrict__ v_seq,
                                         const int T, const long long N) {{
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N) return;
    float v = {v_init}f;
    for (int t = 0; t < T; ++t) {{
        const long long k = (long long)t * N + i;
        const float h = {leak}f * v + {offset}f + {gain}f * {to_f}(x[k]);
        const float s = h >= {vth}f ? 1.0f : 0.0f;
        {reset}
        spikes[k] = {from_f}(s);
        h_seq[k] = h;
        v_seq[k] = {from_f}(v);
    }}
}}

extern "C" __global__ void fused_backward(const {t}* __restrict__ grad_spikes,
                                          const {t}* __restrict__ grad_v,
                                          const float* __restrict__ h_seq,
                                          {t}* __restrict__ grad_x,
                                          const int T, const long long N) {{
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N) return;
    float carry = 0.0f;
    for (int t = T - 1; t >= 0; --t) {{
        const long long k = (long long)t * N + i;
        const float h = h_seq[k];
        const float z = h - {vth}f;
        const float sg = {_surrogate_c(spec)};
        const float s = z >= 0.0f ? 1.0f : 0.0f;
        const float grad_h = {to_f}(grad_spikes[k]) * sg
                             + ({to_f}(grad_v[k]) + carry) * ({dv_dh});
        grad_x[k] = {from_f}(grad_h * {gain}f);
        carry = grad_h * {leak}f;
    }}
}}
"""
