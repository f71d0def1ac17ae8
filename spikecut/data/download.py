"""Fetching the paper's data sets: md5-checked downloads, atomic extraction, and one
clear message when a machine is offline.

Each archive is downloaded once to ``<root>/<filename>``, checked against its md5 and
only then given its final name; extraction goes to a hidden folder that is renamed
when complete. A failed or interrupted step leaves nothing that looks finished.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from spikecut.io import atomic_path
from spikecut.recovery import remake, remake_command


@dataclass(frozen=True)
class Archive:
    url: str
    md5: str
    filename: str


# Sources and checksums as published by the data sets' authors (and used by
# torchvision and tonic).
ARCHIVES: dict[str, tuple[Archive, ...]] = {
    "cifar10": (
        Archive(
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a",
            "cifar-10-python.tar.gz",
        ),
    ),
    "cifar100": (
        Archive(
            "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
            "eb9058c3a382ffc7106e4002c42a8d85",
            "cifar-100-python.tar.gz",
        ),
    ),
    "tiny-imagenet": (
        Archive(
            "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
            "90528d7ca1a48142e341f4ef8d21d0de",
            "tiny-imagenet-200.zip",
        ),
    ),
    "cifar10-dvs": (
        Archive(
            "https://figshare.com/ndownloader/files/38023437",
            "ce3a4a0682dc0943703bd8f749a7701c",
            "CIFAR10DVS.zip",
        ),
    ),
    "dvs128-gesture": (
        Archive(
            "https://figshare.com/ndownloader/files/38022171",
            "3a8f0d4120a166bac7591f77409cb105",
            "ibmGestureTrain.tar.gz",
        ),
        Archive(
            "https://figshare.com/ndownloader/files/38020584",
            "56070e45dadaa85fff82e0fbfbc06de5",
            "ibmGestureTest.tar.gz",
        ),
    ),
    "n-caltech101": (
        Archive(
            "https://data.mendeley.com/public-files/datasets/cy6cvx3ryv/files/"
            "36b5c52a-b49d-4853-addb-a836a8883e49/file_downloaded",
            "66201824eabb0239c7ab992480b50ba3",
            "N-Caltech101-archive.zip",
        ),
    ),
}


class DatasetUnavailable(RuntimeError):
    """A data set could not be obtained; the message says how to place it by hand."""


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def marker_of(root: str | os.PathLike) -> Path:
    """The file ``fetch_dataset`` writes once a data set's archives are in place."""
    return Path(root) / "fetched.json"


def _manual(archive: Archive, target: Path) -> str:
    command = remake_command(marker_of(target.parent))
    then = f"then run `{command}`" if command else "then fetch the data set again"
    return (
        f"Download {archive.url} on a machine with internet access and copy it to "
        f"{target.resolve()} (md5 {archive.md5}), {then}"
    )


def fetch(archive: Archive, root: str | os.PathLike, timeout: float = 60.0) -> Path:
    """The verified archive at ``root/filename``, downloading it if it is missing."""
    target = Path(root) / archive.filename
    if target.exists():
        found = md5sum(target)
        if found != archive.md5:
            raise DatasetUnavailable(
                f"{target} has md5 {found}, expected {archive.md5}: it is corrupt or "
                f"incomplete; {remake(target, target=marker_of(root))} (it downloads "
                f"again). Offline: {_manual(archive, target)}"
            )
        return target
    try:
        with atomic_path(target) as tmp:
            with (
                urllib.request.urlopen(archive.url, timeout=timeout) as response,
                open(tmp, "wb") as out,
            ):
                shutil.copyfileobj(response, out, 1 << 20)
            found = md5sum(tmp)
            if found != archive.md5:
                raise DatasetUnavailable(
                    f"the download of {archive.url} has md5 {found}, expected "
                    f"{archive.md5}; nothing was kept. " + _manual(archive, target)
                )
    except DatasetUnavailable:
        raise
    except OSError as err:  # URLError, HTTPError, timeouts and connection errors
        raise DatasetUnavailable(
            f"could not download {archive.url} ({err}). " + _manual(archive, target)
        ) from err
    return target


def extract(
    archive_path: str | os.PathLike, destination: str | os.PathLike, advice: str | None = None
) -> Path:
    """Unpack a .zip, .tar or .tar.gz into ``destination``, all or nothing; a corrupt
    archive stops with ``advice`` (default: delete and download it again)."""
    archive_path, destination = Path(archive_path), Path(destination)
    if destination.exists():
        return destination
    partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        if zipfile.is_zipfile(archive_path):
            with zipfile.ZipFile(archive_path) as zf:
                zf.extractall(partial)
        else:
            with tarfile.open(archive_path) as tf:
                tf.extractall(partial, filter="data")
        os.replace(partial, destination)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as err:
        advice = advice or remake(archive_path, target=marker_of(archive_path.parent))
        raise DatasetUnavailable(
            f"{archive_path} could not be unpacked ({type(err).__name__}: "
            f"{err}); it is corrupt: {advice}"
        ) from err
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return destination


def extracted_dir(root: str | os.PathLike, archive: Archive) -> Path:
    """Where ``archive`` is unpacked under a data set's raw folder."""
    return Path(root) / f"{archive.filename}.d"


def unpack_again(name: str, root: str | os.PathLike) -> str:
    """Advice for broken unpacked files of data set ``name`` in ``root``: delete what
    was unpacked and the marker, and fetch again, which unpacks the kept archives."""
    unpacked = [extracted_dir(root, a) for a in ARCHIVES[name]]
    return remake(unpacked[0], also=[*unpacked[1:], marker_of(root)], target=marker_of(root))


def fetch_dataset(name: str, root: str | os.PathLike, timeout: float = 60.0) -> dict:
    """Fetch, verify and unpack every archive of data set ``name`` into ``root``;
    return what was placed where."""
    try:
        archives = ARCHIVES[name]
    except KeyError:
        raise ValueError(f"data set {name!r} has no download source") from None
    placed = {}
    for archive in archives:
        path = fetch(archive, root, timeout)
        placed[archive.filename] = {
            "md5": archive.md5,
            "url": archive.url,
            "extracted": str(extract(path, extracted_dir(root, archive))),
        }
    return placed
