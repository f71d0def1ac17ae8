"""Fashion-MNIST (Xiao et al. 2017; MIT licence): 70,000 28×28 grey images of ten kinds
of clothing, 7,000 each, with the official split of 10,000 test images.

Its four published files are gzipped IDX files, read as they are: nothing is unpacked.
Each file is taken from the data set's raw folder (``<data.raw_root>/fashion-mnist``),
where ``fetch_dataset`` downloads it from the official address and checks it against
the published md5; a file that is not there is taken from :data:`DEBIAN_DIR`, where
Debian's ``dataset-fashion-mnist`` package installs the same data. Debian recompressed
the files, so the published md5 cannot check them: their decompressed content is
checked instead. Offline, the fetch stage records Debian's files (:func:`offline`) where
the download fails. With neither, the loader stops and says how to get the data.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from spikecut.data.download import Archive, DatasetUnavailable, marker_of, md5sum
from spikecut.data.spec import DatasetSpec, NoOptions, Samples, fixed_shape
from spikecut.recovery import remake

URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# images then labels, training then test, with their md5 as the authors publish them
ARCHIVES = tuple(
    Archive(URL + name, md5, name, unpack=False)
    for name, md5 in (
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    )
)
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
# sha256 of each file's decompressed content (the IDX bytes), computed from the files
# of Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1: checks of those files,
# whose .gz containers differ from the published ones
DEBIAN_CONTENT_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    ),
    "train-labels-idx1-ubyte.gz": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
    ),
}
SIDE = 28


def _missing(names: list[str], root: Path) -> DatasetUnavailable:
    return DatasetUnavailable(
        f"Fashion-MNIST's {', '.join(names)} are neither in {root} (where fetch_dataset "
        f"downloads them) nor in {DEBIAN_DIR} (where Debian's {DEBIAN_PACKAGE} installs "
        f"them). Install that package (`apt-get install {DEBIAN_PACKAGE}`, as root), or "
        f"download them with internet access: {remake(marker_of(root))}; or download "
        f"{', '.join(URL + n for n in names)} on a machine with internet access and copy "
        f"them to {root}"
    )


def _official(path: Path, archive: Archive, root: Path) -> bytes:
    found = md5sum(path)
    if found != archive.md5:
        marker = marker_of(root)
        raise DatasetUnavailable(
            f"{path} has md5 {found}, expected {archive.md5}: it is corrupt or incomplete; "
            f"{remake(path, also=[marker], target=marker)} (it downloads again)"
        )
    return gzip.decompress(path.read_bytes())


def _debian(path: Path) -> bytes:
    try:
        content = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise _damaged(path, f"cannot be decompressed ({type(err).__name__}: {err})") from err
    found, expected = hashlib.sha256(content).hexdigest(), DEBIAN_CONTENT_SHA256[path.name]
    if found != expected:
        raise _damaged(path, f"holds content of sha256 {found}, expected {expected}")
    return content


def _damaged(path: Path, what: str) -> DatasetUnavailable:
    return DatasetUnavailable(
        f"{path} {what}: Debian's {DEBIAN_PACKAGE} is damaged or of another version; "
        f"reinstall it (`apt-get install --reinstall {DEBIAN_PACKAGE}`, as root), or "
        "download the official files with internet access (fetch_dataset places them in "
        "the data set's raw folder, where they are read first)"
    )


def _source(archive: Archive, root: Path) -> tuple[Path, Callable[[], bytes]] | None:
    """Where ``archive`` is read from and what reads its verified content: the
    downloaded file, else Debian's; None where neither is there."""
    downloaded, debian = root / archive.filename, DEBIAN_DIR / archive.filename
    if downloaded.exists():
        return downloaded, partial(_official, downloaded, archive, root)
    if debian.exists():
        return debian, partial(_debian, debian)
    return None


def _sources(root: Path) -> dict[str, tuple[Path, Callable[[], bytes]]]:
    """Each file's :func:`_source`; stops, naming every way to get them, where any is
    in neither place."""
    sources = {a.filename: _source(a, root) for a in ARCHIVES}
    missing = [name for name, source in sources.items() if source is None]
    if missing:
        raise _missing(missing, root)
    return sources


def offline(root: Path) -> dict:
    """Where each file is read from without a download, checked as the loader checks
    it (so that a damaged package stops the fetch, not the preparation): the fetch
    stage's marker where the download fails."""
    placed = {}
    for name, (path, read) in _sources(root).items():
        read()
        placed[name] = {"path": str(path)}
    return placed


def read_idx(content: bytes, name: str) -> np.ndarray:
    """An IDX file of unsigned bytes: two zero bytes, the type 0x08, the number of
    dimensions, each dimension as a big-endian uint32, then the data."""
    if len(content) < 4 or content[:3] != b"\x00\x00\x08":
        raise ValueError(f"{name} is not an IDX file of unsigned bytes")
    ndim = content[3]
    shape = tuple(int(d) for d in np.frombuffer(content, ">u4", ndim, 4))
    data = np.frombuffer(content, np.uint8, offset=4 + 4 * ndim)
    if data.size != np.prod(shape):
        raise ValueError(f"{name} holds {data.size} values, its header says {shape}")
    return data.reshape(shape)


def load(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every image as uint8 ``[N, 1, 28, 28]``, training images first, with int64 labels
    and the mask of the official test split."""
    sources = _sources(root)
    images, labels = [], []
    for images_file, labels_file in (ARCHIVES[:2], ARCHIVES[2:]):
        x = read_idx(sources[images_file.filename][1](), images_file.filename)
        y = read_idx(sources[labels_file.filename][1](), labels_file.filename)
        if x.shape[1:] != (SIDE, SIDE) or y.shape != x.shape[:1]:
            raise ValueError(
                f"{images_file.filename} and {labels_file.filename} hold images of shape "
                f"{x.shape} and labels of shape {y.shape}"
            )
        images.append(x)
        labels.append(y)
    n_test = len(labels[1])
    y = np.concatenate(labels).astype(np.int64)
    return np.concatenate(images)[:, None], y, np.arange(len(y)) >= len(y) - n_test


def build(n_steps: int | None, seed: int, options: NoOptions, root: Path) -> Samples:
    return Samples(*load(root))


DATASET = DatasetSpec(
    "fashion-mnist",
    "static",
    10,
    build,
    NoOptions,
    fixed_shape((1, SIDE, SIDE)),
    None,
    (0.2860,),  # the training images' mean and std, of intensities in [0, 1]
    (0.3530,),
    archives=ARCHIVES,
    fixed_test=True,
    offline=offline,
)
