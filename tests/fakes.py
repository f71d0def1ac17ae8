"""Small fakes of the paper's data sets, written in their real on-disk formats: CIFAR's
pickled batches, Tiny-ImageNet's JPEG folders, DVS128 Gesture's per-user .npy
recordings, N-Caltech101's 40-bit ATIS .bin files and CIFAR10-DVS's AEDAT 4 files.
``place_raw`` puts one where ``fetch_dataset`` would have unpacked the real one."""

import dataclasses
import json
import pickle
import zipfile

import numpy as np
import torchvision.datasets
from PIL import Image


def write_cifar(root, num_classes, per_batch=20, seed=0, classes=None):
    """The python-pickle layout of cifar-10-batches-py / cifar-100-python: each batch
    file holds ``per_batch`` images, with labels drawn from ``classes`` (default: all).
    CIFAR-10 has five training batches, CIFAR-100 one."""
    rng = np.random.default_rng(seed)
    real = torchvision.datasets.CIFAR10 if num_classes == 10 else torchvision.datasets.CIFAR100
    folder = root / real.base_folder
    folder.mkdir(parents=True)
    label_key = "labels" if num_classes == 10 else "fine_labels"
    pool = np.arange(num_classes) if classes is None else np.asarray(classes)
    for name, _ in real.train_list + real.test_list:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.permutation(np.resize(pool, per_batch))]  # balanced
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": data, label_key: labels}, fh)
    with open(folder / real.meta["filename"], "wb") as fh:
        pickle.dump({real.meta["key"]: [f"c{i}" for i in range(num_classes)]}, fh)
    return real


def write_tiny_imagenet(root, n_classes=3, per_class=4, n_val=5, seed=0, size=64):
    """The published tiny-imagenet-200 folder layout, with ``size`` x ``size`` JPEGs."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    wnids = [f"n0{i:07d}" for i in range(n_classes)]
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    for wnid in wnids:
        images = root / "train" / wnid / "images"
        images.mkdir(parents=True)
        for k in range(per_class):
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
                images / f"{wnid}_{k}.JPEG"
            )
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
    (root / "val" / "images").mkdir(parents=True)
    lines = []
    for k in range(n_val):
        name = f"val_{k}.JPEG"
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(
            root / "val" / "images" / name
        )  # grey, as some real ones are
        lines.append(f"{name}\t{wnids[k % n_classes]}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    return wnids


def write_gesture(
    root,
    users=((1, "fluorescent"), (2, "lab")),
    test_users=((24, "led"),),
    classes=11,
    n_events=300,
    seed=0,
):
    rng = np.random.default_rng(seed)
    for part, members in (("ibmGestureTrain", users), ("ibmGestureTest", test_users)):
        for user, light in members:
            folder = root / f"{part}.tar.gz.d" / part / f"user{user:02d}_{light}"
            folder.mkdir(parents=True)
            for label in range(classes):
                t = np.sort(rng.uniform(0, 6000, n_events))  # ms, as the files store
                xy = rng.integers(0, 128, (n_events, 2))
                p = rng.integers(0, 2, n_events)
                np.save(folder / f"{label}.npy", np.column_stack([xy[:, 0], xy[:, 1], p, t]))


def write_atis_bin(path, x, y, p, t):
    """N-MNIST/N-Caltech101 40-bit events: x, y, then polarity bit and 23-bit time."""
    raw = np.zeros((len(x), 5), dtype=np.uint8)
    raw[:, 0], raw[:, 1] = x, y
    raw[:, 2] = (p << 7) | ((t >> 16) & 127)
    raw[:, 3], raw[:, 4] = (t >> 8) & 255, t & 255
    path.write_bytes(raw.tobytes())


def write_ncaltech(
    root, classes=("accordion", "airplanes", "anchor"), per_class=10, n_events=200, seed=0
):
    rng = np.random.default_rng(seed)
    inner = root / "build" / "Caltech101"
    for name in classes + ("BACKGROUND_Google",):
        (inner / name).mkdir(parents=True)
        for k in range(per_class):
            t = np.sort(rng.integers(0, 300_000, n_events))
            write_atis_bin(
                inner / name / f"image_{k + 1:04d}.bin",
                rng.integers(5, 200, n_events),
                rng.integers(3, 150, n_events),
                rng.integers(0, 2, n_events),
                t,
            )
    outer = root / "N-Caltech101-archive.zip.d" / "N-Caltech101"
    outer.mkdir(parents=True)
    with zipfile.ZipFile(outer / "Caltech101.zip", "w") as zf:
        for path in sorted(inner.rglob("*.bin")):
            zf.write(path, path.relative_to(inner.parent))


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


CIFAR_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def write_cifar10dvs(root, per_class=10, n_events=150, seed=0, classes=CIFAR_CLASSES):
    """CIFAR10DVS.zip as published: one zip per class of AEDAT4 recordings."""
    rng = np.random.default_rng(seed)
    outer = root / "CIFAR10DVS.zip.d"
    outer.mkdir(parents=True)
    for name in classes:
        with zipfile.ZipFile(outer / f"{name}.zip", "w") as zf:
            for k in range(per_class):
                path = root / f"cifar10_{name}_{k}.aedat4"
                t = np.sort(rng.integers(0, 1_000_000, n_events))
                write_aedat4(
                    path,
                    t,
                    rng.integers(0, 128, n_events),
                    rng.integers(0, 128, n_events),
                    rng.integers(0, 2, n_events),
                )
                zf.write(path, f"{name}/{path.name}")
                path.unlink()


def place_raw(name, raw_root, seed=0):
    """A small fake of data set ``name`` under ``raw_root/name``, unpacked where
    ``fetch_dataset`` unpacks the real archives, with the marker it writes, so that the
    workflow takes it for fetched. Each has a few classes and a few dozen samples."""
    root = raw_root / name
    if name == "cifar10":
        write_cifar(root / "cifar-10-python.tar.gz.d", 10, per_batch=3, seed=seed, classes=range(3))
    elif name == "cifar100":
        write_cifar(
            root / "cifar-100-python.tar.gz.d", 100, per_batch=12, seed=seed, classes=range(3)
        )
    elif name == "tiny-imagenet":  # 32 x 32: VGG-16's five poolings need that much
        write_tiny_imagenet(
            root / "tiny-imagenet-200.zip.d" / "tiny-imagenet-200",
            n_classes=3,
            per_class=5,
            n_val=3,
            seed=seed,
            size=32,
        )
    elif name == "dvs128-gesture":
        users = ((1, "fluorescent"), (2, "lab"), (3, "led"))
        write_gesture(root, users=users, classes=11, n_events=200, seed=seed)
    elif name == "n-caltech101":
        write_ncaltech(root, per_class=10, n_events=150, seed=seed)
    elif name == "cifar10-dvs":
        write_cifar10dvs(root, per_class=10, n_events=100, seed=seed, classes=CIFAR_CLASSES[:3])
    else:
        raise ValueError(f"no fake for {name!r}")
    (root / "fetched.json").write_text(json.dumps({"fake": name}))
    return root


def write_idx_gz(path, array):
    """A gzipped IDX file of unsigned bytes, as Fashion-MNIST's (and MNIST's): two zero
    bytes, the type 0x08, the number of dimensions, each a big-endian uint32, the data."""
    import gzip

    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    path.write_bytes(gzip.compress(header + np.ascontiguousarray(array, np.uint8).tobytes()))


def write_fashion_mnist(root, n_train=40, n_test=20, seed=0):
    """Fashion-MNIST's four published .gz files in ``root``, where ``fetch_dataset``
    downloads them: 28x28 images of a bright rectangle whose size grows with the class,
    on faint noise, classes balanced. Returns the images ``[N, 28, 28]`` and labels,
    training ones first."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    labels = np.concatenate([np.resize(np.arange(10), n) for n in (n_train, n_test)])
    images = rng.integers(0, 8, (len(labels), 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels):
        top, left = rng.integers(2, 6, 2)
        image[top : top + 8 + 2 * label, left : left + 12] = 200 + rng.integers(0, 56)
    for prefix, part in (("train", slice(0, n_train)), ("t10k", slice(n_train, None))):
        write_idx_gz(root / f"{prefix}-images-idx3-ubyte.gz", images[part])
        write_idx_gz(root / f"{prefix}-labels-idx1-ubyte.gz", labels[part])
    return images, labels


def downloaded_fashion_mnist(tmp_path, monkeypatch, n_train, n_test):
    """A Fashion-MNIST fake in its raw folder, as ``fetch_dataset`` downloads it, with
    the published md5 made the fake's and no Debian package: the loader reads these.
    Returns the folder, the images and the labels."""
    from spikecut.data.download import md5sum
    from spikecut.data.sets import fashion_mnist

    root = tmp_path / "raw" / "fashion-mnist"
    images, labels = write_fashion_mnist(root, n_train=n_train, n_test=n_test)
    archives = tuple(
        dataclasses.replace(a, md5=md5sum(root / a.filename)) for a in fashion_mnist.ARCHIVES
    )
    monkeypatch.setattr(fashion_mnist, "ARCHIVES", archives)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    return root, images, labels


def write_nmnist(root, per_class=3, test_per_class=2, n_events=120, seed=0):
    """N-MNIST's train.zip and test.zip as published: ``Train/<digit>/<id>.bin`` and
    ``Test/<digit>/<id>.bin``, 40-bit ATIS events on the 34x34 sensor over 300 ms."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name, folder, count in (
        ("train.zip", "Train", per_class),
        ("test.zip", "Test", test_per_class),
    ):
        with zipfile.ZipFile(root / name, "w") as zf:
            for digit in range(10):
                for k in range(count):
                    path = root / "recording.bin"
                    write_atis_bin(
                        path,
                        rng.integers(0, 34, n_events),
                        rng.integers(0, 34, n_events),
                        rng.integers(0, 2, n_events),
                        np.sort(rng.integers(0, 300_000, n_events)),
                    )
                    zf.write(path, f"{folder}/{digit}/{10 * k + digit + 1:05d}.bin")
                    path.unlink()


class Served:
    """A real HTTP server on loopback serving ``folder``, for a ``with`` block that gets
    its base URL."""

    def __init__(self, folder):
        import http.server
        from functools import partial

        handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self):
        import threading

        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
