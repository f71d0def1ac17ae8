import pytest
import torch
from spikingjelly.activation_based import functional, neuron

from spikecut.models import MODELS, build_model

SNN = {"kind": "snn", "neuron": {}}


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
    with pytest.raises(ValueError, match="unknown pool"):
        build_model("convsnn", (1, 8, 8), 10, SNN, pool="min")
    with pytest.raises(ValueError, match="channels"):
        build_model("convsnn", (1, 8, 8), 10, SNN, channels=[])
