"""Event loaders on small fake data sets written in the real on-disk formats:
DVS128 Gesture's per-user .npy recordings and N-Caltech101's 40-bit ATIS .bin files."""

import zipfile

import numpy as np
import pytest
import tonic.io

from spikecut.data import prepare
from spikecut.data.events import (
    NCALTECH_DTYPE,
    cifar10dvs_files,
    frame_events,
    list_gesture,
    load_event_dataset,
    ncaltech_files,
    ncaltech_folder,
    per_class_split,
    read_cifar10dvs,
    read_gesture,
    read_ncaltech,
)


def write_gesture(root, users=((1, "fluorescent"), (2, "lab")), test_users=((24, "led"),),
                  classes=11, n_events=300, seed=0):
    rng = np.random.default_rng(seed)
    for part, members in (("ibmGestureTrain", users), ("ibmGestureTest", test_users)):
        for user, light in members:
            folder = root / f"{part}.tar.gz.d" / part / f"user{user:02d}_{light}"
            folder.mkdir(parents=True)
            for label in range(classes):
                t = np.sort(rng.uniform(0, 6000, n_events))  # ms, as the files store
                xy = rng.integers(0, 128, (n_events, 2))
                p = rng.integers(0, 2, n_events)
                np.save(folder / f"{label}.npy",
                        np.column_stack([xy[:, 0], xy[:, 1], p, t]))


def test_gesture_official_split_and_reading(tmp_path):
    write_gesture(tmp_path)
    files, labels, is_test = list_gesture(tmp_path)
    assert len(files) == 33 and is_test.sum() == 11
    assert labels[:11].tolist() == sorted(range(11), key=str)  # sorted by file name
    ev = read_gesture(files[0])
    raw = np.load(files[0])
    assert ev.dtype.names == ("x", "y", "p", "t")
    assert ev["t"][-1] == round(raw[-1, 3] * 1000)  # ms -> us
    assert (np.diff(ev["t"]) >= 0).all()


def test_gesture_prepared_with_resize(tmp_path):
    write_gesture(tmp_path / "dvs128-gesture")
    data = prepare("dvs128-gesture", n_steps=5, seed=0, test_fraction=0.5,
                   val_fraction=0.5, options={"size": (32, 32)}, root=tmp_path)
    assert len(data.y["test"]) == 11
    assert data.x["test"].shape == (11, 5, 2, 32, 32) and data.x["test"].dtype == np.uint8
    assert data.kind == "events" and data.num_classes == 11 and data.norm is None
    total = sum(int(v.reshape(len(v), -1).sum()) for v in data.x.values())
    assert total == 33 * 300  # every event lands in one bin of one frame


def write_atis_bin(path, x, y, p, t):
    """N-MNIST/N-Caltech101 40-bit events: x, y, then polarity bit and 23-bit time."""
    raw = np.zeros((len(x), 5), dtype=np.uint8)
    raw[:, 0], raw[:, 1] = x, y
    raw[:, 2] = (p << 7) | ((t >> 16) & 127)
    raw[:, 3], raw[:, 4] = (t >> 8) & 255, t & 255
    path.write_bytes(raw.tobytes())


def write_ncaltech(root, classes=("accordion", "airplanes", "anchor"), per_class=10,
                   n_events=200, seed=0):
    rng = np.random.default_rng(seed)
    inner = root / "build" / "Caltech101"
    for name in classes + ("BACKGROUND_Google",):
        (inner / name).mkdir(parents=True)
        for k in range(per_class):
            t = np.sort(rng.integers(0, 300_000, n_events))
            write_atis_bin(inner / name / f"image_{k + 1:04d}.bin",
                           rng.integers(5, 200, n_events), rng.integers(3, 150, n_events),
                           rng.integers(0, 2, n_events), t)
    outer = root / "N-Caltech101-archive.zip.d" / "N-Caltech101"
    outer.mkdir(parents=True)
    with zipfile.ZipFile(outer / "Caltech101.zip", "w") as zf:
        for path in sorted(inner.rglob("*.bin")):
            zf.write(path, path.relative_to(inner.parent))


def test_atis_files_read_back_through_tonic(tmp_path):
    x, y = np.array([10, 20, 30]), np.array([5, 6, 7])
    p, t = np.array([1, 0, 1]), np.array([100, 70_000, 8_000_000])
    write_atis_bin(tmp_path / "a.bin", x, y, p, t)
    ev = tonic.io.read_mnist_file(str(tmp_path / "a.bin"), dtype=NCALTECH_DTYPE)
    assert ev["x"].tolist() == [10, 20, 30] and ev["t"].tolist() == t.tolist()
    assert ev["p"].tolist() == [1, 0, 1]
    shifted = read_ncaltech(tmp_path / "a.bin")
    assert shifted["x"].min() == 0 and shifted["y"].min() == 0


def test_ncaltech_per_class_split_is_sorted_and_9_to_1(tmp_path):
    write_ncaltech(tmp_path)
    folder = ncaltech_folder(tmp_path)
    assert folder.name == "Caltech101" and ncaltech_folder(tmp_path) == folder  # unpacked once
    files, labels, is_test = ncaltech_files(tmp_path)
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
    data = prepare("n-caltech101", n_steps=4, seed=0, test_fraction=0.5, val_fraction=0.1,
                   root=tmp_path)
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
        list_gesture(tmp_path)
    with pytest.raises(FileNotFoundError, match="fetch the data set first"):
        ncaltech_folder(tmp_path)


AEDAT4_INFO = """<dv version="2.0">
    <node name="outInfo">
        <node name="0">
            <attr key="typeIdentifier" type="string">EVTS</attr>
            <node name="info">
                <attr key="sizeX" type="int">128</attr>
                <attr key="sizeY" type="int">128</attr>
            </node>
        </node>
    </node>
</dv>
"""


def write_aedat4(path, t, x, y, on, chunk=64):
    """An uncompressed AEDAT 4 file: magic line, size-prefixed IOHeader flatbuffer, then
    packets (stream id, byte count, size-prefixed EventPacket flatbuffer)."""
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    info = builder.CreateString(AEDAT4_INFO)
    builder.StartObject(3)
    builder.PrependUOffsetTRelativeSlot(2, info, 0)
    builder.FinishSizePrefixed(builder.EndObject(), b"IOHE")
    parts = [b"#!AER-DAT4.0\r\n", bytes(builder.Output())]
    for start in range(0, len(t), chunk):
        sl = slice(start, start + chunk)
        builder = flatbuffers.Builder(1024)
        n = len(t[sl])
        builder.StartVector(16, n, 8)
        for ti, xi, yi, oi in reversed(list(zip(t[sl], x[sl], y[sl], on[sl]))):
            # struct Event {t: int64; x: int16; y: int16; on: bool}: 16 bytes, 3 padding
            builder.Prep(8, 16)
            builder.Pad(3)
            builder.PrependBool(bool(oi))
            builder.PrependInt16(int(yi))
            builder.PrependInt16(int(xi))
            builder.PrependInt64(int(ti))
        elements = builder.EndVector()
        builder.StartObject(1)
        builder.PrependUOffsetTRelativeSlot(0, elements, 0)
        builder.FinishSizePrefixed(builder.EndObject(), b"EVTS")
        payload = bytes(builder.Output())
        parts.append((0).to_bytes(4, "little") + len(payload).to_bytes(4, "little") + payload)
    path.write_bytes(b"".join(parts))


CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck")


def write_cifar10dvs(root, per_class=10, n_events=150, seed=0):
    """CIFAR10DVS.zip as published: one zip per class of AEDAT4 recordings."""
    rng = np.random.default_rng(seed)
    outer = root / "CIFAR10DVS.zip.d"
    outer.mkdir(parents=True)
    for name in CIFAR_CLASSES:
        with zipfile.ZipFile(outer / f"{name}.zip", "w") as zf:
            for k in range(per_class):
                path = root / f"cifar10_{name}_{k}.aedat4"
                t = np.sort(rng.integers(0, 1_000_000, n_events))
                write_aedat4(path, t, rng.integers(0, 128, n_events),
                             rng.integers(0, 128, n_events), rng.integers(0, 2, n_events))
                zf.write(path, f"{name}/{path.name}")
                path.unlink()


def test_aedat4_reads_back_through_tonic(tmp_path):
    t, x = np.array([5, 9, 400, 1000]), np.array([0, 127, 3, 64])
    y, on = np.array([1, 2, 127, 0]), np.array([1, 0, 0, 1])
    write_aedat4(tmp_path / "r.aedat4", t, x, y, on, chunk=3)  # two packets
    ev = read_cifar10dvs(tmp_path / "r.aedat4")
    assert ev.dtype.names == ("t", "x", "y", "p")
    assert ev["t"].tolist() == t.tolist() and ev["x"].tolist() == x.tolist()
    assert ev["y"].tolist() == y.tolist() and ev["p"].astype(int).tolist() == on.tolist()


def test_cifar10dvs_prepared_at_48x48(tmp_path):
    write_cifar10dvs(tmp_path / "cifar10-dvs")
    files, labels, is_test = cifar10dvs_files(tmp_path / "cifar10-dvs")
    assert len(files) == 100 and is_test.sum() == 10
    assert [f.name for f, t in zip(files, is_test) if t][0] == "cifar10_airplane_9.aedat4"
    data = prepare("cifar10-dvs", n_steps=10, seed=0, test_fraction=0.5, val_fraction=0.2,
                   options={"size": (48, 48)}, root=tmp_path)
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


@pytest.mark.parametrize("name, write, pattern, keep", [
    ("dvs128-gesture", write_gesture, "ibmGestureTrain.tar.gz.d/*/*/3.npy", 200),
    ("n-caltech101", write_ncaltech, "*.zip.d/**/accordion/image_0002.bin", 503),
    ("cifar10-dvs", write_cifar10dvs, "**/classes/**/cifar10_cat_1.aedat4", 700),
])
def test_truncated_event_file_is_named(tmp_path, name, write, pattern, keep):
    root = tmp_path / name
    write(root)
    if name == "cifar10-dvs":
        cifar10dvs_files(root)  # unpack the class archives, as a first run does
    if name == "n-caltech101":
        ncaltech_folder(root)
    victim = sorted(root.glob(pattern))[0]
    victim.write_bytes(victim.read_bytes()[:keep])
    with pytest.raises(ValueError, match=f"event file {victim} is corrupt or truncated"):
        load_event_dataset(name, root, n_bins=2, options={})
