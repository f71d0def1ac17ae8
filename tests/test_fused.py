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
    COMPILE_OPTIONS,
    DTYPES,
    FusedSpec,
    kernel_source,
    reference_backward,
    reference_forward,
)


def spikingjelly_node(spec: FusedSpec) -> neuron.BaseNode:
    sg = {
        "triangle": Triangle(width=spec.surrogate_param),
        "sigmoid": surrogate.Sigmoid(alpha=spec.surrogate_param),
        "atan": surrogate.ATan(alpha=spec.surrogate_param),
    }[spec.surrogate]
    common = dict(
        v_threshold=spec.v_threshold,
        v_reset=spec.v_reset,
        surrogate_function=sg,
        detach_reset=spec.detach_reset,
        step_mode="m",
        store_v_seq=True,
    )
    if spec.kind == "lif":
        return neuron.LIFNode(tau=spec.tau, decay_input=spec.decay_input, **common)
    return neuron.IFNode(**common)


SPECS = [
    FusedSpec(
        kind=kind,
        tau=2.0,
        decay_input=decay,
        v_reset=v_reset,
        detach_reset=detach,
        surrogate=sg,
        surrogate_param=param,
    )
    for kind, decay, v_reset, detach, (sg, param) in itertools.product(
        ("lif", "if"),
        (False, True),
        (0.0, None),
        (False, True),
        (("triangle", 1.0), ("sigmoid", 4.0), ("atan", 2.0)),
    )
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

    ref_s, ref_z, ref_v = reference_forward(x.detach(), spec)
    assert torch.equal(ref_s, spikes.detach())
    torch.testing.assert_close(ref_v, v_seq.detach())
    grad_x, _ = reference_backward(grad_s, grad_v, ref_z, spec)
    torch.testing.assert_close(grad_x, x.grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("spec", SPECS[::5], ids=spec_id)
def test_reference_continues_from_a_state_with_its_gradient(spec):
    # chunked and step-by-step inference start from the membrane the last call left
    torch.manual_seed(1)
    x = (torch.randn(5, 4, 3, dtype=torch.float64) + 0.5).requires_grad_(True)
    v0 = (torch.rand(4, 3, dtype=torch.float64) * 0.8).requires_grad_(True)
    node = spikingjelly_node(spec).double()
    node.v = v0
    spikes = node(x)
    grad_s, grad_last = torch.randn_like(spikes), torch.randn_like(v0)
    ((spikes * grad_s).sum() + (node.v * grad_last).sum()).backward()

    ref_s, ref_z, ref_v = reference_forward(x.detach(), spec, v0.detach())
    assert torch.equal(ref_s, spikes.detach())
    torch.testing.assert_close(ref_v[-1], node.v.detach())
    grad_x, grad_v0 = reference_backward(grad_s, None, ref_z, spec, grad_last)
    torch.testing.assert_close(grad_x, x.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grad_v0, v0.grad, rtol=1e-10, atol=1e-10)


def test_spikes_read_back_from_the_sign_of_rounded_z():
    # a negative z too small for half precision rounds to -0, which must stay "no spike"
    z = torch.tensor([-1e-9, 0.0, 1e-9, -3.0, 2.0])
    for dtype in (torch.float16, torch.bfloat16):
        rounded = z.to(dtype)
        assert (~torch.signbit(rounded)).tolist() == [False, True, True, False, True]


def test_bad_spec():
    with pytest.raises(ValueError, match="kind"):
        FusedSpec(kind="izh")
    with pytest.raises(ValueError, match="surrogate"):
        FusedSpec(surrogate="erf")
    with pytest.raises(ValueError, match="finite"):
        FusedSpec(v_threshold=float("inf"))
    with pytest.raises(ValueError, match="tau"):
        FusedSpec(tau=0.5)
    with pytest.raises(ValueError, match="surrogate_param"):
        FusedSpec(surrogate_param=0.0)
    with pytest.raises(ValueError, match="dtype"):
        kernel_source(FusedSpec(), "float64")


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc")
def test_kernels_compile_for_sm90(tmp_path):
    # every option combination in every dtype: the source differs in its storage code per
    # dtype and in its reset, detach and surrogate expressions per option
    sources = [kernel_source(spec, dtype) for spec in SPECS for dtype in DTYPES]
    # each configuration becomes its own module at run time; here each goes in its own
    # namespace, with its kernels renamed, so all fit in one translation unit
    unit = tmp_path / "all.cu"
    for i, src in enumerate(sources):
        (tmp_path / f"k{i}.cuh").write_text(src.replace("fused_", f"k{i}_fused_"))
    unit.write_text(
        "".join(f'namespace k{i} {{\n#include "k{i}.cuh"\n}}\n' for i in range(len(sources)))
    )
    result = subprocess.run(
        [
            "nvcc",
            "-arch=sm_90",
            "-cubin",
            *COMPILE_OPTIONS,
            str(unit),
            "-o",
            str(tmp_path / "all.cubin"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warning" not in result.stderr, result.stderr[-3000:]
