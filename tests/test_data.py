"""Tests for lab.idx and lab.data: IDX parsing, downloads, the data ladder.

Real data comes from ../shared/data/mnist (the MNIST test set, never copied
into the repo).  Downloads go to a loopback HTTP server; a guard makes any
other network connection fail, and HOME, the working directory, the caches
and the system dataset folder all point into tmp_path.
"""

import gzip
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lab import data
from lab.data import (
    MNIST,
    DataUnavailableError,
    DownloadCancelled,
    DownloadError,
    RemoteFile,
    download_files,
    ensure_files,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    load_mnist_test,
    load_sample,
    read_split,
)
from lab.idx import idx_bytes, parse_idx, read_idx, write_idx

try:
    from tests.mnist_server import MirrorServer, closed_port_url
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from mnist_server import MirrorServer, closed_port_url

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TEST_IMAGES = SHARED / "t10k-images-idx3-ubyte.gz"
TEST_LABELS = SHARED / "t10k-labels-idx1-ubyte.gz"
T10K = MNIST.files[2:]  # the two test-set RemoteFiles, real names and SHA-256
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

needs_shared = pytest.mark.skipif(
    not TEST_LABELS.exists(), reason=f"real MNIST test files not found in {SHARED}")


# ------------------------------------------------------------------ fixtures

@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Keep every test away from the real home, caches, system folders and internet."""
    for var in ("BACKPROP_LAB_MNIST_DIR", "BACKPROP_LAB_FASHION_MNIST_DIR", "BACKPROP_LAB_CACHE",
                "BACKPROP_LAB_OFFLINE", "XDG_CACHE_HOME", "KERAS_HOME"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    (tmp_path / "work").mkdir()
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setattr(data, "SYSTEM_DATASETS", tmp_path / "system")
    real_connect = socket.create_connection

    def loopback_only(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost"):
            raise OSError(f"test tried to reach {address[0]}")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", loopback_only)
    return home


def full_copy(folder):
    """A folder with all four IDX files: the real test set doubles as the train set."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "t10k"):
        shutil.copy(TEST_IMAGES, folder / f"{split}-images-idx3-ubyte.gz")
        shutil.copy(TEST_LABELS, folder / f"{split}-labels-idx1-ubyte.gz")
    return folder


def fake_full_files():
    """RemoteFiles for full_copy(): train names, but the test files' size and SHA-256."""
    return tuple(RemoteFile(f"{split}{f.name[4:]}", f.sha256, f.size)
                 for split in ("train", "t10k") for f in T10K)


@pytest.fixture
def mirrors(tmp_path):
    """A loopback server with mirrors: empty (404s), good, bad (a flipped byte),
    short (truncated files), cut (connection dropped halfway) and slow (1 KB every 2 s)."""
    root = tmp_path / "www"
    good = full_copy(root / "good")
    (root / "empty").mkdir()
    for name in ("bad", "short", "cut", "slow"):
        shutil.copytree(good, root / name)
    for f in (root / "bad").iterdir():
        blob = bytearray(f.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        f.write_bytes(bytes(blob))
    for f in (root / "short").iterdir():
        f.write_bytes(f.read_bytes()[:-100])
    with MirrorServer(root) as server:
        yield server


def no_partial_files(folder):
    return not any(p.name.endswith(".part") for p in Path(folder).rglob("*"))


# ------------------------------------------------------------------ IDX files

@needs_shared
def test_read_idx_real_test_set():
    x, y = read_idx(TEST_IMAGES), read_idx(TEST_LABELS)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    assert y[:10].tolist() == FIRST_TEST_LABELS
    assert np.bincount(y).tolist() == TEST_LABEL_COUNTS
    assert x.min() == 0 and x.max() == 255


@needs_shared
def test_read_idx_reads_uncompressed_files_too(tmp_path):
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress(TEST_LABELS.read_bytes()))
    assert np.array_equal(read_idx(raw), read_idx(TEST_LABELS))


@needs_shared
def test_read_idx_rejects_truncated_and_corrupt_gzip(tmp_path):
    short = tmp_path / "short.gz"
    short.write_bytes(TEST_IMAGES.read_bytes()[:-1000])
    with pytest.raises(ValueError, match="short.gz.*truncated"):
        read_idx(short)
    flipped = bytearray(TEST_LABELS.read_bytes())
    flipped[2000] ^= 0x01
    bad = tmp_path / "bad.gz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="bad.gz"):
        read_idx(bad)


def test_parse_idx_checks_header_and_exact_length():
    good = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    assert parse_idx(good).shape == (3, 28, 28)
    with pytest.raises(ValueError, match="needs 2,368 bytes in all, the file has 2,367"):
        parse_idx(good[:-1], "x.idx")
    with pytest.raises(ValueError, match="has 2,369"):
        parse_idx(good + b"\0")
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"\x01" + good[1:])
    with pytest.raises(ValueError, match="unknown IDX dtype code 0x07"):
        parse_idx(good[:2] + b"\x07" + good[3:])
    with pytest.raises(ValueError, match="truncated IDX header"):
        parse_idx(good[:10])
    with pytest.raises(ValueError, match="too short"):
        parse_idx(b"\0\0")


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", "<i4", "f4", "f8"])
def test_write_then_read_idx_round_trips(tmp_path, dtype):
    a = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx.gz", a)
    b = read_idx(tmp_path / "a.idx.gz")
    assert b.shape == a.shape and np.array_equal(a, b)


@needs_shared
def test_read_split_and_load_mnist_test_read_only_the_test_files():
    x, y = load_mnist_test(SHARED)
    assert x.shape == (10000, 28, 28) and y.dtype == np.int64
    assert np.array_equal(read_split(SHARED, "test")[1], y)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        read_split(SHARED, "train")


# ------------------------------------------------------------------ downloads

@needs_shared
def test_download_reports_progress_and_verifies(tmp_path, mirrors):
    calls = []
    paths = download_files(T10K, tmp_path / "dl", [mirrors.url("good")],
                           progress=lambda done, total, name: calls.append((done, total, name)))
    assert [p.name for p in paths] == [f.name for f in T10K]
    assert [data.sha256_of(p) for p in paths] == [f.sha256 for f in T10K]
    for f in T10K:
        done = [d for d, total, name in calls if name == f.name]
        assert done == sorted(done) and done[0] == 0 and done[-1] == f.size
        assert {total for _, total, name in calls if name == f.name} == {f.size}
    assert no_partial_files(tmp_path / "dl")


@needs_shared
def test_download_tries_the_next_mirror_after_a_404(tmp_path, mirrors):
    download_files(T10K[1:], tmp_path, [mirrors.url("empty"), mirrors.url("good")])
    assert mirrors.requests == ["/empty/t10k-labels-idx1-ubyte.gz", "/good/t10k-labels-idx1-ubyte.gz"]


@needs_shared
@pytest.mark.parametrize("mirror, why", [("bad", "SHA-256 mismatch"), ("short", "truncated"),
                                         ("cut", "closed early|truncated|IncompleteRead")])
def test_damaged_downloads_are_rejected_and_never_left_behind(tmp_path, mirrors, mirror, why):
    dest = tmp_path / "dl"
    with pytest.raises(DownloadError, match=why):
        download_files(T10K, dest, [mirrors.url(mirror)])
    assert list(dest.iterdir()) == []  # no partial or bad file
    download_files(T10K, dest, [mirrors.url(mirror), mirrors.url("good")])  # next mirror saves the day
    assert sorted(p.name for p in dest.iterdir()) == sorted(f.name for f in T10K)


def test_download_error_names_every_mirror(tmp_path):
    down = closed_port_url()
    with pytest.raises(DownloadError, match=r"t10k-labels-idx1-ubyte.gz: 127.0.0.1:\d+: .*refused"):
        download_files(T10K[1:], tmp_path, [down])
    assert no_partial_files(tmp_path)


@needs_shared
def test_cache_hit_does_not_touch_the_network_and_bad_cache_is_replaced(tmp_path, mirrors):
    cache, good = tmp_path / "cache", [mirrors.url("good")]
    assert ensure_files(T10K, cache, good) == [f.name for f in T10K]
    assert len(mirrors.requests) == 2
    assert ensure_files(T10K, cache, good) == []
    assert len(mirrors.requests) == 2  # cache hit: no new request
    labels = cache / T10K[1].name
    labels.write_bytes(labels.read_bytes()[:-1])  # damage the cached copy
    assert ensure_files(T10K, cache, good) == [T10K[1].name]
    assert data.sha256_of(labels) == T10K[1].sha256


@needs_shared
def test_ladder_downloads_into_the_app_cache_then_reuses_it(tmp_path, mirrors, monkeypatch):
    monkeypatch.setenv("BACKPROP_LAB_CACHE", str(tmp_path / "appcache"))
    spec = replace(MNIST, files=fake_full_files(), mirrors=(mirrors.url("empty"), mirrors.url("good")))
    sizes = []
    ds = load_dataset(spec, progress=lambda done, total, name: sizes.append(total))
    assert not ds.is_sample and ds.notice is None
    assert ds.x_train.shape == (10000, 28, 28) and ds.y_test.dtype == np.int64
    assert "downloaded just now" in ds.source and "appcache/mnist" in ds.source
    assert (tmp_path / "appcache" / "mnist" / "t10k-images-idx3-ubyte.gz").exists()
    n = len(mirrors.requests)
    again = load_dataset(spec)
    assert "app cache" in again.source and len(mirrors.requests) == n


def test_server_down_falls_back_to_the_bundled_sample(tmp_path):
    ds = load_mnist(mirrors=[closed_port_url()], cache_dir=tmp_path / "cache")
    assert ds.is_sample and ds.name == "mnist"
    assert ds.notice.startswith("Offline: could not download MNIST (")
    assert "Using the bundled 5,000-image sample" in ds.notice
    assert len(ds.y_train) + len(ds.y_test) == 5000
    assert np.bincount(np.concatenate([ds.y_train, ds.y_test])).tolist() == [500] * 10
    assert "sample" in ds.source and no_partial_files(tmp_path / "cache")


@pytest.mark.parametrize("how", ["argument", "env"])
def test_downloads_off_means_sample_without_any_request(how, monkeypatch, mirrors):
    if how == "env":
        monkeypatch.setenv("BACKPROP_LAB_OFFLINE", "1")
    ds = load_mnist(download=(how != "argument"), mirrors=[mirrors.url("good")])
    assert ds.is_sample and "downloads are off" in ds.notice
    assert mirrors.requests == []


# ------------------------------------------------------------------ the ladder

@needs_shared
def test_explicit_directory_wins_over_everything(tmp_path, isolated):
    make_keras_npz(isolated / ".keras" / "datasets" / "mnist.npz", n=50)
    ds = load_mnist(data_dir=full_copy(tmp_path / "mine"), download=False)
    assert len(ds.y_train) == 10000 and not ds.is_sample and ds.notice is None
    assert ds.y_test[:10].tolist() == FIRST_TEST_LABELS
    assert "mine (data_dir)" in ds.source and ds.class_names == [str(d) for d in range(10)]


@needs_shared
def test_environment_variable_names_the_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_LAB_MNIST_DIR", str(full_copy(tmp_path / "env")))
    ds = load_mnist(download=False)
    assert "$BACKPROP_LAB_MNIST_DIR" in ds.source and len(ds.y_test) == 10000


@needs_shared
def test_bad_explicit_directory_raises_instead_of_falling_through(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(data_dir=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="missing train-images-idx3-ubyte.gz"):
        load_mnist(data_dir=SHARED)  # only the test split
    broken = full_copy(tmp_path / "broken")
    (broken / "train-labels-idx1-ubyte.gz").write_bytes(TEST_LABELS.read_bytes()[:-10])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz.*truncated"):
        load_mnist(data_dir=broken)


@needs_shared
def test_torchvision_raw_folder_is_found(isolated):
    raw = full_copy(isolated / "data" / "MNIST" / "raw")
    for gz in list(raw.glob("*.gz")):  # torchvision keeps the unpacked files beside them
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        if gz.name.startswith("train"):
            gz.unlink()
    ds = load_mnist(download=False)
    assert "~/data/MNIST/raw (torchvision's copy)" in ds.source and len(ds.y_train) == 10000


def make_keras_npz(path, n):
    """A Keras-layout mnist.npz holding the first ``n`` real test images as both splits."""
    x, y = read_idx(TEST_IMAGES)[:n], read_idx(TEST_LABELS)[:n]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x_train=x, y_train=y, x_test=x, y_test=y)


@needs_shared
def test_keras_npz_is_found(isolated):
    make_keras_npz(isolated / ".keras" / "datasets" / "mnist.npz", n=300)
    ds = load_mnist(download=False)
    assert "Keras's copy" in ds.source and "300 train / 300 test" in ds.source
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64


@needs_shared
def test_damaged_copy_of_another_tool_is_skipped(isolated):
    raw = full_copy(isolated / "data" / "MNIST" / "raw")
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(TEST_IMAGES.read_bytes()[:5000])
    ds = load_mnist(download=False)
    assert ds.is_sample and "Ignored unusable copies: ~/data/MNIST/raw" in ds.notice


@needs_shared
def test_fashion_mnist_debian_layout_is_found(tmp_path):
    full_copy(tmp_path / "system" / "fashion-mnist")  # same file names and format as Debian's
    ds = load_fashion_mnist(download=False)
    assert ds.name == "fashion-mnist" and ds.class_names[9] == "Ankle boot"
    assert "dataset-fashion-mnist" in ds.source


def test_fashion_mnist_unavailable_raises_a_clear_error():
    with pytest.raises(DataUnavailableError, match="BACKPROP_LAB_FASHION_MNIST_DIR"):
        load_fashion_mnist(download=False)


REAL_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (REAL_DEBIAN / "t10k-labels-idx1-ubyte.gz").exists(),
                    reason="Debian package dataset-fashion-mnist is not installed")
def test_real_debian_fashion_mnist_test_split():
    x, y = read_split(REAL_DEBIAN, "test")  # Debian re-gzipped the files: same data, other bytes
    assert x.shape == (10000, 28, 28) and np.bincount(y).tolist() == [1000] * 10
    assert y[0] == 9  # the first test image is an ankle boot


# ------------------------------------------------------------------ the sample

def test_bundled_sample_has_500_images_per_class():
    s = load_sample()
    assert s["x_train"].shape == (4000, 28, 28) and s["x_test"].shape == (1000, 28, 28)
    assert s["x_train"].dtype == np.uint8 and s["y_train"].dtype == np.int64
    labels = np.concatenate([s["y_train"], s["y_test"]])
    assert np.bincount(labels).tolist() == [500] * 10
    assert np.bincount(s["y_test"]).tolist() == [100] * 10
    assert s["x_train"].max() == 255 and s["x_train"].mean() > 20  # real strokes, not blanks


def test_sample_loader_rejects_a_wrong_file(tmp_path):
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((5, 28, 28), np.float32), y_train=np.zeros(5, np.int64),
             x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.zeros(5, np.int64))
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 28, 28\) and dtype uint8"):
        load_sample(tmp_path / "bad.npz")


# ------------------------------------------------------------------ faults

@needs_shared
def test_a_slow_mirror_is_given_up_at_the_files_deadline_and_the_next_one_used(tmp_path, mirrors, monkeypatch):
    monkeypatch.setattr(data, "DEADLINE_BASE", 1.5)      # the labels file's deadline: 1.5 s (+ 0 at 1 GB/s)
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"too slow: 0\.00 of 0\.0 MB after 2 s") as error:
        download_files(T10K[1:], tmp_path / "dl", [mirrors.url("slow")], min_speed=1e9)
    assert time.monotonic() - started < 6                 # not the 10 s the whole file would take
    assert not error.value.network_only                   # the mirror answered: not "offline"
    assert no_partial_files(tmp_path / "dl")
    download_files(T10K[1:], tmp_path / "dl", [mirrors.url("slow"), mirrors.url("good")], min_speed=1e9)
    assert data.sha256_of(tmp_path / "dl" / T10K[1].name) == T10K[1].sha256


def test_the_deadline_grows_with_the_file_size():
    assert data.file_deadline(9_912_422) == pytest.approx(30 + 99.1, abs=0.1)
    assert data.file_deadline(4_542) == pytest.approx(30.05, abs=0.01)


@needs_shared
def test_cancel_stops_a_download_at_once_leaves_nothing_and_tries_no_other_mirror(tmp_path, mirrors):
    cancel = threading.Event()
    seen = []

    def progress(done, total, name):
        seen.append(done)
        if done > 0:
            cancel.set()                                   # the learner presses Cancel after the first KB

    started = time.monotonic()
    with pytest.raises(DownloadCancelled, match="cancelled"):
        download_files(T10K[1:], tmp_path / "dl", [mirrors.url("slow"), mirrors.url("good")], progress=progress,
                       cancel=cancel)
    assert time.monotonic() - started < 5 and seen[:2] == [0, 1024]
    assert mirrors.requests == ["/slow/t10k-labels-idx1-ubyte.gz"] and no_partial_files(tmp_path / "dl")


def test_cancel_also_stops_the_whole_ladder(tmp_path, mirrors):
    with pytest.raises(DownloadCancelled):
        load_mnist(mirrors=[mirrors.url("slow")], cache_dir=tmp_path / "cache", cancel=lambda: True)


@pytest.mark.parametrize("done, elapsed, expected", [
    (500, 1.0, "measuring the speed…"),
    (1_000_000, 10.0, "100 kB/s, about 89 s left"),
    (2_000, 4.0, "0.5 kB/s: too slow to finish; this mirror is given up 125 s from now"),
])
def test_the_eta_is_honest(done, elapsed, expected):
    assert data.eta_text(done, 9_912_422, elapsed, data.file_deadline(9_912_422)) == expected


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_part_files_are_removed_on_the_next_load_and_live_ones_kept(tmp_path):
    cache = tmp_path / "cache" / "mnist"
    cache.mkdir(parents=True)
    dead = cache / f".train-images-idx3-ubyte.gz.{_dead_pid()}.x1.part"
    live = cache / f".train-labels-idx1-ubyte.gz.{os.getpid()}.x2.part"
    old = cache / f".t10k-images-idx3-ubyte.gz.{os.getpid()}.x3.part"
    for part in (dead, live, old):
        part.write_bytes(b"half a download")
    os.utime(old, (time.time() - 2 * data.STALE_PART_SECONDS,) * 2)
    ds = load_mnist(cache_dir=tmp_path / "cache", download=False)
    assert ds.is_sample                                    # nothing usable in the cache: the sample, as before
    assert not dead.exists() and not old.exists() and live.exists()


@needs_shared
def test_a_download_killed_midway_leaves_a_part_that_the_next_load_removes(tmp_path, mirrors):
    cache = tmp_path / "cache"
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from lab.data import MNIST, download_files; "
            "download_files(MNIST.files[3:], sys.argv[2], [sys.argv[3]])")
    child = subprocess.Popen([sys.executable, "-c", code, str(data.REPO_ROOT), str(cache / "mnist"),
                              mirrors.url("slow")])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not list((cache / "mnist").glob(".*.part")):
        time.sleep(0.05)
    child.kill()                                           # the server dies mid-download (SIGKILL: no cleanup)
    child.wait()
    assert len(list((cache / "mnist").glob(".*.part"))) == 1
    load_mnist(cache_dir=cache, download=False)
    assert no_partial_files(cache)


def test_a_cache_that_cannot_be_written_is_reported_as_such_not_as_offline(tmp_path, mirrors):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    ds = load_mnist(cache_dir=blocker / "cache", mirrors=[mirrors.url("good")])
    assert ds.is_sample and ds.notice.startswith("Could not save MNIST: cannot write to the cache folder")
    assert "Offline" not in ds.notice and "BACKPROP_LAB_CACHE" in ds.notice
    assert mirrors.requests == []                          # nothing downloaded that could not be kept


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_a_read_only_cache_is_reported_as_such(tmp_path, mirrors):
    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)
    (cache / "mnist").chmod(0o555)
    try:
        ds = load_mnist(cache_dir=cache, mirrors=[mirrors.url("good")])
    finally:
        (cache / "mnist").chmod(0o755)
    assert ds.notice.startswith("Could not save MNIST: cannot write to the cache folder")


@needs_shared
def test_a_mirror_serving_damaged_files_is_not_called_offline(tmp_path, mirrors):
    spec = replace(MNIST, files=fake_full_files(), mirrors=(mirrors.url("bad"),))
    ds = load_dataset(spec, cache_dir=tmp_path / "cache")
    assert ds.notice.startswith("Could not download MNIST: the mirrors answered, but not with a good file")
    assert "SHA-256 mismatch" in ds.notice and "Offline" not in ds.notice


@needs_shared
def test_a_damaged_cached_copy_is_named_when_downloads_are_off(tmp_path, mirrors):
    cache = tmp_path / "cache"
    ensure_files(T10K, cache / "mnist", [mirrors.url("good")])
    labels = cache / "mnist" / T10K[1].name
    labels.write_bytes(labels.read_bytes()[:-1])
    spec = replace(MNIST, files=T10K)
    ds = load_dataset(spec, cache_dir=cache, download=False)
    assert "damaged copies deleted: t10k-labels-idx1-ubyte.gz (wrong size or SHA-256)" in ds.notice
    assert not labels.exists()


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_a_data_folder_variable_pointing_nowhere_says_so(tmp_path, monkeypatch, make):
    folder = tmp_path / "mnist-here"
    if make == "empty":
        folder.mkdir()
    monkeypatch.setenv("BACKPROP_LAB_MNIST_DIR", str(folder))
    with pytest.raises(FileNotFoundError) as error:
        load_mnist(download=False)
    expected = "which does not exist" if make == "missing" else "missing train-images-idx3-ubyte.gz"
    assert "$BACKPROP_LAB_MNIST_DIR" in str(error.value) and expected in str(error.value)
