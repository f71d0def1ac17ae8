"""The gestures-dvs generator: valid events, balanced classes, determinism, motions as
defined, and information that arrives late."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from spikecut.data import prepare
from spikecut.data.gestures_dvs import (
    CLASSES,
    GestureParams,
    events_to_frames,
    synthesize_events,
    trajectory,
)


@pytest.fixture(scope="module")
def sample():
    events, labels = synthesize_events(1000, seed=7)
    return events, labels, events_to_frames(events, n_bins=10)


def test_events_are_time_sorted_and_in_bounds(sample):
    events, _, _ = sample
    p = GestureParams()
    for ev in events:
        assert len(ev) > 200
        assert (np.diff(ev["t"]) >= 0).all()
        assert ev["x"].min() >= 0 and ev["x"].max() < p.sensor
        assert ev["y"].min() >= 0 and ev["y"].max() < p.sensor
        assert ev["t"].min() >= 0 and ev["t"].max() < p.duration_us
        assert set(np.unique(ev["p"])) <= {0, 1}


def test_classes_are_balanced(sample):
    _, labels, _ = sample
    assert len(CLASSES) >= 10
    assert np.bincount(labels, minlength=len(CLASSES)).tolist() == [100] * len(CLASSES)
    _, odd = synthesize_events(23, seed=1)
    assert np.ptp(np.bincount(odd, minlength=len(CLASSES))) <= 1


def test_deterministic_per_seed():
    first, labels = synthesize_events(12, seed=3)
    again, labels_again = synthesize_events(12, seed=3)
    other, _ = synthesize_events(12, seed=4)
    assert np.array_equal(labels, labels_again)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(len(a) == len(b) and np.array_equal(a, b) for a, b in zip(first, other))


def test_trajectories_are_the_defined_motions():
    u = np.linspace(0, 1, 201)
    reach = np.full(len(u), 8.0)

    def path(cls):
        return trajectory(np.full(len(u), cls), u, reach)

    (right, _), (left, _), (up, _), (down, _) = (path(c) for c in range(4))
    assert right[0, 0] == -8 and right[-1, 0] == 8 and (np.diff(right[:, 0]) > 0).all()
    assert np.allclose(left, -right) and np.allclose(up[:, ::-1], left)
    assert np.allclose(down, -up)
    # the circles share their lead-in, then turn opposite ways; y points down
    (cw, _), (ccw, _) = path(4), path(5)
    lead = u <= 0.25
    assert np.allclose(cw[lead], ccw[lead]) and not np.allclose(cw[~lead], ccw[~lead])
    quarter = np.argmin(np.abs(u - (0.25 + 0.75 / 4)))
    assert cw[quarter, 1] > 6 and ccw[quarter, 1] < -6  # clockwise turns down first
    (_, grow), (_, shrink) = path(6), path(7)
    assert grow[0] == 1 and grow[-1] == pytest.approx(2.2) and np.allclose(shrink, grow[::-1])
    # there and back: the swipe's first half, then home
    (back, _), (left_back, _) = path(8), path(9)
    half = u <= 0.5
    assert np.allclose(back[half, 0], (4 * u[half] - 1) * 8)
    assert back[-1, 0] == -8 and np.allclose(left_back, -back)
    # before the gesture the disc waits at the start, after it at the end
    early, _ = trajectory(np.array([0]), np.array([-0.3]), np.array([8.0]))
    late, _ = trajectory(np.array([0]), np.array([1.4]), np.array([8.0]))
    assert early[0, 0] == -8 and late[0, 0] == 8


def test_information_arrives_late(sample):
    """A linear classifier on the first frame alone is clearly worse than on all of them,
    because classes share their start."""
    _, labels, frames = sample
    train = np.arange(len(labels)) % 4 != 0

    def score(x):
        x = x.reshape(len(labels), -1).astype(float)
        model = LogisticRegression(max_iter=500).fit(x[train], labels[train])
        return model.score(x[~train], labels[~train])

    first, whole = score(frames[:, :1]), score(frames)
    assert whole > 0.85
    assert first < whole - 0.3


def test_prepared_through_the_registry():
    data = prepare(
        "gestures-dvs",
        n_steps=4,
        seed=0,
        test_fraction=0.5,
        val_fraction=0.3,
        options={"samples": 120},
    )
    assert sum(len(v) for v in data.y.values()) == 120
    assert data.x["train"].shape[1:] == (4, 2, 32, 32) and data.x["train"].dtype == np.uint8
    assert data.num_classes == len(CLASSES) and data.kind == "events"
    with pytest.raises(ValueError, match=r"datasets.gestures-dvs.options.n: unknown key"):
        prepare("gestures-dvs", 4, 0, 0.5, 0.3, options={"n": 10})
    with pytest.raises(ValueError, match="at least one sample"):
        synthesize_events(0, seed=0)
