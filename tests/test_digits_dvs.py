import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from spikecut.data.digits import digits_frames, load_digit_images
from spikecut.data.digits_dvs import DVSParams, events_to_frames, synthesize_events


@pytest.fixture(scope="module")
def sample():
    images, labels = load_digit_images()
    # a class-balanced subset keeps the test quick
    idx = np.concatenate([np.flatnonzero(labels == c)[:30] for c in range(10)])
    return images[idx], labels[idx], synthesize_events(images[idx], seed=3)


def test_events_are_sorted_and_in_bounds(sample):
    _, _, events = sample
    params = DVSParams()
    duration = len(params.vertices) * params.saccade_us
    for ev in events:
        assert len(ev) > 100
        assert (np.diff(ev["t"]) >= 0).all()
        assert ev["x"].min() >= 0 and ev["x"].max() < params.sensor
        assert ev["y"].min() >= 0 and ev["y"].max() < params.sensor
        assert ev["t"].min() >= 0 and ev["t"].max() < duration
        assert set(np.unique(ev["p"])) <= {0, 1}


def test_on_off_balance(sample):
    # a closed saccade path returns every pixel to its start level
    _, _, events = sample
    on_share = np.array([ev["p"].mean() for ev in events])
    assert abs(on_share.mean() - 0.5) < 0.02
    assert ((on_share > 0.35) & (on_share < 0.65)).all()


def test_events_follow_the_digit(sample):
    # pixels far from every position of the digit only see background noise
    _, _, events = sample
    params = DVSParams()
    border = np.concatenate([ev[(ev["x"] == 0) | (ev["y"] == params.sensor - 1)] for ev in events])
    total = sum(len(ev) for ev in events)
    assert len(border) < 0.01 * total


def test_deterministic_per_seed(sample):
    images, _, events = sample
    again = synthesize_events(images[:5], seed=3)
    other = synthesize_events(images[:5], seed=4)
    # the subset's events differ from the full set's only through the shared noise
    # stream, so compare a fresh pair with the same inputs
    assert all(np.array_equal(a, b) for a, b in zip(again, synthesize_events(images[:5], 3)))
    assert not all(np.array_equal(a, b) for a, b in zip(again, other))


@pytest.mark.parametrize("n_bins", [1, 7, 8, 9])
def test_frames_shape_and_counts(sample, n_bins):
    _, _, events = sample
    frames = events_to_frames(events, n_bins=n_bins)
    assert frames.shape == (len(events), n_bins, 2, 34, 34) and frames.dtype == np.uint8
    # every event lands in exactly one bin (no saturation at these rates)
    assert frames.reshape(len(events), -1).sum(1).tolist() == [len(ev) for ev in events]
    on = frames[:, :, 1].reshape(len(events), -1).sum(1)
    assert on.tolist() == [int(ev["p"].sum()) for ev in events]


def test_frames_are_separable_by_a_linear_classifier(sample):
    _, labels, events = sample
    x = events_to_frames(events, n_bins=4).reshape(len(events), -1).astype(float)
    train = np.arange(len(labels)) % 3 != 0
    clf = LogisticRegression(max_iter=500).fit(x[train], labels[train])
    assert clf.score(x[~train], labels[~train]) > 0.8


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"\[N, h, w\]"):
        synthesize_events(np.zeros((8, 8)), seed=0)
    with pytest.raises(ValueError, match="off the sensor"):
        synthesize_events(np.zeros((1, 8, 8)), 0, DVSParams(vertices=((0, 0), (9, 9))))


def test_digits_frames_upsample():
    images, _ = load_digit_images()
    frames = digits_frames(images[:3], upsample=2)
    assert frames.shape == (3, 1, 16, 16)
    np.testing.assert_array_equal(frames[:, 0, ::2, ::2], images[:3])
    with pytest.raises(ValueError, match="upsample"):
        digits_frames(images, upsample=0)
