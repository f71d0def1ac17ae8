"""The CuPy neurons on CUDA against the PyTorch twin of their algorithm (issue 5).
Marked gpu: skipped without CUDA, and without CuPy."""

import itertools

import pytest
import torch

from spikecut.neurons import NeuronConfig, make_neuron
from spikecut.neurons.cupy_backend import CupyIFNode, CupyLIFNode, cupy_available
from spikecut.neurons.fused import reference_backward, reference_forward

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not cupy_available(), reason="needs CUDA and CuPy"),
]

OPTIONS = list(itertools.product(("lif", "if"), (False, True), (0.0, None), (False, True),
                                 ("triangle", "sigmoid", "atan")))


def build(kind, decay, v_reset, detach, surrogate):
    cfg = NeuronConfig(kind=kind, decay_input=decay, v_reset=v_reset, detach_reset=detach,
                       surrogate=surrogate, backend="cupy")
    return make_neuron(cfg).cuda()


@pytest.mark.parametrize("kind, decay, v_reset, detach, surrogate", OPTIONS)
def test_fp32_matches_reference(kind, decay, v_reset, detach, surrogate):
    if kind == "if" and decay:
        pytest.skip("IF has no input decay")
    gen = torch.Generator().manual_seed(OPTIONS.index((kind, decay, v_reset, detach, surrogate)))
    shape = (int(torch.randint(1, 12, (), generator=gen)),
             *torch.randint(1, 9, (3,), generator=gen).tolist())
    x = (torch.randn(shape, generator=gen) * 1.5 + 0.5).cuda().requires_grad_(True)
    node = build(kind, decay, v_reset, detach, surrogate)
    node.store_v_seq = True
    assert isinstance(node, (CupyLIFNode, CupyIFNode))
    spikes = node(x)
    v_seq = node.v_seq
    spec = node._fused_spec()
    ref_s, ref_h, ref_v = reference_forward(x.detach(), spec)
    assert torch.equal(spikes.detach(), ref_s)  # bit for bit
    torch.testing.assert_close(v_seq.detach(), ref_v, rtol=1e-6, atol=1e-6)
    grad_s, grad_v = torch.randn_like(spikes), torch.randn_like(v_seq)
    ((spikes * grad_s).sum() + (v_seq * grad_v).sum()).backward()
    want = reference_backward(grad_s, grad_v, ref_h, spec)
    torch.testing.assert_close(x.grad, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype, tol", [(torch.float16, 1e-2), (torch.bfloat16, 5e-2)])
def test_half_precision_within_its_precision(dtype, tol):
    torch.manual_seed(0)
    x32 = (torch.randn(8, 64, 32) * 1.5 + 0.5).cuda()
    node = build("lif", False, 0.0, False, "triangle")
    spikes = node(x32.to(dtype))
    ref_s, _, _ = reference_forward(x32.to(dtype).float(), node._fused_spec())
    # a spike may flip only where h sits within rounding of the threshold
    assert (spikes.float() != ref_s).float().mean() < tol


def test_state_continues_on_the_reference_path():
    node = build("lif", False, 0.0, False, "triangle")
    x = torch.rand(4, 10).cuda()
    node(x)  # fused: leaves a tensor state
    node(x)  # not from rest: SpikingJelly's path, same dynamics
    assert isinstance(node.v, torch.Tensor)
