"""The CPU inference loop of spikecut's nodes against SpikingJelly's own nodes, bit for
bit, and the cases it must leave to SpikingJelly."""

import itertools

import pytest
import torch
from spikingjelly.activation_based import functional, neuron

from spikecut.conversion import ConvertedIFNode
from spikecut.neurons import NeuronConfig, cupy_backend, make_neuron
from spikecut.neurons.cupy_backend import CupyIFNode, CupyLIFNode
from spikecut.neurons.host import host_applies

OPTIONS = [
    o
    for o in itertools.product(("lif", "if"), (False, True), ("hard", "soft"))
    if o[0] == "lif" or not o[1]
]


def pair(kind, decay, reset, seed):
    """spikecut's node (torch backend) and SpikingJelly's, with the same random
    parameters; thresholds and inputs on a grid of quarters, so that charges land on
    the threshold exactly and ties are tested."""
    gen = torch.Generator().manual_seed(seed)

    def quarter(lo, hi):
        return float(torch.randint(lo, hi + 1, (), generator=gen)) / 4

    cfg = NeuronConfig(
        kind=kind,
        tau=quarter(5, 16),
        decay_input=decay,
        v_threshold=quarter(2, 6),
        v_reset=quarter(-1, 1) if reset == "hard" else None,
        backend="torch",
    )
    ours = make_neuron(cfg)
    common = dict(
        v_threshold=cfg.v_threshold,
        v_reset=cfg.v_reset,
        surrogate_function=ours.surrogate_function,
        step_mode="m",
    )
    if kind == "lif":
        theirs = neuron.LIFNode(tau=cfg.tau, decay_input=decay, **common)
    else:
        theirs = neuron.IFNode(**common)
    x = torch.randint(-4, 17, (6, 3, 5, 7), generator=gen).float() / 4
    return ours, theirs, x


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(map(str, o)))
@pytest.mark.parametrize("seed", range(3))
def test_host_loop_equals_spikingjelly_bit_for_bit(options, seed, monkeypatch):
    ours, theirs, x = pair(*options, seed)
    assert isinstance(ours, CupyLIFNode | CupyIFNode) and not ours.fused
    calls = spy(monkeypatch)
    with torch.no_grad():
        # two chunks: the second continues from the membrane the first left
        spikes = []
        for chunk in (x[:4], x[4:]):
            got, want = ours(chunk), theirs(chunk)
            assert torch.equal(got, want) and got.dtype == want.dtype
            assert torch.equal(ours.v, theirs.v)
            spikes.append(got)
        assert 0 < torch.cat(spikes).sum() < x.numel()  # some spikes, not all
        functional.reset_net(ours), functional.reset_net(theirs)
        ours.step_mode = theirs.step_mode = "s"
        for x_t in x:
            assert torch.equal(ours(x_t), theirs(x_t))
            assert torch.equal(ours.v, theirs.v)
        # a membrane left by another batch size restarts, as SpikingJelly's does
        assert torch.equal(ours(x[0, :2]), theirs(x[0, :2]))
        assert torch.equal(ours.v, theirs.v)
    assert len(calls) == 2 + len(x) + 1  # every call above took the host loop


def spy(monkeypatch) -> list:
    """The calls of the host loop, recorded."""
    calls = []
    real = cupy_backend.host_multi_step
    monkeypatch.setattr(cupy_backend, "host_multi_step", lambda *a: calls.append(1) or real(*a))
    return calls


def test_the_host_loop_runs_only_for_float32_inference_on_the_cpu(monkeypatch):
    ours, theirs, x = pair("lif", False, "hard", 0)
    calls = spy(monkeypatch)
    with torch.no_grad():
        ours(x)
    assert calls == [1]
    # training: SpikingJelly's autograd path, with its gradient
    functional.reset_net(ours)
    x_grad = x.clone().requires_grad_()
    ours(x_grad).sum().backward()
    x_sj = x.clone().requires_grad_()
    theirs(x_sj).sum().backward()
    assert calls == [1] and torch.equal(x_grad.grad, x_sj.grad)
    # an input that wants no gradient needs none, even with autograd on
    functional.reset_net(ours)
    ours(x)
    assert calls == [1, 1]
    assert not host_applies(x.double(), store_v_seq=False)
    assert not host_applies(x, store_v_seq=True)
    assert not host_applies(x.requires_grad_(), store_v_seq=False)


def test_spikingjelly_backend_keeps_spikingjelly_nodes():
    node = make_neuron(NeuronConfig(backend="spikingjelly"))
    assert type(node) is neuron.LIFNode


def test_converted_if_node_takes_the_host_loop_with_the_same_outputs(monkeypatch):
    torch.manual_seed(0)
    x = torch.rand(8, 4, 16) * 2
    node = ConvertedIFNode(theta=1.5)
    with torch.no_grad():
        fast = node(x)
        fast_v = node.v.clone()
        functional.reset_net(node)
        monkeypatch.setattr(cupy_backend, "host_applies", lambda *a: False)
        slow = node(x)
    assert torch.equal(fast, slow) and torch.equal(fast_v, node.v)
    assert set(fast.unique().tolist()) == {0.0, 1.5}  # theta per spike
