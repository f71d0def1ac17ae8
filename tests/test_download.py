import gzip
import hashlib
import io
import tarfile
import zipfile

import pytest

from spikecut.data import DATASETS
from spikecut.data.download import (
    Archive,
    DatasetUnavailable,
    extract,
    extracted_dir,
    fetch,
    fetch_dataset,
    md5sum,
    unpack_again,
)
from tests.fakes import Served


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on loopback serving a folder."""
    served = tmp_path / "served"
    served.mkdir()
    with Served(served) as base:
        yield served, base


def test_download_checks_md5(tmp_path, server):
    served, base = server
    payload = b"spikes" * 1000
    (served / "a.tar.gz").write_bytes(payload)
    root = tmp_path / "raw"
    got = fetch(Archive(f"{base}/a.tar.gz", md5(payload), "a.tar.gz"), root)
    assert got.read_bytes() == payload and md5sum(got) == md5(payload)
    # a second call finds the verified file and does not download
    (served / "a.tar.gz").unlink()
    assert fetch(Archive(f"{base}/a.tar.gz", md5(payload), "a.tar.gz"), root) == got


def test_bad_download_keeps_nothing(tmp_path, server):
    served, base = server
    (served / "b.zip").write_bytes(b"truncated")
    root = tmp_path / "raw"
    with pytest.raises(DatasetUnavailable, match="has md5 .*nothing was kept"):
        fetch(Archive(f"{base}/b.zip", "0" * 32, "b.zip"), root)
    assert list(root.iterdir()) == []


def test_file_read_as_it_is_is_not_unpacked(tmp_path, server):
    """A gzipped file that is not an archive (Fashion-MNIST's) is fetched and checked,
    then left as it is, beside an archive that is unpacked."""
    served, base = server
    payload = gzip.compress(b"\x00\x00\x08\x01" + bytes(20))
    (served / "labels.gz").write_bytes(payload)
    make_tar(served / "a.tar.gz", {"d/x.bin": b"1"})
    plain = Archive(f"{base}/labels.gz", md5(payload), "labels.gz", unpack=False)
    packed = Archive(f"{base}/a.tar.gz", md5sum(served / "a.tar.gz"), "a.tar.gz")
    root = tmp_path / "raw"
    placed = fetch_dataset((plain, packed), root)
    assert (root / "labels.gz").read_bytes() == payload
    assert placed["labels.gz"] == {
        "path": str(root / "labels.gz"),
        "md5": md5(payload),
        "url": plain.url,
    }
    assert placed["a.tar.gz"]["extracted"] == str(extracted_dir(root, packed))
    assert sorted(p.name for p in root.iterdir()) == ["a.tar.gz", "a.tar.gz.d", "labels.gz"]
    # the advice for broken unpacked files deletes only what was unpacked
    advice = unpack_again((plain, packed), root)
    assert str(extracted_dir(root, packed)) in advice and "labels.gz" not in advice
    # its md5 is checked as an archive's
    (root / "labels.gz").unlink()
    wrong = Archive(plain.url, "0" * 32, "labels.gz", unpack=False)
    with pytest.raises(DatasetUnavailable, match="labels.gz has md5 .*nothing was kept"):
        fetch_dataset((wrong,), root)
    assert not (root / "labels.gz").exists()


def test_offline_message_names_url_and_path(tmp_path):
    # port 9 on loopback refuses connections at once, as an offline machine does
    archive = Archive(
        "http://127.0.0.1:9/cifar-10-python.tar.gz", "0" * 32, "cifar-10-python.tar.gz"
    )
    with pytest.raises(DatasetUnavailable) as err:
        fetch(archive, tmp_path / "raw", timeout=5)
    message = str(err.value)
    assert "could not download http://127.0.0.1:9/cifar-10-python.tar.gz" in message
    assert str((tmp_path / "raw" / "cifar-10-python.tar.gz").resolve()) in message
    assert "copy it to" in message and "then fetch the data set again" in message
    assert not (tmp_path / "raw" / "cifar-10-python.tar.gz").exists()


def test_corrupt_existing_archive(tmp_path):
    root = tmp_path / "raw"
    root.mkdir()
    (root / "x.zip").write_bytes(b"abc")
    with pytest.raises(DatasetUnavailable, match="corrupt or incomplete"):
        fetch(Archive("http://127.0.0.1:9/x.zip", "0" * 32, "x.zip"), root)


def make_tar(path, files):
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def test_extract_is_all_or_nothing(tmp_path):
    make_tar(tmp_path / "a.tar.gz", {"d/x.bin": b"1", "d/y.bin": b"22"})
    out = extract(tmp_path / "a.tar.gz", tmp_path / "a")
    assert (out / "d" / "y.bin").read_bytes() == b"22"
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as zf:
        zf.writestr("z.txt", "zip")
    assert (extract(tmp_path / "b.zip", tmp_path / "b") / "z.txt").read_text() == "zip"
    data = (tmp_path / "a.tar.gz").read_bytes()
    (tmp_path / "broken.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetUnavailable, match="could not be unpacked"):
        extract(tmp_path / "broken.tar.gz", tmp_path / "broken")
    assert not (tmp_path / "broken").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_manifest_is_well_formed():
    downloaded = {name for name, spec in DATASETS.items() if spec.remote}
    assert downloaded == {
        "cifar10",
        "cifar100",
        "tiny-imagenet",
        "cifar10-dvs",
        "dvs128-gesture",
        "n-caltech101",
        "n-mnist",
        "fashion-mnist",
        "fashion-dvs",
    }
    for name in downloaded:
        for a in DATASETS[name].archives:
            assert a.url.startswith("http") and len(a.md5) == 32 and a.filename


def test_shared_raw_folders_are_fetched_as_their_owner_fetches_them():
    """A data set reading another's raw folder is fetched by that data set's rule: it
    must name one that reads its own, with the same files and offline source."""
    for spec in DATASETS.values():
        owner = DATASETS[spec.raw_folder]
        assert owner.raw_folder == owner.name
        assert (spec.archives, spec.offline) == (owner.archives, owner.offline)
    assert DATASETS["fashion-dvs"].raw_folder == "fashion-mnist"
