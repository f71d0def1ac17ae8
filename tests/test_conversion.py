import copy

import pytest
import torch
from spikingjelly.activation_based import functional, layer
from torch import nn

from spikecut.conversion import QCFS, ConvertedIFNode, convert_qcfs_to_snn
from spikecut.models import MODELS, build_model
from spikecut.regularisers import QCFSRCS, peak_to_rms, rcs_ann

QCFS_ROLE = {"kind": "qcfs", "levels": 4, "theta": 1.0}


def test_qcfs_by_hand():
    q = QCFS(levels=4, theta=2.0)
    a = torch.tensor([-1.0, 0.3, 0.26, 0.7, 1.0, 1.3, 1.9, 3.0], requires_grad=True)
    # floor(a * 4 / 2 + 0.5) / 4, clipped to [0, 1], times 2
    want = torch.tensor([0.0, 0.5, 0.5, 0.5, 1.0, 1.5, 2.0, 2.0])
    out = q(a)
    torch.testing.assert_close(out, want)
    out.sum().backward()
    # straight-through floor: gradient 1 inside the clip range, 0 outside
    torch.testing.assert_close(a.grad, torch.tensor([0.0, 1, 1, 1, 1, 1, 0, 0]))
    assert q.theta.grad is not None
    with pytest.raises(ValueError, match="level"):
        QCFS(levels=0)


def test_if_neuron_settings():
    node = ConvertedIFNode(theta=2.0)
    assert node.v_reset is None and node.v_threshold == 2.0 and node.v == 1.0
    out = node(torch.full((4, 1), 0.9))  # v: 1.9, 2.8 -> spike, 1.7, 2.6 -> spike
    assert out.flatten().tolist() == [0.0, 2.0, 0.0, 2.0]
    functional.reset_net(node)
    assert node.v == 1.0


def random_qcfs_net(levels=4, seed=0):
    torch.manual_seed(seed)
    model = build_model("convsnn", (1, 8, 8), 10, {"kind": "qcfs", "levels": levels,
                        "theta": 1.0}, channels=[8, 8, 8], pool="avg", min_pool_size=2)
    for q in model.modules():
        if isinstance(q, QCFS):
            q.theta.data.fill_(float(torch.rand(()) + 0.5))
    return model.eval()


def layer_outputs(model, x, layer_type, n_steps):
    """Per converted (or QCFS) layer: the output averaged over time, ``[B, ...]``."""
    outs = []
    hooks = [m.register_forward_hook(lambda mod, i, o: outs.append(o.mean(0)))
             for m in model.modules() if isinstance(m, layer_type)]
    with torch.no_grad():
        model(x.unsqueeze(0).expand(n_steps, *x.shape))
    functional.reset_net(model)
    for h in hooks:
        h.remove()
    return outs


def test_snn_equals_qcfs_ann_at_T_equal_L():
    # the QCFS claim: with the theta/2 start, T = L steps reproduce the ANN
    model = random_qcfs_net(levels=4)
    x = torch.rand(64, 1, 8, 8)
    ann = layer_outputs(model, x, QCFS, 1)
    snn, _ = convert_qcfs_to_snn(model)
    for got, want in zip(layer_outputs(snn, x, ConvertedIFNode, 4), ann):
        assert (got - want).abs().mean() < 1e-3


def test_snn_approaches_the_clipped_ann_as_T_grows():
    # Beyond T = L the IF rate keeps refining: it tends to theta * clip(a / theta, 0, 1),
    # the QCFS without its quantisation, with a worst-case error that falls as 1/T.
    model = random_qcfs_net(levels=4)
    x = torch.rand(64, 1, 8, 8)
    unquantised = copy.deepcopy(model)
    thetas = []
    for q in unquantised.modules():
        if isinstance(q, QCFS):
            q.levels = 10**7
            thetas.append(q.theta.item())
    ann = layer_outputs(unquantised, x, QCFS, 1)
    snn, _ = convert_qcfs_to_snn(model)
    previous = [float("inf")] * len(ann)
    for n_steps in (8, 32, 128, 512):
        outs = layer_outputs(snn, x, ConvertedIFNode, n_steps)
        for i, (got, want) in enumerate(zip(outs, ann)):
            err = (got - want).abs().max().item()
            assert err <= 2 * thetas[i] / n_steps, (i, n_steps, err)
            assert err < previous[i]
            previous[i] = err


SMALLEST_INPUT = {"vgg16": (3, 32, 32), "vggsnn": (2, 16, 16), "dvs_vgg": (2, 32, 32)}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_qcfs_layer_of_every_model_converts(name):
    shape = SMALLEST_INPUT.get(name, (2, 16, 16))
    model = build_model(name, shape, 10, QCFS_ROLE)
    n_qcfs = sum(isinstance(m, QCFS) for m in model.modules())
    snn, count = convert_qcfs_to_snn(model)
    assert count == n_qcfs > 0
    assert sum(isinstance(m, ConvertedIFNode) for m in snn.modules()) == n_qcfs
    assert not any(isinstance(m, QCFS) for m in snn.modules())
    assert any(isinstance(m, QCFS) for m in model.modules())  # the ANN is untouched
    assert snn(torch.rand(3, 2, *shape)).shape == (3, 2, 10)


def test_conversion_count_by_hand():
    # convsnn with three blocks has three QCFS layers; ResNet-20 has the stem's plus
    # one after each of the 9 residual sums and one inside each block: 1 + 9 + 9
    assert convert_qcfs_to_snn(build_model("convsnn", (2, 34, 34), 10, QCFS_ROLE,
                                           channels=[4, 8, 8]))[1] == 3
    assert convert_qcfs_to_snn(build_model("resnet20", (3, 32, 32), 10, QCFS_ROLE))[1] == 19
    assert convert_qcfs_to_snn(build_model("vgg16", (3, 32, 32), 10, QCFS_ROLE))[1] == 15


def test_unsupported_activation_fails_loudly():
    relu_net = nn.Sequential(layer.Linear(4, 4, step_mode="m"), nn.ReLU(), QCFS())
    with pytest.raises(TypeError, match=r"cannot convert activations \['1 \(ReLU\)'\]"):
        convert_qcfs_to_snn(relu_net)
    with pytest.raises(ValueError, match="no QCFS layer"):
        convert_qcfs_to_snn(nn.Sequential(layer.Linear(4, 4, step_mode="m")))
    snn_role = {"kind": "snn", "neuron": {}}
    with pytest.raises(TypeError, match="LIFNode"):
        convert_qcfs_to_snn(build_model("convsnn", (1, 8, 8), 10, snn_role, channels=[4]))
    with pytest.raises(TypeError, match="MultiStepReLU"):
        convert_qcfs_to_snn(build_model("resnet20", (3, 32, 32), 10, {"kind": "ann"}))


def test_ann_rcs_by_hand():
    # layer 1, three samples: ReLU(a) = [2, 0, 0, 0] -> max 2, rms 1 -> 2;
    # [1, 1, 1, 1] -> 1; [3, 0, 0, 0] (misclassified) -> ignored
    a1 = torch.tensor([[2.0, -1, 0, 0], [1, 1, 1, 1], [3, 0, -5, 0]])
    # layer 2: [1, 1] -> 1; [4, 0] -> 4 / sqrt(8) = sqrt(2); ignored
    a2 = torch.tensor([[1.0, 1], [4, 0], [9, 9]])
    logits = torch.tensor([[1.0, 0], [0, 1], [1, 0]])
    labels = torch.tensor([0, 1, 1])
    torch.testing.assert_close(peak_to_rms(a1), torch.tensor([2.0, 1.0, 2.0]))
    got_max = rcs_ann([a1, a2], logits, labels, "max")
    assert got_max.item() == pytest.approx((2.0 + 2**0.5) / 2, rel=1e-6)
    got_mean = rcs_ann([a1, a2], logits, labels, "mean")
    assert got_mean.item() == pytest.approx((1.5 + (1 + 2**0.5) / 2) / 2, rel=1e-6)
    assert rcs_ann([a1, a2], logits, torch.tensor([1, 0, 1])).item() == 0.0


def test_ann_rcs_regulariser_records_qcfs_inputs():
    model = build_model("convsnn", (1, 8, 8), 10, QCFS_ROLE, channels=[4, 4], pool="avg")
    reg = QCFSRCS(model)
    x = torch.rand(1, 5, 1, 8, 8)
    with reg:
        logits = model(x)
    assert [a.shape[0] for a in reg.preacts] == [5, 5]
    value = reg.value(logits, logits[-1].argmax(-1))  # every sample "correct"
    assert value.item() >= 1.0  # max / RMS is at least 1 for an active sample
    assert not any(m._forward_hooks for m in model.modules())
    with pytest.raises(ValueError, match="no QCFS"):
        QCFSRCS(nn.Sequential(nn.Linear(2, 2)))
