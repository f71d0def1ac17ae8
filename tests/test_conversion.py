import copy

import pytest
import torch
import torch.nn.functional as F
from spikingjelly.activation_based import functional, layer
from torch import nn

from spikecut.conversion import QCFS, ConvertedIFNode, convert_qcfs_to_snn
from spikecut.models import MODELS, build_model
from spikecut.regularisers import RCSSettings
from spikecut.regularisers.rcs_ann import QCFSRCS, peak_to_rms, rcs_ann

DEFAULT = RCSSettings()  # the authors' aggregation (max) and peak (batch)

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
    model = build_model(
        "convsnn",
        (1, 8, 8),
        10,
        {"kind": "qcfs", "levels": levels, "theta": 1.0},
        channels=[8, 8, 8],
        pool="avg",
        min_pool_size=2,
    )
    for q in model.modules():
        if isinstance(q, QCFS):
            q.theta.data.fill_(float(torch.rand(()) + 0.5))
    return model.eval()


def layer_outputs(model, x, layer_type, n_steps):
    """Per converted (or QCFS) layer: the output averaged over time, ``[B, ...]``."""
    outs = []
    hooks = [
        m.register_forward_hook(lambda mod, i, o: outs.append(o.mean(0)))
        for m in model.modules()
        if isinstance(m, layer_type)
    ]
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
    assert (
        convert_qcfs_to_snn(build_model("convsnn", (2, 34, 34), 10, QCFS_ROLE, channels=[4, 8, 8]))[
            1
        ]
        == 3
    )
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


def rms(*values):
    return (sum(v * v for v in values) / len(values) + 1e-5) ** 0.5


def test_ann_rcs_by_hand():
    # layer 1, three samples: ReLU(a) = [2, 0, 0, 0], [1, 1, 1, 1], [3, 0, 0, 0]
    # (misclassified, but its 3 is the batch peak)
    a1 = torch.tensor([[2.0, -1, 0, 0], [1, 1, 1, 1], [3, 0, -5, 0]])
    # layer 2: [1, 1], [4, 0], [9, 9] (misclassified)
    a2 = torch.tensor([[1.0, 1], [4, 0], [9, 9]])
    logits = torch.tensor([[1.0, 0], [0, 1], [1, 0]])
    labels = torch.tensor([0, 1, 1])
    own = [2 / rms(2, 0, 0, 0), 1 / rms(1, 1, 1, 1), 3 / rms(3, 0, 0, 0)]
    batch = [3 / rms(2, 0, 0, 0), 3 / rms(1, 1, 1, 1), 3 / rms(3, 0, 0, 0)]
    torch.testing.assert_close(peak_to_rms(a1, "sample")[0], torch.tensor(own))
    torch.testing.assert_close(peak_to_rms(a1, "batch")[0], torch.tensor(batch))
    assert RCSSettings().ann_peak == "batch"  # the authors' peak is the default
    layer2 = {"sample": [1 / rms(1, 1), 4 / rms(4, 0)], "batch": [9 / rms(1, 1), 9 / rms(4, 0)]}
    layer1 = {"sample": own[:2], "batch": batch[:2]}
    for peak in ("batch", "sample"):
        got_max = rcs_ann([a1, a2], logits, labels, RCSSettings(aggregation="max", ann_peak=peak))
        want = (max(layer1[peak]) + max(layer2[peak])) / 2
        assert got_max.item() == pytest.approx(want, rel=1e-6)
        got_mean = rcs_ann([a1, a2], logits, labels, RCSSettings(aggregation="mean", ann_peak=peak))
        want = (sum(layer1[peak]) / 2 + sum(layer2[peak]) / 2) / 2
        assert got_mean.item() == pytest.approx(want, rel=1e-6)
    assert rcs_ann([a1, a2], logits, torch.tensor([1, 0, 1]), DEFAULT).item() == 0.0
    with pytest.raises(ValueError, match="ann_peak"):
        RCSSettings(ann_peak="layer")


def authors_rcs_ann(preacts, logits, labels):
    """RCSANN and RCSANNLoss of github Dengyu-Wu/snncutoff, restated: per layer
    max(ReLU(a) over the whole batch) / sqrt(mean ReLU(a)^2 + 1e-5) per sample; masked
    to correct samples; max over samples; mean over layers."""
    mask = (logits.argmax(-1) == labels).float()
    per_layer = []
    for a in preacts:
        r = torch.clamp(a, min=0).flatten(1)
        value = r.max() / (r.pow(2).mean(dim=1) + 1e-5) ** 0.5
        per_layer.append((value * mask).max())
    return torch.stack(per_layer).mean()


@pytest.mark.parametrize("batch", [2, 16, 64])
def test_ann_rcs_is_the_authors_batch_peak(batch):
    gen = torch.Generator().manual_seed(batch)
    preacts = [
        torch.randn(batch, 4, 3, 3, generator=gen) + 0.2,
        torch.randn(batch, 10, generator=gen) * 3,
    ]
    logits = torch.randn(batch, 5, generator=gen)
    labels = torch.where(
        torch.rand(batch, generator=gen) < 0.7,
        logits.argmax(-1),
        torch.randint(0, 5, (batch,), generator=gen),
    )
    assert all((F.relu(a).flatten(1).amax(1) > 0).all() for a in preacts)  # no silent one
    torch.testing.assert_close(
        rcs_ann(preacts, logits, labels, DEFAULT), authors_rcs_ann(preacts, logits, labels)
    )
    # the batch peak is never below a sample's own
    assert rcs_ann(preacts, logits, labels, DEFAULT) >= rcs_ann(
        preacts, logits, labels, RCSSettings(ann_peak="sample")
    )


def test_silent_samples_are_left_out():
    # sample 1 has no positive activation in layer 1: by the authors' formula it would
    # give 2 / sqrt(1e-5), about 632, and dominate the maximum
    a1 = torch.tensor([[2.0, 0.0], [-1.0, -3.0]])
    a2 = torch.tensor([[1.0, 1.0], [0.0, 5.0]])
    logits, labels = torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([0, 0])
    assert authors_rcs_ann([a1, a2], logits, labels) > 300
    want = (2 / rms(2, 0) + max(5 / rms(1, 1), 5 / rms(0, 5))) / 2
    assert rcs_ann([a1, a2], logits, labels, DEFAULT).item() == pytest.approx(want, rel=1e-6)
    # a layer where every kept sample is silent contributes 0
    only_silent = rcs_ann([a1[1:], a2[1:]], logits[1:], labels[1:], DEFAULT)
    assert only_silent.item() == pytest.approx((0 + 5 / rms(0, 5)) / 2, rel=1e-6)
    # and its gradient stays finite and small
    a1 = a1.clone().requires_grad_()
    rcs_ann([a1, a2], logits, labels, DEFAULT).backward()
    assert a1.grad.abs().max() < 10
    # a nearly silent sample, whose RMS the epsilon would set, is left out too
    barely = torch.tensor([[2.0, 0.0], [1e-4, -3.0]])
    assert authors_rcs_ann([barely, a2], logits, labels) > 300
    assert rcs_ann([barely, a2], logits, labels, DEFAULT).item() == pytest.approx(want, rel=1e-6)


def test_ann_rcs_regulariser_records_qcfs_inputs():
    model = build_model("convsnn", (1, 8, 8), 10, QCFS_ROLE, channels=[4, 4], pool="avg")
    reg = QCFSRCS(model, DEFAULT)
    x = torch.rand(1, 5, 1, 8, 8)
    with reg:
        logits = model(x)
    assert [a.shape[0] for a in reg.preacts] == [5, 5]
    value = reg.value(logits, logits[-1].argmax(-1))  # every sample "correct"
    assert value.item() >= 1.0  # max / RMS is at least 1 for an active sample
    assert not any(m._forward_hooks for m in model.modules())
    with pytest.raises(ValueError, match="no QCFS"):
        QCFSRCS(nn.Sequential(nn.Linear(2, 2)), DEFAULT)
