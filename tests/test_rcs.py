import pytest
import torch

from spikecut.regularisers import RCSSettings
from spikecut.regularisers.rcs import late_correct_mask, rcs_snn, tail_steps

DEFAULT = RCSSettings()


@pytest.mark.parametrize(
    "n_steps, want", [(1, 1), (2, 1), (3, 1), (4, 1), (6, 1), (7, 2), (10, 3), (20, 6)]
)
def test_tail_steps_takes_at_least_one(n_steps, want):
    assert tail_steps(n_steps, DEFAULT.tail_fraction) == want


def hand_example():
    """T = 4 (so the target is the last step), B = 3, two layers.

    r = s + ReLU(u / V_th). Layer 1 has three features, the third always at u = -2 so
    ReLU removes it; layer 2 has one.
    """
    T, B = 4, 3
    s1 = torch.zeros(T, B, 3)
    u1 = torch.full((T, B, 3), -2.0)
    # sample 0: r = [1,0],[1,0],[.5,1],[1,0] -> target [1,0],
    # cos 1, 1, .5 / sqrt(1.25), 1
    u1[:, 0, :2] = torch.tensor([[1.0, 0], [1, 0], [0.5, 1], [1, 0]])
    # sample 1: r = [1,1] throughout, once made of a spike plus membrane -> cos 1
    u1[:, 1, :2] = 1.0
    s1[1, 1, 0], u1[1, 1, 0] = 1.0, 0.0
    # sample 2: misclassified, whatever its activity
    u1[:, 2, :2] = torch.tensor([0.0, 3.0])
    s2 = torch.zeros(T, B, 1)
    u2 = torch.zeros(T, B, 1)
    u2[:, 0, 0] = 1.0  # sample 0: cos 1
    u2[3, 1, 0] = 2.0  # sample 1: r = 0,0,0,2 -> cos 0,0,0,1 -> mean 0.25
    u2[:, 2, 0] = 5.0
    logits = torch.zeros(T, B, 2)
    logits[0, 0] = torch.tensor([0.0, 10.0])  # Y(T) of sample 0 is wrong, o(T) right
    logits[3, 0] = torch.tensor([1.0, 0.0])
    logits[3, 1] = torch.tensor([0.0, 1.0])
    logits[3, 2] = torch.tensor([0.0, 1.0])
    labels = torch.tensor([0, 1, 0])
    return [(s1, u1), (s2, u2)], logits, labels


SAMPLE0_LAYER1 = (3 + 0.5 / 1.25**0.5) / 4


def test_mask_uses_per_step_outputs():
    _, logits, labels = hand_example()
    assert late_correct_mask(logits, labels, 1).tolist() == [True, True, False]


def test_rcs_max_aggregation_by_hand():
    layers, logits, labels = hand_example()
    got = rcs_snn(layers, logits, labels, 1.0, RCSSettings(aggregation="max"))
    layer1 = max(1 / (SAMPLE0_LAYER1 + 1e-5), 1 / (1 + 1e-5))
    layer2 = max(1 / (1 + 1e-5), 1 / (0.25 + 1e-5))
    assert got.item() == pytest.approx((layer1 + layer2) / 2, rel=1e-6)


def test_rcs_mean_aggregation_by_hand():
    layers, logits, labels = hand_example()
    got = rcs_snn(layers, logits, labels, 1.0, RCSSettings(aggregation="mean"))
    layer1 = (1 / (SAMPLE0_LAYER1 + 1e-5) + 1 / (1 + 1e-5)) / 2
    layer2 = (1 / (1 + 1e-5) + 1 / (0.25 + 1e-5)) / 2
    assert got.item() == pytest.approx((layer1 + layer2) / 2, rel=1e-6)


def test_threshold_scales_membrane():
    layers, logits, labels = hand_example()
    doubled = [(s, 2 * u) for s, u in layers]
    # with V_th = 2 the membrane terms are the same as before
    assert rcs_snn(doubled, logits, labels, 2.0, DEFAULT).item() == pytest.approx(
        rcs_snn(layers, logits, labels, 1.0, DEFAULT).item()
    )


def test_no_kept_sample_gives_zero():
    layers, logits, _ = hand_example()
    assert rcs_snn(layers, logits, torch.tensor([1, 0, 0]), 1.0, DEFAULT).item() == 0.0


def test_gradient_flows_to_early_steps_not_target():
    layers, logits, labels = hand_example()
    (s1, u1), (s2, u2) = layers
    u1 = u1.clone().requires_grad_(True)
    rcs_snn([(s1, u1), (s2, u2)], logits, labels, 1.0, RCSSettings(aggregation="mean")).backward()
    grad = u1.grad
    assert torch.isfinite(grad).all()
    assert grad[:3, 0].abs().sum() > 0  # early steps of a kept sample are pulled
    assert grad[:, 2].abs().sum() == 0  # the masked sample gets nothing


def test_the_settings_refuse_an_unknown_aggregation():
    with pytest.raises(ValueError, match="aggregation"):
        RCSSettings(aggregation="median")
