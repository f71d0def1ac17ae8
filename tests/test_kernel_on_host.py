"""The CUDA source of the fused kernels, executed on the CPU (see tests/host_kernels.py):
indexing, optional arrays, state and bfloat16 rounding checked against the PyTorch
reference on machines without a GPU."""

import numpy as np
import pytest
import torch

from spikecut.neurons.fused import (
    FusedSpec,
    reference_backward,
    reference_forward,
)
from tests.host_kernels import HAVE_GXX, compile_host
from tests.test_fused import SPECS, spec_id

pytestmark = pytest.mark.skipif(not HAVE_GXX, reason="needs g++")

STORAGE = {"float32": (torch.float32, np.float32), "bfloat16": (torch.bfloat16, np.uint16)}


class HostKernels:
    def __init__(self, spec: FusedSpec, dtype: str, tmp_path):
        self.lib = compile_host(spec, dtype, tmp_path / dtype)
        self.torch_dtype, self.np_dtype = STORAGE[dtype]

    def to_np(self, t):
        if t is None:
            return None
        t = t.to(self.torch_dtype).contiguous()
        if self.torch_dtype == torch.bfloat16:
            return t.view(torch.int16).numpy().view(np.uint16).copy()
        return t.numpy().copy()

    def to_torch(self, a):
        if a is None:
            return None
        if self.torch_dtype == torch.bfloat16:
            return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16).float()
        return torch.from_numpy(a)

    @staticmethod
    def ptr(a):
        return None if a is None else a.ctypes.data

    def empty(self, shape, wanted=True):
        # a sentinel fill shows any element the kernel forgot to write
        return (
            np.full(shape, 0x7FC1 if self.np_dtype == np.uint16 else np.nan, self.np_dtype)
            if wanted
            else None
        )

    def forward(self, x, v0=None, v_init=0.0, want_z=True, want_v=True):
        x = self.to_np(x)
        T, n = x.shape[0], x[0].size
        spikes, v_last = self.empty(x.shape), self.empty(x.shape[1:])
        z, v_seq = self.empty(x.shape, want_z), self.empty(x.shape, want_v)
        self.lib.run_forward(
            self.ptr(x),
            self.ptr(self.to_np(v0)),
            v_init,
            self.ptr(spikes),
            self.ptr(v_last),
            self.ptr(z),
            self.ptr(v_seq),
            T,
            n,
        )
        return tuple(map(self.to_torch, (spikes, v_last, z, v_seq)))

    def backward(self, grad_s, grad_v, grad_last, z, want_v0=True):
        gs, gv, gl, zs = map(self.to_np, (grad_s, grad_v, grad_last, z))
        gx, gv0 = self.empty(zs.shape), self.empty(zs.shape[1:], want_v0)
        self.lib.run_backward(
            self.ptr(gs),
            self.ptr(gv),
            self.ptr(gl),
            self.ptr(zs),
            self.ptr(gx),
            self.ptr(gv0),
            zs.shape[0],
            zs[0].size,
        )
        return self.to_torch(gx), self.to_torch(gv0)


@pytest.mark.parametrize("spec", SPECS[::3], ids=spec_id)
def test_float32_kernels_equal_the_reference(spec, tmp_path):
    kernels = HostKernels(spec, "float32", tmp_path)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(6, 5, 7, generator=gen) * 1.5 + 0.5
    spikes, v_last, z, v_seq = kernels.forward(x, v_init=spec.v_rest)
    ref_s, ref_z, ref_v = reference_forward(x, spec)
    assert torch.equal(spikes, ref_s)  # bit for bit, as on the GPU
    assert torch.equal(v_seq, ref_v) and torch.equal(z, ref_z)
    assert torch.equal(v_last, ref_v[-1])

    grad_s, grad_v = torch.randn(x.shape, generator=gen), torch.randn(x.shape, generator=gen)
    grad_x, grad_v0 = kernels.backward(grad_s, grad_v, None, z)
    want_x, want_v0 = reference_backward(grad_s, grad_v, ref_z, spec)
    torch.testing.assert_close(grad_x, want_x, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad_v0, want_v0, rtol=1e-5, atol=1e-6)


def test_state_in_and_out_and_absent_arrays(tmp_path):
    spec = FusedSpec(kind="lif", v_reset=None, surrogate="atan", surrogate_param=2.0)
    kernels = HostKernels(spec, "float32", tmp_path)
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(5, 11, generator=gen) + 0.4
    v0 = torch.rand(11, generator=gen)
    # inference: no z, no v_seq; the state comes from v0 and leaves through v_last
    spikes, v_last, z, v_seq = kernels.forward(x, v0=v0, want_z=False, want_v=False)
    ref_s, ref_z, ref_v = reference_forward(x, spec, v0)
    assert z is None and v_seq is None
    assert torch.equal(spikes, ref_s) and torch.equal(v_last, ref_v[-1])
    # two chunks, or one step at a time, give the same as one call
    s1, v1, _, _ = kernels.forward(x[:2], v0=v0, want_z=False, want_v=False)
    s2, v2, _, _ = kernels.forward(x[2:3], v0=v1, want_z=False, want_v=False)
    s3, v3, _, _ = kernels.forward(x[3:], v0=v2, want_z=False, want_v=False)
    assert torch.equal(torch.cat([s1, s2, s3]), ref_s) and torch.equal(v3, ref_v[-1])
    # only the final membrane's gradient flows back
    grad_last = torch.randn(11, generator=gen)
    grad_x, grad_v0 = kernels.backward(None, None, grad_last, ref_z)
    want_x, want_v0 = reference_backward(None, None, ref_z, spec, grad_last)
    torch.testing.assert_close(grad_x, want_x, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad_v0, want_v0, rtol=1e-5, atol=1e-6)
    _, no_v0 = kernels.backward(grad_last.expand(5, 11), None, None, ref_z, want_v0=False)
    assert no_v0 is None


def test_bfloat16_storage_rounds_like_torch(tmp_path):
    spec = FusedSpec(kind="lif", surrogate="sigmoid", surrogate_param=4.0)
    kernels = HostKernels(spec, "bfloat16", tmp_path)
    gen = torch.Generator().manual_seed(5)
    x = (torch.randn(8, 300, generator=gen) * 2 + 0.5).to(torch.bfloat16).float()
    spikes, v_last, z, v_seq = kernels.forward(x, v_init=0.0)
    # the membrane stays float32 inside the kernel; only what is stored is rounded
    ref_s, ref_z, ref_v = reference_forward(x, spec)
    assert torch.equal(spikes, ref_s)
    assert torch.equal(v_seq, ref_v.to(torch.bfloat16).float())  # round to nearest even
    assert torch.equal(z, ref_z.to(torch.bfloat16).float())

    grad_s = torch.randn(x.shape, generator=gen).to(torch.bfloat16).float()
    grad_x, _ = kernels.backward(grad_s, None, None, z)
    want_x, _ = reference_backward(grad_s, None, z, spec)
    torch.testing.assert_close(grad_x, want_x, rtol=2**-7, atol=1e-6)


def test_bfloat16_rounding_of_special_values(tmp_path):
    # an IF neuron that cannot reach its threshold, started from the float32 value v_init
    # and driven by x = 0, stores v = v_init: the kernel's own float32 -> bfloat16 rounding
    spec = FusedSpec(kind="if", v_reset=None, v_threshold=3.4e38)
    kernels = HostKernels(spec, "bfloat16", tmp_path)
    values = torch.tensor(
        [
            float("nan"),
            -float("inf"),
            3.0e38,
            -2.5,
            1e-40,
            1 + 2**-8,
            1 + 3 * 2**-8,
            1 + 2**-8 + 2**-20,
        ]
    )
    assert values.view(torch.int32)[5] & 0xFFFF == 0x8000  # a tie: goes to the even side
    stored = torch.stack(
        [
            kernels.forward(torch.zeros(1, 1), v_init=float(v), want_z=False, want_v=False)[1][0]
            for v in values
        ]
    )
    assert torch.isnan(stored[0])
    assert torch.equal(stored[1:], values[1:].to(torch.bfloat16).float())
