import numpy as np
import pytest
from conftest import random_logits

from spikecut.cutoff import StepOutputs, first_firing_step, make_policy, sweep, top2_gap


def brute_oct(logits, labels):
    n, n_steps, _ = logits.shape
    out = []
    for i in range(n):
        acc = np.cumsum(logits[i], axis=0)
        correct = [acc[t].argmax() == labels[i] for t in range(n_steps)]
        if not correct[-1]:
            out.append(n_steps)
            continue
        t = n_steps - 1
        while t > 0 and correct[t - 1]:
            t -= 1
        out.append(t + 1)
    return np.array(out)


def test_oct_matches_per_sample_loop(rng):
    logits, labels = random_logits(rng, n=300, n_steps=7)
    outputs = StepOutputs(logits, labels)
    np.testing.assert_array_equal(outputs.oct, brute_oct(logits, labels))
    # a sample correct at T stays correct from its OCT on
    for i in np.flatnonzero(outputs.correct[:, -1]):
        assert outputs.correct[i, outputs.oct[i] - 1 :].all()


def test_oct_of_wrong_sample_is_T():
    logits = np.array([[[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]])  # always predicts 1
    assert StepOutputs(logits, np.array([0])).oct.tolist() == [3]
    assert StepOutputs(logits, np.array([1])).oct.tolist() == [1]


def test_prediction_uses_accumulated_raw_logits():
    # step 1 favours class 0 strongly, step 2 favours class 1 weakly: Y(2) still says 0
    logits = np.array([[[5.0, 0.0], [0.0, 1.0]]])
    out = StepOutputs(logits, np.array([0]))
    assert out.predictions.tolist() == [[0, 0]]


def test_gap_and_first_firing():
    acc = np.array([[[3.0, 1.0, 2.0], [0.0, 0.0, 0.0]]])
    np.testing.assert_allclose(top2_gap(acc), [[1.0, 0.0]])
    fires = np.array([[False, True, True], [False, False, False]])
    assert first_firing_step(fires).tolist() == [2, 3]


@pytest.mark.parametrize(
    "logits, labels, match",
    [
        (np.zeros((3, 4)), np.zeros(3, int), r"\[N, T, C\]"),
        (np.zeros((3, 4, 1)), np.zeros(3, int), "two classes"),
        (np.zeros((3, 4, 2)), np.zeros(2, int), "labels"),
        (np.full((3, 4, 2), np.nan), np.zeros(3, int), "NaN"),
    ],
)
def test_bad_step_outputs(logits, labels, match):
    with pytest.raises(ValueError, match=match):
        StepOutputs(logits, labels)


def test_the_api_checks_its_inputs(rng):
    logits, labels = random_logits(rng, n=20, n_steps=4, n_classes=5)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\).*2 do not, e.g. 5"):
        StepOutputs(logits, np.where(np.arange(20) < 2, 5, labels))
    with pytest.raises(ValueError, match="labels must lie"):
        StepOutputs(logits, np.where(np.arange(20) < 1, -1, labels))
    with pytest.raises(ValueError, match="no samples"):
        StepOutputs(np.zeros((0, 4, 5)), np.zeros(0, int))
    with pytest.raises(ValueError, match="class indices"):
        StepOutputs(logits, labels + 0.5)
    test = StepOutputs(logits, labels)
    for shape in ((20, 3, 5), (20, 4, 6)):  # another T, another C
        other = StepOutputs(rng.normal(size=shape), labels)
        with pytest.raises(ValueError, match="record both with the same model and T"):
            sweep(test, other, ["topk"], [0.0])
        with pytest.raises(ValueError, match="same model and T"):
            list(make_policy("spikecp").operating_points(test, other, [0.1]))


def test_torch_tensors_are_accepted(rng):
    import torch

    logits, labels = random_logits(rng, n=30, n_steps=3)
    from_torch = StepOutputs(torch.from_numpy(logits).float(), torch.from_numpy(labels))
    plain = StepOutputs(logits.astype(np.float32), labels)
    np.testing.assert_array_equal(from_torch.oct, plain.oct)
    assert isinstance(from_torch.logits, np.ndarray)
