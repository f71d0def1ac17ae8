import pytest
import torch
from spikingjelly.activation_based import functional, layer, neuron

from spikecut.conversion import QCFS
from spikecut.models import MODELS, build_model

SNN = {"kind": "snn", "neuron": {}}
ROLES = {"snn": SNN, "qcfs": {"kind": "qcfs", "levels": 4, "theta": 8.0}, "ann": {"kind": "ann"}}

# The paper's pairings of architecture and input (docs/method.md §12): frames 3x32x32 (CIFAR) and
# 3x64x64 (Tiny-ImageNet), events 2x48x48 (CIFAR10-DVS resized), 2x128x128 (DVS128
# Gesture) and 2x180x240 (N-Caltech101).
PAPER_INPUTS = [
    ("vgg16", (3, 32, 32), 10),
    ("resnet18", (3, 64, 64), 200),
    ("resnet19", (3, 32, 32), 100),
    ("resnet20", (3, 32, 32), 10),
    ("vggsnn", (2, 48, 48), 10),
    ("dvs_vgg", (2, 128, 128), 11),
    ("dvs_vgg", (2, 180, 240), 101),
    ("convsnn", (2, 34, 34), 10),
]


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize(
    "name, shape, classes",
    PAPER_INPUTS,
    ids=[f"{n}-{'x'.join(map(str, s))}" for n, s, _ in PAPER_INPUTS],
)
def test_every_model_runs_in_every_role(name, shape, classes, role):
    n_steps = 2 if role == "snn" else 1
    model = build_model(name, shape, classes, ROLES[role], n_steps=n_steps)
    out = model(torch.rand(n_steps, 2, *shape))
    assert out.shape == (n_steps, 2, classes)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    functional.reset_net(model)
    n_neurons = sum(isinstance(m, neuron.BaseNode) for m in model.modules())
    n_qcfs = sum(isinstance(m, QCFS) for m in model.modules())
    assert (n_neurons > 0) == (role == "snn") and (n_qcfs > 0) == (role == "qcfs")


def test_tebn_scales_each_step():
    model = build_model("resnet20", (3, 32, 32), 10, SNN, norm="tebn", n_steps=3)
    tebn = [m for m in model.modules() if isinstance(m, layer.TemporalEffectiveBatchNorm2d)]
    assert len(tebn) == sum(
        isinstance(m, layer.BatchNorm2d)
        for m in build_model("resnet20", (3, 32, 32), 10, SNN).modules()
    )
    assert model(torch.rand(3, 2, 3, 32, 32)).shape == (3, 2, 10)
    with pytest.raises(ValueError, match="TEBN"):
        build_model("resnet20", (3, 32, 32), 10, ROLES["qcfs"], norm="tebn")
    with pytest.raises(ValueError, match="model.norm: must be one of 'bn' or 'tebn'"):
        build_model("resnet20", (3, 32, 32), 10, SNN, norm="layernorm")


def test_too_small_input_is_refused():
    with pytest.raises(ValueError, match="too small"):
        build_model("vgg16", (3, 16, 16), 10, ROLES["ann"])


@pytest.mark.parametrize("shape, pool", [((1, 8, 8), 1), ((2, 34, 34), 2), ((2, 34, 34), 1)])
def test_convsnn_forward_backward(shape, pool):
    model = build_model("convsnn", shape, 10, SNN, channels=[4, 8], input_pool=pool)
    x = torch.rand(3, 2, *shape)
    out = model(x)
    assert out.shape == (3, 2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    functional.reset_net(model)
    assert sum(isinstance(m, neuron.LIFNode) for m in model.modules()) == 2


def test_state_is_reset_between_batches():
    torch.manual_seed(0)
    model = build_model("convsnn", (1, 8, 8), 10, SNN, channels=[4]).eval()
    x = torch.rand(4, 2, 1, 8, 8) * 3
    first = model(x)
    functional.reset_net(model)
    assert torch.equal(first, model(x))


def test_registry_errors():
    assert "convsnn" in MODELS
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet1000", (1, 8, 8), 10, SNN)
    with pytest.raises(ValueError, match="unknown model role"):
        build_model("convsnn", (1, 8, 8), 10, {"kind": "rate"})
    with pytest.raises(ValueError, match="model.pool: must be one of 'max' or 'avg'"):
        build_model("convsnn", (1, 8, 8), 10, SNN, pool="min")
    with pytest.raises(ValueError, match="channels"):
        build_model("convsnn", (1, 8, 8), 10, SNN, channels=[])
