"""The fused LIF/IF algorithm: the PyTorch form of the recurrences against autograd
through SpikingJelly's neurons, and the CUDA source compiled by nvcc for sm_90."""

import itertools
import shutil
import subprocess

import pytest
import torch
from spikingjelly.activation_based import neuron, surrogate

from spikecut.neurons import Triangle
from spikecut.neurons.fused import (
    DTYPES,
    FusedSpec,
    kernel_source,
    reference_backward,
    reference_forward,
)


def spikingjelly_node(spec: FusedSpec) -> neuron.BaseNode:
    sg = {"triangle": Triangle(width=spec.surrogate_param),
          "sigmoid": surrogate.Sigmoid(alpha=spec.surrogate_param),
          "atan": surrogate.ATan(alpha=spec.surrogate_param)}[spec.surrogate]
    common = dict(v_threshold=spec.v_threshold, v_reset=spec.v_reset,
                  surrogate_function=sg, detach_reset=spec.detach_reset, step_mode="m",
                  store_v_seq=True)
    if spec.kind == "lif":
        return neuron.LIFNode(tau=spec.tau, decay_input=spec.decay_input, **common)
    return neuron.IFNode(**common)


SPECS = [
    FusedSpec(kind=kind, tau=2.0, decay_input=decay, v_reset=v_reset, detach_reset=detach,
              surrogate=sg, surrogate_param=param)
    for kind, decay, v_reset, detach, (sg, param) in itertools.product(
        ("lif", "if"), (False, True), (0.0, None), (False, True),
        (("triangle", 1.0), ("sigmoid", 4.0), ("atan", 2.0)))
    if kind == "lif" or not decay
]


def spec_id(s):
    reset = "hard" if s.v_reset is not None else "soft"
    return f"{s.kind}-decay{int(s.decay_input)}-{reset}-detach{int(s.detach_reset)}-{s.surrogate}"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_reference_matches_spikingjelly_autograd(spec):
    torch.manual_seed(0)
    x = (torch.randn(7, 5, 6, dtype=torch.float64) * 1.2 + 0.6).requires_grad_(True)
    node = spikingjelly_node(spec).double()
    spikes = node(x)
    v_seq = node.v_seq
    grad_s, grad_v = torch.randn_like(spikes), torch.randn_like(v_seq)
    ((spikes * grad_s).sum() + (v_seq * grad_v).sum()).backward()

    ref_s, ref_h, ref_v = reference_forward(x.detach(), spec)
    assert torch.equal(ref_s, spikes.detach())
    torch.testing.assert_close(ref_v, v_seq.detach())
    grad_x = reference_backward(grad_s, grad_v, ref_h, spec)
    torch.testing.assert_close(grad_x, x.grad, rtol=1e-10, atol=1e-10)


def test_bad_spec():
    with pytest.raises(ValueError, match="kind"):
        FusedSpec(kind="izh")
    with pytest.raises(ValueError, match="dtype"):
        kernel_source(FusedSpec(), "float64")


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc")
def test_kernels_compile_for_sm90(tmp_path):
    # every option combination in one dtype, and every dtype for one combination
    sources = [kernel_source(spec, "float32") for spec in SPECS]
    sources += [kernel_source(SPECS[0], dtype) for dtype in DTYPES]
    unit = tmp_path / "all.cu"
    # each configuration becomes its own module at run time, so the kernels share their
    # names; renamed, they all fit in one translation unit and one nvcc call
    for i, src in enumerate(sources):
        (tmp_path / f"k{i}.cuh").write_text(src.replace("fused_", f"k{i}_fused_"))
    unit.write_text("".join(f'#include "k{i}.cuh"\n' for i in range(len(sources))))
    result = subprocess.run(["nvcc", "-arch=sm_90", "-c", str(unit), "-o",
                             str(tmp_path / "all.o")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
