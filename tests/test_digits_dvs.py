import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from spikecut.data import prepare
from spikecut.data.digits import digits_frames, load_digit_images
from spikecut.data.digits_dvs import DVSParams, events_to_frames, synthesize_events


@pytest.fixture(scope="module")
def sample():
    images, labels = load_digit_images()
    # a class-balanced subset keeps the test quick
    idx = np.concatenate([np.flatnonzero(labels == c)[:30] for c in range(10)])
    events, source = synthesize_events(images[idx], seed=3)
    assert source.tolist() == list(range(len(idx)))
    return images[idx], labels[idx], events


def test_events_are_sorted_and_in_bounds(sample):
    _, _, events = sample
    params = DVSParams()
    duration = params.duration_us
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
    # the sensor's outer ring, which the digit's blank margin covers at most, sees far
    # fewer events per pixel than its centre
    _, _, events = sample
    n = DVSParams().sensor
    counts = np.zeros((n, n))
    for ev in events:
        np.add.at(counts, (ev["y"], ev["x"]), 1)
    ring = np.ones((n, n), bool)
    ring[1:-1, 1:-1] = False
    centre = counts[n // 4 : -n // 4, n // 4 : -n // 4]
    assert counts[ring].mean() < 0.3 * centre.mean()


def test_deterministic_per_seed(sample):
    images, _, events = sample
    again, _ = synthesize_events(images[:5], seed=3)
    other, _ = synthesize_events(images[:5], seed=4)
    # the subset's events differ from the full set's only through the shared noise
    # stream, so compare a fresh pair with the same inputs
    same, _ = synthesize_events(images[:5], 3)
    assert all(np.array_equal(a, b) for a, b in zip(again, same))
    assert not all(np.array_equal(a, b) for a, b in zip(again, other))


def test_recordings_of_one_image_are_alike_but_not_equal(sample):
    images, labels, _ = sample
    events, source = synthesize_events(images[::15], seed=5, recordings=3)  # two per class
    assert source.tolist() == np.repeat(np.arange(20), 3).tolist()
    frames = events_to_frames(events, n_bins=4).reshape(60, -1).astype(float)
    frames /= np.linalg.norm(frames, axis=1, keepdims=True)
    similarity = frames @ frames.T
    np.fill_diagonal(similarity, -1.0)
    same = source[:, None] == source[None, :]
    assert (similarity[same] < 0.999).all()  # jitter, mismatch and noise: never a copy
    # yet a recording's nearest neighbour is mostly another recording of its image
    assert (source[similarity.argmax(1)] == source).mean() > 0.8


@pytest.mark.slow
def test_no_source_image_is_in_two_splits():
    data = prepare(
        "digits-dvs",
        n_steps=2,
        seed=0,
        test_fraction=0.3,
        val_fraction=0.3,
        limit=300,
        options={"recordings": 3},
    )
    sources = {k: set(v // 3) for k, v in data.index.items()}  # recordings are image-major
    assert all(len(v) % 3 == 0 for v in data.index.values())  # whole images only
    assert not sources["train"] & sources["val"] and not sources["train"] & sources["test"]
    assert not sources["val"] & sources["test"]
    assert sum(len(v) for v in data.index.values()) == 300
    assert all(len(np.unique(data.y[k])) == 10 for k in data.y)  # stratified by class


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
    with pytest.raises(ValueError, match="recordings"):
        synthesize_events(np.zeros((1, 8, 8)), 0, recordings=0)
    with pytest.raises(ValueError, match=r"datasets.digits-dvs.options.size: unknown key"):
        prepare("digits-dvs", 2, 0, 0.3, 0.3, options={"size": 16})


def test_digits_frames_upsample():
    images, _ = load_digit_images()
    frames = digits_frames(images[:3], upsample=2)
    assert frames.shape == (3, 1, 16, 16)
    np.testing.assert_array_equal(frames[:, 0, ::2, ::2], images[:3])
    with pytest.raises(ValueError, match="upsample"):
        digits_frames(images, upsample=0)
