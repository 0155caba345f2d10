"""MNIST and Fashion-MNIST, from wherever they can be found.

``load_mnist()`` climbs a ladder and stops at the first rung that works:

1. an explicit directory (or ``.npz`` file): the ``data_dir`` argument, else
   ``$BACKPROP_LAB_MNIST_DIR``.  If it is given but unusable we raise: you
   asked for it, so silently using something else would be a surprise;
2. copies other tools already downloaded: torchvision (``<root>/MNIST/raw``
   under ./data, ~/data, ~/datasets, ~/.cache), Keras
   (``~/.keras/datasets/mnist.npz``) and Debian (``/usr/share/datasets/...``);
3. this app's cache, ``~/.cache/backprop-lab/mnist/`` (root: ``$BACKPROP_LAB_CACHE``);
4. a download from the public mirrors, one after another, each file checked
   against its SHA-256 and written atomically into that cache;
5. the bundled 5,000-image sample in ``assets/`` (MNIST only), with a notice.

``load_fashion_mnist()`` climbs the same ladder with its own names.

Every rung checks what it reads: gzip CRCs, the IDX header and exact payload
length, 28x28 uint8 images, labels 0-9, as many labels as images.  Files in
the app's cache and fresh downloads must also match the published size and
SHA-256.  A damaged file is never used: a bad cache file is deleted and
downloaded again, a bad copy from another tool is skipped.
"""

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lab.idx import read_idx

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
TIMEOUT = 20  # seconds a mirror may stay silent before we try the next one
CHUNK = 1 << 16  # bytes read per step while downloading
# A whole file gets DEADLINE_BASE s plus its size at MIN_SPEED: the 9.9 MB training images get 30 + 99 s.
# A mirror slower than 100 kB/s (a few KB every second or two) is given up for the next one instead of
# leaving the page at "0.0 of 9.9 MB" with an ETA of hours; any working connection is 10-100× faster.
MIN_SPEED = 100_000  # bytes per second
DEADLINE_BASE = 30  # seconds: connecting, TLS, a slow start
# A `.part` file is a download in progress. One whose process is gone (the server was killed), or older than
# any download may take (the largest file's deadline, 30 + 264 s for Fashion-MNIST, with a wide margin), is
# left over from a crash: it is deleted when the data is next loaded.
STALE_PART_SECONDS = 3600

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PATH = REPO_ROOT / "assets" / "mnist_sample_5k.npz"
SYSTEM_DATASETS = Path("/usr/share/datasets")  # where Debian's dataset-* packages put files

# The IDX file names are the same for MNIST and Fashion-MNIST.
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


class DownloadError(OSError):
    """No mirror delivered a file with the expected size and SHA-256.

    ``network_only`` is True when every mirror failed to connect or answer (we are offline), False when at
    least one delivered something wrong (a bad checksum, a truncated file, too slow) or said no (HTTP 404).
    """

    def __init__(self, message, network_only=False):
        super().__init__(message)
        self.network_only = network_only


class DownloadCancelled(Exception):
    """The learner cancelled a download (not an OSError: no other mirror is tried)."""


class TooSlow(OSError):
    """A mirror that answers, but too slowly to deliver a file within its deadline."""


class CacheNotWritable(OSError):
    """The cache folder cannot be created or written (read-only disk, permissions)."""


class DataUnavailableError(RuntimeError):
    """A dataset could not be found, downloaded, or replaced by a sample."""


@dataclass(frozen=True)
class RemoteFile:
    """One file as the mirrors serve it, with its published size and SHA-256."""
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Spec:
    """What the loader needs to know about one dataset."""
    name: str  # "mnist": the cache folder and Dataset.name
    title: str  # "MNIST": for messages
    class_names: tuple
    files: tuple  # four RemoteFile, named as in SPLIT_FILES
    mirrors: tuple  # base URLs, tried in turn
    env_var: str  # names an explicit directory
    torchvision_folder: str  # <root>/<folder>/raw
    keras_path: str  # under ~/.keras/datasets: an .npz file or a folder of .gz files
    debian_folder: str  # under /usr/share/datasets
    sample: Path = None  # bundled fallback, if any


MNIST = Spec(
    name="mnist",
    title="MNIST",
    class_names=tuple(str(d) for d in range(10)),
    files=(
        RemoteFile("train-images-idx3-ubyte.gz",
                   "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
        RemoteFile("train-labels-idx1-ubyte.gz",
                   "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
        RemoteFile("t10k-images-idx3-ubyte.gz",
                   "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
        RemoteFile("t10k-labels-idx1-ubyte.gz",
                   "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    env_var="BACKPROP_LAB_MNIST_DIR",
    torchvision_folder="MNIST",
    keras_path="mnist.npz",
    debian_folder="mnist",
    sample=SAMPLE_PATH,
)

FASHION_MNIST = Spec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    files=(
        RemoteFile("train-images-idx3-ubyte.gz",
                   "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26_421_880),
        RemoteFile("train-labels-idx1-ubyte.gz",
                   "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515),
        RemoteFile("t10k-images-idx3-ubyte.gz",
                   "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4_422_102),
        RemoteFile("t10k-labels-idx1-ubyte.gz",
                   "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5_148),
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    env_var="BACKPROP_LAB_FASHION_MNIST_DIR",
    torchvision_folder="FashionMNIST",
    keras_path="fashion-mnist",
    debian_folder="fashion-mnist",
)


@dataclass
class Dataset:
    """Train and test arrays plus a note on where they came from."""
    name: str  # "mnist" or "fashion-mnist"
    x_train: np.ndarray = field(repr=False)  # (N, 28, 28) uint8
    y_train: np.ndarray = field(repr=False)  # (N,) int64, 0..9
    x_test: np.ndarray = field(repr=False)  # (M, 28, 28) uint8
    y_test: np.ndarray = field(repr=False)  # (M,) int64, 0..9
    class_names: list
    source: str  # short human text: what and from where
    is_sample: bool = False  # True for the bundled 5k sample
    notice: str = None  # a message for the UI, or None


# ---------------------------------------------------------------- public API

def load_mnist(data_dir=None, download=True, progress=None, cache_dir=None, mirrors=None, cancel=None,
               min_speed=MIN_SPEED):
    """MNIST from the first rung of the ladder that works (see the module docstring)."""
    return load_dataset(MNIST, data_dir, download, progress, cache_dir, mirrors, cancel, min_speed)


def load_fashion_mnist(data_dir=None, download=True, progress=None, cache_dir=None, mirrors=None, cancel=None,
                       min_speed=MIN_SPEED):
    """Fashion-MNIST, like load_mnist; there is no bundled sample to fall back on."""
    return load_dataset(FASHION_MNIST, data_dir, download, progress, cache_dir, mirrors, cancel, min_speed)


def load_dataset(spec, data_dir=None, download=True, progress=None, cache_dir=None, mirrors=None, cancel=None,
                 min_speed=MIN_SPEED):
    """Climb the ladder for ``spec``; ``progress(done_bytes, total_bytes, filename)``.

    ``cancel``: a threading.Event (or a function returning True) that stops a download; then
    DownloadCancelled is raised and nothing is left behind. ``min_speed`` (bytes/s) sets each file's deadline.
    """
    explicit = data_dir or os.environ.get(spec.env_var)
    if explicit:
        origin = "data_dir" if data_dir else f"${spec.env_var}"
        return from_explicit(spec, Path(explicit).expanduser(), origin)
    skipped = []
    for place, label in other_tools_copies(spec):
        arrays = try_read(place, skipped)
        if arrays:
            return make_dataset(spec, arrays, f"{pretty(place)} ({label})")
    cache = cache_root(cache_dir) / spec.name
    try:
        fetched = ensure_files(spec.files, cache, mirrors or spec.mirrors, progress,
                               download and not offline(), cancel=cancel, min_speed=min_speed)
        how = "downloaded just now" if fetched else "app cache"
        return make_dataset(spec, read_dir(cache), f"{pretty(cache)} ({how})")
    except (OSError, ValueError) as e:
        return fallback(spec, e, skipped)


def load_mnist_test(directory):
    """Just the MNIST test split from ``directory``: (x (10000, 28, 28) uint8, y (10000,) int64)."""
    return read_split(directory, "test")


# ------------------------------------------------------- rung 1: explicit dir

def from_explicit(spec, path, origin):
    """Load from a directory (or .npz) the user named; anything wrong raises."""
    if not path.exists():
        raise FileNotFoundError(f"{origin} points to {path}, which does not exist "
                                f"(expected a folder with the four {spec.title} IDX files, or an .npz)")
    try:
        arrays = read_place(path)
    except (OSError, ValueError) as e:
        raise type(e)(f"{spec.title} from {origin}: {e}") from None
    return make_dataset(spec, arrays, f"{pretty(path)} ({origin})")


# --------------------------------------------- rung 2: other tools' downloads

def other_tools_copies(spec):
    """(path, label) of places where torchvision, Keras or Debian may keep the dataset."""
    home, cwd = Path.home(), Path.cwd()
    keras_home = Path(os.environ.get("KERAS_HOME", home / ".keras"))
    places = [(root / spec.torchvision_folder / "raw", "torchvision's copy")
              for root in (cwd / "data", home / "data", home / "datasets", home / ".cache")]
    places.append((keras_home / "datasets" / spec.keras_path, "Keras's copy"))
    places.append((SYSTEM_DATASETS / spec.debian_folder, f"Debian package dataset-{spec.debian_folder}"))
    return places


def try_read(place, skipped):
    """Arrays from ``place``, or None if it is absent or unusable (noted in ``skipped``)."""
    if not place.exists():
        return None
    try:
        return read_place(place)
    except (OSError, ValueError) as e:
        skipped.append(f"{pretty(place)}: {e}")
        return None


# ----------------------------------------------------- rung 3-4: cache, download

def cache_root(cache_dir=None):
    """The app's cache folder: ``cache_dir``, $BACKPROP_LAB_CACHE, or ~/.cache/backprop-lab."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    if os.environ.get("BACKPROP_LAB_CACHE"):
        return Path(os.environ["BACKPROP_LAB_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "backprop-lab"


def offline():
    """True when $BACKPROP_LAB_OFFLINE is set to something other than 0/empty."""
    return os.environ.get("BACKPROP_LAB_OFFLINE", "0").lower() not in ("", "0", "false", "no")


def ensure_files(files, dest_dir, mirrors, progress=None, download=True, timeout=TIMEOUT, cancel=None,
                 min_speed=MIN_SPEED):
    """Make sure every file in ``dest_dir`` matches its size and SHA-256.

    A file that does not match is deleted; missing files are downloaded
    (when ``download`` is true).  Returns the names that were downloaded.
    Leftover ``.part`` files of a killed download are deleted first.
    """
    dest_dir = Path(dest_dir)
    remove_stale_parts(dest_dir)
    damaged = []
    missing = [f for f in files if not cached_ok(dest_dir / f.name, f, damaged)]
    if missing and not download:
        note = f" (damaged copies deleted: {', '.join(damaged)})" if damaged else ""
        raise FileNotFoundError(f"not in {pretty(dest_dir)}{note}, and downloads are off")
    download_files(missing, dest_dir, mirrors, progress, timeout, cancel, min_speed)
    return [f.name for f in missing]


def cached_ok(path, remote, damaged=None):
    """True if ``path`` is a good copy of ``remote``; a bad copy is deleted (and its name added to damaged)."""
    if not path.exists():
        return False
    try:
        if path.stat().st_size == remote.size and sha256_of(path) == remote.sha256:
            return True
        path.unlink(missing_ok=True)
    except PermissionError as e:
        raise CacheNotWritable(f"cannot read or replace {pretty(path)} in the cache ({e.strerror})") from None
    if damaged is not None:
        damaged.append(f"{remote.name} (wrong size or SHA-256)")
    return False


def remove_stale_parts(folder, max_age=STALE_PART_SECONDS):
    """Delete ``.part`` files left by a download whose process is gone or that is older than max_age seconds.

    Our part files are named ``.<file>.<pid>.<random>.part``; one of a live process that is younger than
    max_age belongs to a download in progress (another session of the same server) and is kept.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for part in folder.glob(".*.part"):
        try:
            old = time.time() - part.stat().st_mtime > max_age
            if old or not _process_alive(_part_pid(part.name)):
                part.unlink()
                removed.append(part.name)
        except OSError:       # gone already (another session cleaned it), or a read-only cache: leave it
            continue
    return removed


def _part_pid(name):
    """The pid in '.train-images-idx3-ubyte.gz.1234.x8f2k.part', or None."""
    pieces = name.split(".")
    return int(pieces[-3]) if len(pieces) >= 4 and pieces[-3].isdigit() else None


def _process_alive(pid):
    if pid is None:
        return True           # not ours to judge: only its age counts
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # exists, owned by someone else
        return True
    return True


def sha256_of(path):
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download_files(files, dest_dir, mirrors, progress=None, timeout=TIMEOUT, cancel=None, min_speed=MIN_SPEED):
    """Download each RemoteFile into ``dest_dir``, trying the mirrors in turn."""
    dest_dir = Path(dest_dir)
    if files:
        check_writable(dest_dir)
    return [download_file(f, dest_dir, mirrors, progress, timeout, cancel, min_speed) for f in files]


def check_writable(folder):
    """Create ``folder`` if needed and make sure a file can be written there; CacheNotWritable if not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise CacheNotWritable(f"cannot write to the cache folder {pretty(folder)} "
                               f"({e.strerror or e}); set $BACKPROP_LAB_CACHE to a writable folder") from None


def file_deadline(size, min_speed=MIN_SPEED):
    """Seconds a download of ``size`` bytes may take in all: DEADLINE_BASE + size / min_speed."""
    return DEADLINE_BASE + size / min_speed


def download_file(remote, dest_dir, mirrors, progress=None, timeout=TIMEOUT, cancel=None, min_speed=MIN_SPEED):
    """Fetch one file from the first mirror that delivers it intact (each mirror within the file's deadline)."""
    failures, network_only = [], True
    for mirror in mirrors:
        url = urllib.parse.urljoin(mirror, remote.name)
        try:
            return fetch(url, remote, Path(dest_dir), progress, timeout, cancel, file_deadline(remote.size, min_speed))
        except (OSError, ValueError, http.client.HTTPException) as e:
            failures.append(f"{urllib.parse.urlsplit(url).netloc}: {reason(e)}")
            network_only = network_only and _is_network_error(e)
    raise DownloadError(f"{remote.name}: {'; '.join(failures) or 'no mirrors given'}",
                        network_only=bool(failures) and network_only)


def _is_network_error(error):
    """True for 'could not connect / no answer' (offline), False for a mirror that answered wrongly."""
    return (isinstance(error, (urllib.error.URLError, ConnectionError, TimeoutError))
            and not isinstance(error, urllib.error.HTTPError))


def fetch(url, remote, dest_dir, progress=None, timeout=TIMEOUT, cancel=None, deadline=None):
    """Stream ``url`` to a temporary file, check it, then move it into place (within ``deadline`` seconds)."""
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=f".{remote.name}.{os.getpid()}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            digest = stream(url, out, remote, progress, timeout, cancel, deadline)
        if digest != remote.sha256:
            raise ValueError(f"SHA-256 mismatch (expected {remote.sha256[:12]}..., got {digest[:12]}...)")
        os.replace(tmp, dest_dir / remote.name)  # atomic: readers see all or nothing
        return dest_dir / remote.name
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def stream(url, out, remote, progress=None, timeout=TIMEOUT, cancel=None, deadline=None):
    """Copy ``url`` into ``out``, report progress, return the SHA-256; sizes must match.

    read1 returns whatever has arrived (read would wait for a whole CHUNK), so a slow mirror still
    shows progress, and the deadline and ``cancel`` are checked after every piece.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "backprop-lab"})
    h, done = hashlib.sha256(), 0
    started = time.monotonic()
    _check_cancel(cancel)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if progress:
            progress(0, remote.size, remote.name)
        for chunk in iter(lambda: response.read1(CHUNK), b""):
            _check_cancel(cancel)
            if deadline is not None and time.monotonic() - started > deadline:
                raise TooSlow(f"too slow: {done / 1e6:.2f} of {remote.size / 1e6:.1f} MB after "
                                   f"{deadline:.0f} s, the most this file may take")
            done += len(chunk)
            if done > remote.size:
                raise ValueError(f"more data than expected ({remote.size:,} bytes)")
            h.update(chunk)
            out.write(chunk)
            if progress:
                progress(done, remote.size, remote.name)
    if done != remote.size:
        raise ValueError(f"truncated: got {done:,} of {remote.size:,} bytes")
    return h.hexdigest()


def _check_cancel(cancel):
    if cancel is not None and (cancel.is_set() if hasattr(cancel, "is_set") else cancel()):
        raise DownloadCancelled("download cancelled; nothing was kept")


def eta_text(done, total, elapsed, deadline):
    """An honest estimate of the time left: measured speed only after 2 s and 1 kB, and the deadline if
    the estimate runs past it (the download will then be given up, not finished)."""
    if elapsed < 2 or done < 1000:
        return "measuring the speed…"
    speed = done / elapsed
    left = (total - done) / speed
    if elapsed + left > deadline:
        return (f"{speed / 1e3:,.1f} kB/s: too slow to finish; this mirror is given up "
                f"{max(deadline - elapsed, 0):.0f} s from now")
    return f"{speed / 1e3:,.0f} kB/s, about {left:.0f} s left" if left < 90 else \
        f"{speed / 1e3:,.0f} kB/s, about {left / 60:.0f} min left"


def reason(error):
    """A short description of why a download attempt failed."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return getattr(error.reason, "strerror", None) or str(error.reason)
    if isinstance(error, http.client.IncompleteRead):
        return f"connection closed early ({len(error.partial):,} bytes received)"
    return str(error) or type(error).__name__


# ------------------------------------------------------- rung 5: the sample

def fallback(spec, error, skipped):
    """The bundled sample with a notice saying why, or a clear error if there is none."""
    if isinstance(error, DownloadError) and error.network_only:
        why = f"Offline: could not download {spec.title} ({error})"
    elif isinstance(error, DownloadError):
        why = f"Could not download {spec.title}: the mirrors answered, but not with a good file ({error})"
    elif isinstance(error, CacheNotWritable):
        why = f"Could not save {spec.title}: {error}"
    else:
        why = f"{spec.title} not found ({error})"
    extra = f" Ignored unusable copies: {'; '.join(skipped)}." if skipped else ""
    if spec.sample is None:
        raise DataUnavailableError(
            f"{why}.{extra} Point ${spec.env_var} at a folder with the four IDX files "
            f"(or data_dir=...), or connect to the internet and try again.")
    arrays = load_sample(spec.sample)
    ds = make_dataset(spec, arrays, "")
    return replace(ds, is_sample=True,
                   source=f"{spec.title} sample (bundled, {len(ds.y_train):,} train / "
                          f"{len(ds.y_test):,} test) from assets/{spec.sample.name}",
                   notice=f"{why}. Using the bundled 5,000-image sample.{extra}")


def load_sample(path=SAMPLE_PATH):
    """The bundled 5k MNIST sample: 4,000 train / 1,000 test, 500 images per class."""
    arrays = read_npz(path)
    total = len(arrays["y_train"]) + len(arrays["y_test"])
    if total != 5000:
        raise ValueError(f"{path}: expected 5,000 images in the sample, found {total:,}")
    return arrays


# ------------------------------------------------------ reading and checking

def read_place(path):
    """Arrays from a folder of IDX files or from a Keras-style .npz file."""
    return read_npz(path) if path.is_file() else read_dir(path)


def read_dir(directory):
    """All four arrays from a folder holding the train and test IDX files."""
    directory = Path(directory)
    missing = [name for names in SPLIT_FILES.values() for name in names
               if find_file(directory, name) is None]
    if missing:
        found = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
        raise FileNotFoundError(f"{directory}: missing {', '.join(missing)} "
                                f"(found: {', '.join(found) or 'nothing'})")
    x_train, y_train = read_split(directory, "train")
    x_test, y_test = read_split(directory, "test")
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def read_split(directory, split="test"):
    """(images (N, 28, 28) uint8, labels (N,) int64) of one split in ``directory``."""
    paths = [find_file(Path(directory), name) for name in SPLIT_FILES[split]]
    for path, name in zip(paths, SPLIT_FILES[split]):
        if path is None:
            raise FileNotFoundError(f"{directory}: no {name} (nor its uncompressed version)")
    return check_split(read_idx(paths[0]), read_idx(paths[1]), f"{directory} ({split})")


def find_file(directory, gz_name):
    """The path of ``gz_name`` in ``directory``, or of its uncompressed twin, or None."""
    raw = gz_name[: -len(".gz")]
    for name in (gz_name, raw, raw.replace("-idx", ".idx")):  # Kaggle copies use "images.idx3"
        if (directory / name).is_file():
            return directory / name
    return None


def read_npz(path):
    """x_train, y_train, x_test, y_test from an .npz file (Keras layout), checked."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as e:
        raise ValueError(f"{path}: expected arrays x_train, y_train, x_test, y_test; {e}") from None
    except Exception as e:  # zipfile.BadZipFile, bad CRC, pickled objects, ...
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None
    x_train, y_train = check_split(arrays["x_train"], arrays["y_train"], f"{path} (train)")
    x_test, y_test = check_split(arrays["x_test"], arrays["y_test"], f"{path} (test)")
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def check_split(images, labels, where):
    """Check one split and return (images uint8, labels int64), or raise ValueError."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"{where}: expected images of shape (N, 28, 28) and dtype uint8, "
                         f"got {images.shape} {images.dtype}")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{where}: expected labels of shape (N,) and an integer dtype, "
                         f"got {labels.shape} {labels.dtype}")
    if len(labels) != len(images):
        raise ValueError(f"{where}: {len(images):,} images but {len(labels):,} labels")
    if len(labels) == 0 or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"{where}: expected labels 0..9 (and at least one image)")
    return images, labels.astype(np.int64)  # (N, 28, 28) uint8, (N,) int64


def make_dataset(spec, arrays, where):
    """Wrap checked arrays in a Dataset with a one-line description."""
    n_train, n_test = len(arrays["y_train"]), len(arrays["y_test"])
    size = f"{n_train:,} train / {n_test:,} test"
    if (n_train, n_test) == (60_000, 10_000):
        size = "full, " + size
    return Dataset(name=spec.name, class_names=list(spec.class_names),
                   source=f"{spec.title} ({size}) from {where}", **arrays)


def pretty(path):
    """``path`` with the home folder shortened to ~."""
    path, home = Path(path), Path.home()
    try:
        return "~/" + str(path.relative_to(home)) if path != home else "~"
    except ValueError:
        return str(path)


# ---- the logic gates of the Perceptron page -----------------------------------------------------

LOGIC_GATES = {          # inputs (4, 2) and targets (4,) of the four two-input gates
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "XOR": [0, 1, 1, 0],
}
GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)   # (4, 2)


def gate_data(name):
    """(X (4, 2), y (4,)) for AND, OR, NAND or XOR."""
    if name not in LOGIC_GATES:
        raise ValueError(f"unknown data set {name!r}; expected one of {list(LOGIC_GATES)}")
    return GATE_INPUTS.copy(), np.array(LOGIC_GATES[name])
