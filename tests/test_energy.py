"""Compute counts: fan-outs against autograd, MACs and SOPs against a network
counted by hand, and energy per operating point against a per-sample loop."""

import itertools

import numpy as np
import pytest
import torch
from conftest import random_logits
from spikingjelly.activation_based import functional, layer, neuron
from torch import nn

from spikecut.cutoff import StepOutputs, sweep
from spikecut.cutoff.costs import EnergyModel
from spikecut.inference.compute import ComputeCounter, fan_out


def brute_fan_out(conv, shape):
    """For every output, mark the inputs it depends on, via its gradient."""
    x = torch.zeros((1, *shape), requires_grad=True)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    out = conv(x)
    counts = torch.zeros(shape)
    for idx in itertools.product(*[range(d) for d in out.shape[1:]]):
        (g,) = torch.autograd.grad(out[(0, *idx)], x, retain_graph=True)
        counts += (g[0] != 0).float()
    return counts


@pytest.mark.parametrize(
    "c_in, c_out, k, stride, pad, h, w, groups",
    [
        (2, 3, 3, 1, 1, 5, 5, 1),
        (1, 2, 3, 2, 1, 6, 7, 1),
        (2, 2, 2, 2, 0, 5, 5, 1),
        (4, 4, 3, 2, 1, 7, 6, 2),
    ],
)
def test_conv_fan_out_counts_every_reader(c_in, c_out, k, stride, pad, h, w, groups):
    conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=pad, groups=groups, bias=False)
    assert torch.equal(fan_out(conv, (c_in, h, w)), brute_fan_out(conv, (c_in, h, w)))


def test_linear_fan_out():
    assert torch.equal(fan_out(nn.Linear(4, 3), (4,)), torch.full((4,), 3.0))


def tiny_network():
    conv = layer.Conv2d(1, 1, 1, bias=False, step_mode="m")
    lin = layer.Linear(4, 3, bias=False, step_mode="m")
    with torch.no_grad():
        conv.weight.fill_(1.0)
        lin.weight.fill_(0.5)
    lif = neuron.LIFNode(tau=2.0, decay_input=False, v_reset=0.0, step_mode="m")
    return nn.Sequential(conv, lif, layer.Flatten(step_mode="m"), lin)


def test_counts_of_a_network_counted_by_hand():
    model = tiny_network()
    # t = 1: one pixel at 2 -> one spike; t = 2: two fresh pixels at 2 -> two spikes
    # (the first pixel reset to 0 and gets no input)
    x = torch.tensor([[[[[2.0, 0.0], [0.0, 0.0]]]], [[[[0.0, 2.0], [2.0, 0.0]]]]])
    with ComputeCounter(model) as counter:
        model(x)
        counter.end_batch()
    counts = counter.result()
    # the 1x1 convolution reads 4 analog pixels, each reaching one output: 4 MACs a step
    np.testing.assert_array_equal(counts["macs"], [[4.0, 4.0]])
    # each spike reaches the 3 outputs of the linear layer
    np.testing.assert_array_equal(counts["sops"], [[3.0, 6.0]])


def test_counts_per_sample_across_batches():
    model = tiny_network()
    rng = torch.Generator().manual_seed(0)
    x = torch.rand(3, 5, 1, 2, 2, generator=rng) * 3
    with torch.no_grad():
        spikes = model[:2](x)  # what the linear layer will see
        functional.reset_net(model)
        with ComputeCounter(model) as counter:
            for part in (x[:, :2], x[:, 2:]):
                model(part)
                functional.reset_net(model)
                counter.end_batch()
    counts = counter.result()
    np.testing.assert_array_equal(counts["sops"], spikes.flatten(2).sum(2).T.numpy() * 3)
    np.testing.assert_array_equal(counts["macs"], np.full((5, 3), 4.0))


def test_energy_up_to_each_exit_step(rng):
    logits, labels = random_logits(rng, n=80, n_steps=4)
    cal = StepOutputs(*random_logits(rng, n=200, n_steps=4))
    test = StepOutputs(logits, labels)
    compute = {"macs": np.full((80, 4), 100.0), "sops": rng.integers(0, 50, (80, 4)) * 1.0}
    model = EnergyModel(mac_pj=2.0, ac_pj=0.5)
    curve, _ = sweep(test, cal, ["timestep", "topk"], [0.05], compute=compute, energy=model)
    for row in curve.itertuples():
        if row.policy == "timestep":
            exits = np.full(80, int(row.value))
        else:
            exits = make_exits(test, cal)
        sops = [compute["sops"][i, : exits[i]].sum() for i in range(80)]
        macs = [100.0 * exits[i] for i in range(80)]
        assert row.mean_sops == pytest.approx(np.mean(sops))
        assert row.mean_macs == pytest.approx(np.mean(macs))
        want_uj = np.mean([(2.0 * m + 0.5 * s) * 1e-6 for m, s in zip(macs, sops)])
        assert row.mean_energy_uj == pytest.approx(want_uj)


def make_exits(test, cal):
    from spikecut.cutoff import make_policy

    policy = make_policy("topk")
    return policy.exit_steps(test, policy.thresholds(cal, 0.05))


def test_bad_energy_constants():
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        EnergyModel(mac_pj=-1.0)
