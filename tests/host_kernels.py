"""The fused kernels' CUDA source, compiled by g++ and run on the CPU.

A few lines stand in for the CUDA built-ins and a loop plays the grid: one call per
thread, plus a few threads past the end to exercise the bounds guard. ``use_host_kernels``
routes spikecut's CuPy nodes through these, so their Python side (autograd plumbing,
optional arrays, state handling) runs wherever g++ does. float16 storage converts with
PTX instructions and has no host build.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import torch

from spikecut.neurons import cupy_backend, factory
from spikecut.neurons.fused import FusedSpec, kernel_source

HAVE_GXX = shutil.which("g++") is not None

SHIM = """
#include <math.h>
#include <string.h>
#define __global__
#define __device__
#define __forceinline__ inline
struct grid_index { unsigned int x; };
static grid_index blockIdx, blockDim = {1}, threadIdx = {0};
static inline float __uint_as_float(unsigned int u) { float f; memcpy(&f, &u, 4); return f; }
static inline unsigned int __float_as_uint(float f) { unsigned int u; memcpy(&u, &f, 4); return u; }
"""

GRID = """
extern "C" void run_forward(const store_t* x, const store_t* v0, float v_init,
                            store_t* spikes, store_t* v_last, store_t* z_seq,
                            store_t* v_seq, int T, long long N) {
    for (long long b = 0; b < N + 3; ++b) {
        blockIdx.x = (unsigned int)b;
        fused_forward(x, v0, v_init, spikes, v_last, z_seq, v_seq, T, N);
    }
}
extern "C" void run_backward(const store_t* gs, const store_t* gv, const store_t* gl,
                             const store_t* z, store_t* gx, store_t* gv0, int T, long long N) {
    for (long long b = 0; b < N + 3; ++b) {
        blockIdx.x = (unsigned int)b;
        fused_backward(gs, gv, gl, z, gx, gv0, T, N);
    }
}
"""

_FORWARD_ARGS = (
    [ctypes.c_void_p] * 2
    + [ctypes.c_float]
    + [ctypes.c_void_p] * 4
    + [ctypes.c_int, ctypes.c_longlong]
)
_BACKWARD_ARGS = [ctypes.c_void_p] * 6 + [ctypes.c_int, ctypes.c_longlong]


def compile_host(spec: FusedSpec, dtype: str, workdir: Path) -> ctypes.CDLL:
    workdir.mkdir(parents=True, exist_ok=True)
    src, lib = workdir / "kernels.cpp", workdir / "kernels.so"
    src.write_text(SHIM + kernel_source(spec, dtype) + GRID)
    # no FMA contraction: the same rounding as the GPU build (--fmad=false)
    result = subprocess.run(
        ["g++", "-O2", "-ffp-contract=off", "-shared", "-fPIC", str(src), "-o", str(lib)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    cdll = ctypes.CDLL(str(lib))
    cdll.run_forward.argtypes = _FORWARD_ARGS
    cdll.run_backward.argtypes = _BACKWARD_ARGS
    return cdll


def use_host_kernels(monkeypatch, workdir: Path) -> None:
    """Route the CuPy nodes through host builds of their kernels, for CPU tensors."""
    libs: dict = {}

    def kernels(spec, dtype, device):
        if (spec, dtype) not in libs:
            lib = compile_host(spec, dtype, workdir / str(len(libs)))
            libs[spec, dtype] = (lib.run_forward, lib.run_backward)
        return libs[spec, dtype]

    def launch(kernel, device, n, *args):
        kernel(*[int(a) or None if isinstance(a, np.uint64) else a.item() for a in args])

    # a fresh self-check for these builds, and fresh warnings
    cupy_backend.kernel_problem.cache_clear()
    cupy_backend._warn_fallback.cache_clear()
    monkeypatch.setattr(cupy_backend, "_kernels", kernels)
    monkeypatch.setattr(cupy_backend, "_launch", launch)
    monkeypatch.setattr(
        cupy_backend, "_runs_here", lambda x: x.dtype in (torch.float32, torch.bfloat16)
    )
    monkeypatch.setattr(factory, "cupy_available", lambda: True)
