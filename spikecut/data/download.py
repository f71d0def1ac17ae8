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
    """One published file of a data set: its source, md5 and file name, and whether it
    is unpacked (a .zip or .tar) or read as it is (a single gzipped file). Each data
    set's are in its module under :mod:`spikecut.data.sets`, as their authors (and
    torchvision and tonic) publish them."""

    url: str
    md5: str
    filename: str
    unpack: bool = True


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


def unpack_again(archives: tuple[Archive, ...], root: str | os.PathLike) -> str:
    """Advice for broken unpacked files of a data set's ``archives`` in ``root``: delete
    what was unpacked and the marker, and fetch again, which unpacks the kept archives."""
    unpacked = [extracted_dir(root, a) for a in archives if a.unpack]
    return remake(unpacked[0], also=[*unpacked[1:], marker_of(root)], target=marker_of(root))


def fetch_dataset(
    archives: tuple[Archive, ...], root: str | os.PathLike, timeout: float = 60.0
) -> dict:
    """Fetch and verify every one of a data set's ``archives`` into ``root``, and unpack
    those that are unpacked; return what was placed where."""
    placed = {}
    for archive in archives:
        path = fetch(archive, root, timeout)
        placed[archive.filename] = {"path": str(path), "md5": archive.md5, "url": archive.url}
        if archive.unpack:
            placed[archive.filename]["extracted"] = str(extract(path, extracted_dir(root, archive)))
    return placed
