from functools import partial

import pytest
import torch

from spikecut.data import prepare
from spikecut.data.encoding import to_time_major
from spikecut.inference.recording import calibration_dropout, record_outputs
from spikecut.models import build_model


@pytest.fixture(scope="module")
def setup():
    data = prepare("digits", n_steps=3, seed=0, test_fraction=0.25, val_fraction=0.2, limit=120)
    torch.manual_seed(0)
    model = build_model(
        "convsnn", data.input_shape, 10, {"kind": "snn", "neuron": {}}, channels=[4]
    )
    with torch.no_grad():  # make the neurons fire so that dropout has something to drop
        model[0].weight.mul_(4)
    return model, data


def record(model, data, p, seed):
    encode = partial(to_time_major, kind=data.kind, n_steps=data.n_steps)
    logits, _ = record_outputs(model, data, encode, p, seed, 50, torch.device("cpu"))
    return logits


def test_compute_is_counted_for_the_test_set(setup):
    model, data = setup
    encode = partial(to_time_major, kind=data.kind, n_steps=data.n_steps)
    logits, compute = record_outputs(model, data, encode, 0.3, 0, 50, torch.device("cpu"))
    n = len(data.y["test"])
    assert compute["macs"].shape == compute["sops"].shape == (n, 3)
    # the 8x8 digit into a 3x3 convolution, padding 1, 4 channels: along one axis the
    # 8 windows hold 8 * 3 - 2 real pixels, so 4 * 22 * 22 MACs per step and sample
    assert (compute["macs"] == 4 * 22 * 22).all()
    # every SOP is a pooled spike reaching the classifier's 10 outputs: at most the 4
    # channels of 4 x 4 positions after 2x2 pooling, each reaching 10
    assert (compute["sops"] % 10 == 0).all() and (compute["sops"] <= 4 * 4 * 4 * 10).all()
    assert compute["sops"].sum() > 0


def test_shapes_and_determinism(setup):
    model, data = setup
    a, b, c = record(model, data, 0.3, 7), record(model, data, 0.3, 7), record(model, data, 0.3, 8)
    assert a["test"].shape == (len(data.y["test"]), 3, 10)
    assert a["cal"].shape == (len(data.y["train"]), 3, 10)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(a["test"], c["test"]) and not torch.equal(a["cal"], c["cal"])


def test_calibration_without_dropout_equals_eval(setup):
    model, data = setup
    out = record(model, data, 0.0, 0)
    model.eval()
    plain = record(model, data, 0.0, 1)
    assert torch.equal(out["cal"], plain["cal"])


def test_dropout_hooks_are_removed_and_rng_restored(setup):
    model, _ = setup
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    with calibration_dropout(model, 0.3, seed=0):
        assert any(m._forward_hooks for m in model.modules())
    assert not any(m._forward_hooks for m in model.modules())
    assert torch.equal(torch.rand(3), expected)
    with pytest.raises(ValueError, match="dropout"), calibration_dropout(model, 1.0, 0):
        pass


def test_calibration_dropout_drops_p_and_ignores_batching():
    from spikingjelly.activation_based import functional, neuron

    layer = neuron.IFNode(v_threshold=1e-3, step_mode="m")  # fires wherever x > 0
    x = torch.ones(2, 600, 50)
    with calibration_dropout(layer, 0.3, seed=1):
        whole = layer(x)
        functional.reset_net(layer)
    with calibration_dropout(layer, 0.3, seed=1):
        halves = torch.cat([layer(x[:, :250]), layer(x[:, 250:])], dim=1)
        functional.reset_net(layer)
    assert torch.equal(whole, halves)  # each sample's mask is its own
    assert whole.unique().tolist() == pytest.approx([0.0, 1 / 0.7])
    assert (whole == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    with calibration_dropout(layer, 0.3, seed=2):
        other = layer(x)
    assert not torch.equal(whole, other)
