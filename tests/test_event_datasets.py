"""Event loaders on small fake data sets written in the real on-disk formats:
DVS128 Gesture's per-user .npy recordings and N-Caltech101's 40-bit ATIS .bin files."""

import numpy as np
import pytest
import tonic.io

from spikecut.data import DATASETS, prepare
from spikecut.data.events import frame_events, load_event_dataset
from spikecut.data.sets import cifar10_dvs, dvs128_gesture, n_caltech101
from spikecut.data.sets.n_caltech101 import NCALTECH_DTYPE
from spikecut.data.spec import per_class_split
from tests.fakes import (
    write_aedat4,
    write_atis_bin,
    write_cifar10dvs,
    write_gesture,
    write_ncaltech,
)


def test_gesture_official_split_and_reading(tmp_path):
    write_gesture(tmp_path)
    files, labels, is_test = dvs128_gesture.list_files(tmp_path)
    assert len(files) == 33 and is_test.sum() == 11
    assert labels[:11].tolist() == sorted(range(11), key=str)  # sorted by file name
    ev = dvs128_gesture.read_events(files[0])
    raw = np.load(files[0])
    assert ev.dtype.names == ("x", "y", "p", "t")
    assert ev["t"][-1] == round(raw[-1, 3] * 1000)  # ms -> us
    assert (np.diff(ev["t"]) >= 0).all()


def test_gesture_prepared_with_resize(tmp_path):
    write_gesture(tmp_path / "dvs128-gesture")
    data = prepare(
        "dvs128-gesture",
        n_steps=5,
        seed=0,
        test_fraction=0.5,
        val_fraction=0.5,
        options={"size": (32, 32)},
        root=tmp_path,
    )
    assert len(data.y["test"]) == 11
    assert data.x["test"].shape == (11, 5, 2, 32, 32) and data.x["test"].dtype == np.uint8
    assert data.kind == "events" and data.num_classes == 11 and data.norm is None
    total = sum(int(v.reshape(len(v), -1).sum()) for v in data.x.values())
    assert total == 33 * 300  # every event lands in one bin of one frame


def test_atis_files_read_back_through_tonic(tmp_path):
    x, y = np.array([10, 20, 30]), np.array([5, 6, 7])
    p, t = np.array([1, 0, 1]), np.array([100, 70_000, 8_000_000])
    write_atis_bin(tmp_path / "a.bin", x, y, p, t)
    ev = tonic.io.read_mnist_file(str(tmp_path / "a.bin"), dtype=NCALTECH_DTYPE)
    assert ev["x"].tolist() == [10, 20, 30] and ev["t"].tolist() == t.tolist()
    assert ev["p"].tolist() == [1, 0, 1]
    shifted = n_caltech101.read_events(tmp_path / "a.bin")
    assert shifted["x"].min() == 0 and shifted["y"].min() == 0


def test_ncaltech_per_class_split_is_sorted_and_9_to_1(tmp_path):
    write_ncaltech(tmp_path)
    folder = n_caltech101.class_folder(tmp_path)
    assert (
        folder.name == "Caltech101" and n_caltech101.class_folder(tmp_path) == folder
    )  # unpacked once
    files, labels, is_test = n_caltech101.list_files(tmp_path)
    assert len(files) == 30 and labels.max() == 2
    assert is_test.sum() == 3
    assert [f.name for f, t in zip(files, is_test) if t] == ["image_0010.bin"] * 3
    # the split depends only on names, not on the order the file system lists them
    shuffled = tmp_path / "shuffled"
    for f in reversed(files):
        (shuffled / f.parent.name).mkdir(parents=True, exist_ok=True)
        (shuffled / f.parent.name / f.name).write_bytes(f.read_bytes())
    again = per_class_split(shuffled, "*.bin")
    assert [f.name for f in again[0]] == [f.name for f in files]
    assert (again[2] == is_test).all()


def test_ncaltech_prepared(tmp_path):
    write_ncaltech(tmp_path / "n-caltech101")
    data = prepare(
        "n-caltech101", n_steps=4, seed=0, test_fraction=0.5, val_fraction=0.1, root=tmp_path
    )
    assert len(data.y["test"]) == 3
    assert data.x["train"].shape[1:] == (4, 2, 180, 240)


def test_frames_drop_events_off_the_sensor():
    ev = np.zeros(3, dtype=NCALTECH_DTYPE)
    ev["x"], ev["y"], ev["t"], ev["p"] = [1, 250, 2], [1, 1, 190], [0, 5, 10], [1, 1, 0]
    frames = frame_events([ev], (240, 180, 2), n_bins=1)
    assert frames.sum() == 1 and frames[0, 0, 1, 1, 1] == 1


def test_frames_keep_every_event_in_equal_slices():
    ev = np.zeros(4, dtype=NCALTECH_DTYPE)
    ev["x"], ev["t"], ev["p"] = [0, 1, 2, 3], [100, 149, 150, 199], [0, 0, 1, 1]
    frames = frame_events([ev], (240, 180, 2), n_bins=2)
    # slices [100, 150) and [150, 200): two events each, the last one included
    assert frames[0, :, :, 0, :4].sum(axis=(1, 2)).tolist() == [2, 2]


def test_missing_archives_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="fetch the data set first"):
        dvs128_gesture.list_files(tmp_path)
    with pytest.raises(FileNotFoundError, match="fetch the data set first"):
        n_caltech101.class_folder(tmp_path)


def test_aedat4_reads_back_through_tonic(tmp_path):
    t, x = np.array([5, 9, 400, 1000]), np.array([0, 127, 3, 64])
    y, on = np.array([1, 2, 127, 0]), np.array([1, 0, 0, 1])
    write_aedat4(tmp_path / "r.aedat4", t, x, y, on, chunk=3)  # two packets
    ev = cifar10_dvs.read_events(tmp_path / "r.aedat4")
    assert ev.dtype.names == ("t", "x", "y", "p")
    assert ev["t"].tolist() == t.tolist() and ev["x"].tolist() == x.tolist()
    assert ev["y"].tolist() == y.tolist() and ev["p"].astype(int).tolist() == on.tolist()


def test_cifar10dvs_prepared_at_48x48(tmp_path):
    write_cifar10dvs(tmp_path / "cifar10-dvs")
    files, labels, is_test = cifar10_dvs.list_files(tmp_path / "cifar10-dvs")
    assert len(files) == 100 and is_test.sum() == 10
    assert [f.name for f, t in zip(files, is_test) if t][0] == "cifar10_airplane_9.aedat4"
    data = prepare(
        "cifar10-dvs",
        n_steps=10,
        seed=0,
        test_fraction=0.5,
        val_fraction=0.2,
        options={"size": (48, 48)},
        root=tmp_path,
    )
    assert data.x["test"].shape == (10, 10, 2, 48, 48)
    assert sorted(data.y["test"].tolist()) == list(range(10))
    total = sum(int(v.reshape(len(v), -1).sum()) for v in data.x.values())
    assert total == 100 * 150


def test_time_window_frames_only_the_start_of_each_recording():
    ev = np.zeros(4, dtype=NCALTECH_DTYPE)
    ev["x"], ev["t"], ev["p"] = [0, 1, 2, 3], [1000, 1400, 1999, 2500], [1, 1, 1, 1]
    frames = frame_events([ev], (240, 180, 2), n_bins=2, window_ms=1.0)
    # slices [1000, 1500) and [1500, 2000) us; the event at 2500 us falls outside
    assert frames[0, :, 1, 0, :4].sum(axis=1).tolist() == [2, 1]


@pytest.mark.parametrize(
    "name, write, pattern, keep",
    [
        ("dvs128-gesture", write_gesture, "ibmGestureTrain.tar.gz.d/*/*/3.npy", 200),
        ("n-caltech101", write_ncaltech, "*.zip.d/**/accordion/image_0002.bin", 503),
        ("cifar10-dvs", write_cifar10dvs, "**/classes/**/cifar10_cat_1.aedat4", 700),
    ],
)
def test_truncated_event_file_is_named(tmp_path, name, write, pattern, keep):
    root = tmp_path / name
    write(root)
    if name == "cifar10-dvs":
        cifar10_dvs.list_files(root)  # unpack the class archives, as a first run does
    if name == "n-caltech101":
        n_caltech101.class_folder(root)
    victim = sorted(root.glob(pattern))[0]
    victim.write_bytes(victim.read_bytes()[:keep])
    with pytest.raises(ValueError, match=f"event file {victim} is corrupt or truncated"):
        module = {"dvs128-gesture": dvs128_gesture, "n-caltech101": n_caltech101}.get(
            name, cifar10_dvs
        )
        sensor = DATASETS[name].frame_shape(DATASETS[name].options())[1:]
        load_event_dataset(
            module.list_files, module.read_events, module.ARCHIVES, root, sensor, n_bins=2
        )
