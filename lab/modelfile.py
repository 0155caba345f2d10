"""Model files: a network's weights and its model card in one .npz, read without trusting the file.

A saved model is a zip archive of .npy arrays (NumPy's .npz), never a pickle:

    format_version  ()          int     2, or 3 for a network with BatchNorm, Dropout or skips
                                        (files of format 1, from before the card, still load)
    sizes           (L + 1,)    int     layer widths, e.g. [784, 256, 10]
    activation, output, loss, init, dtype                  text settings of the MLP
    init_std, alpha, l1, l2     ()      float
    W0, b0, W1, b1, …           (n_out, n_in), (n_out,)    float32 or float64
    card_json       ()          text    the ModelCard below, as JSON (format 1: ``meta_json``, a free dict)
  format 3 only:
    batchnorm, residual         ()      bool
    dropout         ()          float   the rate p in [0, 1)
    bn{k}_gamma, bn{k}_beta, bn{k}_running_mean, bn{k}_running_var    (n_k,)   float, for the k-th
                                        BatchNorm layer (after hidden layer k, width n_k = sizes[k + 1])

A file with the new layers is format 3 so that a version reading format 2 refuses it instead of
building a network without them (it would ignore the unknown entries and compute something else); a
plain network is still written as format 2. A loaded network is used in evaluation mode (forward):
BatchNorm with the saved running statistics, no dropout.

What a model *is* — which data set it learned, how its inputs were scaled, how well it did on which
test set, where it came from — travels with it in a ``ModelCard``, so every page and the CLI read the
same record instead of guessing.

Reading a file someone uploaded must not cost more than the model it claims to be. So ``load_model``
opens the zip itself, reads only the members a model needs, and checks every member's declared shape
and dtype (the .npy header) before reading its data; it checks the layer sizes against a parameter
budget before building anything, and refuses weights whose forward pass on a probe input is not
finite. Every problem becomes a ValueError with a plain message.
"""
import io
import json
import math
import zipfile
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from core.layers import NORM_ARRAYS
from core.network import MLP

FORMAT_VERSION = 3           # 3: BatchNorm/Dropout/skips; 2: card_json; 1: meta_json (a free dict), still read
PLAIN_FORMAT = 2             # what a network without the format-3 layers is written as
READABLE_FORMATS = (1, 2, 3)

# 4 M parameters: 4× the largest network the Train page builds (784-512-512-512-10 has 0.93 M), room
# for command-line experiments. Loading holds about four copies (the file's array, the network's
# weights, its initial weights, its gradient buffers): at float64 that is ≈ 130 MB, where a server
# with a few sessions can afford it. Anything bigger is refused before a byte of weights is read.
MAX_PARAMETERS = 4_000_000
MAX_LAYERS = 64              # weight layers; the pages build at most 4
MAX_TEXT_CHARS = 1_000_000   # card/meta JSON (a 100-epoch log is ≈ 25 k characters)
MAX_MEMBERS = 1_000          # zip entries; a model has 2 per layer plus ~12
DATASETS = ("mnist", "fashion-mnist")    # data sets the app knows; a card may name another
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
DATASET_NAMES = {title: name for name, title in DATASET_TITLES.items()}      # "MNIST" -> "mnist"
ORIGINS = ("page", "cli", "upload", "default", "unknown")
TEXT_SETTINGS = ("activation", "output", "loss", "init", "dtype")
NUMBER_SETTINGS = ("init_std", "alpha", "l1", "l2")
LAYER_SETTINGS = ("batchnorm", "dropout", "residual")     # format 3
WEIGHT_DTYPES = ("float32", "float64")


# ---- the model card ---------------------------------------------------------------------

@dataclass(frozen=True)
class ModelCard:
    """What a model is, beside its weights."""
    dataset: str = "unknown"          # "mnist", "fashion-mnist", or whatever the file says ("unknown" if nothing)
    normalize: bool = True            # inputs were x / 255 ∈ [0, 1]; False: raw 0–255 pixels
    test_accuracy: float = None       # fraction in [0, 1], or None if never measured
    test_size: int = None             # number of test images behind test_accuracy
    test_data: str = ""               # which test set, e.g. "MNIST (full, 60,000 train / 10,000 test) from ~/…"
    origin: str = "unknown"           # one of ORIGINS: a Train page run, the CLI, an upload, the bundled default
    origin_note: str = ""             # "run #3, finished", "python -m lab.train --epochs 5", "mine.npz"
    run_id: int = None                # the Train page's run number, for origin "page"
    train_size: int = None            # training images used
    settings: dict = field(default_factory=dict)     # the training configuration (TrainConfig.as_dict())
    epochs_log: list = field(default_factory=list)   # one dict per epoch (loss, accuracies, time)

    def __post_init__(self):
        _check_card(self)

    @property
    def dataset_title(self):
        """'MNIST', 'Fashion-MNIST', or the name as given."""
        return DATASET_TITLES.get(self.dataset, self.dataset)

    def where_from(self):
        """'trained on the Train page (run #3, finished)', 'uploaded from mine.npz', …"""
        what = {"page": "trained on the Train page", "cli": "trained with the command line",
                "upload": "uploaded from", "default": "the default model shipped with the app",
                "unknown": "of unknown origin"}[self.origin]
        if self.origin == "upload":
            return f"{what} {self.origin_note}"
        return f"{what} ({self.origin_note})" if self.origin_note else what

    def accuracy_text(self):
        """'test accuracy 97.4% on 10,000 MNIST test images' or 'test accuracy not measured'."""
        if self.test_accuracy is None:
            return "test accuracy not measured"
        size = f"{self.test_size:,} " if self.test_size else ""
        return f"test accuracy {self.test_accuracy:.1%} on {size}{self.dataset_title} test images"

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        """A card from its JSON dict; unknown keys are ignored, wrong types raise ValueError."""
        if not isinstance(d, dict):
            raise ValueError(f"the model card must be a JSON object; got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def from_meta(cls, meta):
        """A card from the free meta dict of a format-1 file (made by lab.train, the Train page or by hand).

        Those dicts named the data set in "data" (the CLI) or only in "data_source", a text starting with
        the data set's title, e.g. "MNIST (full, …) from …" (the Train page).
        """
        if not isinstance(meta, dict):
            raise ValueError(f"meta_json must be a JSON object; got {type(meta).__name__}")
        settings = meta.get("settings") or {}
        if not isinstance(settings, dict):
            raise ValueError(f"settings must be a JSON object; got {type(settings).__name__}")
        source = meta.get("data_source") if isinstance(meta.get("data_source"), str) else ""
        dataset = meta.get("data") if isinstance(meta.get("data"), str) else _dataset_from_title(source)
        created_by, said = meta.get("created_by"), meta.get("source")
        if isinstance(created_by, str) and created_by.startswith("python -m"):
            origin, note = "cli", created_by
        elif isinstance(said, str) and said.startswith("trained on this page"):
            origin, note = "page", said.removeprefix("trained on this page").strip(" ()")
        elif isinstance(said, str) and said.startswith("uploaded from"):
            origin, note = "upload", said.removeprefix("uploaded from").strip()
        else:
            origin, note = "unknown", ""
        test_data = meta.get("test_source") if isinstance(meta.get("test_source"), str) else source
        return cls(dataset=dataset, normalize=settings.get("normalize", True),
                   test_accuracy=meta.get("test_accuracy"), test_size=meta.get("test_size"), test_data=test_data,
                   origin=origin, origin_note=note, train_size=meta.get("train_size"), settings=settings,
                   epochs_log=meta.get("epochs_log") or [])


def _dataset_from_title(text):
    """'mnist' for 'MNIST (…', 'fashion-mnist' for 'Fashion-MNIST (…', else 'unknown' (a title, not a search)."""
    for name, title in sorted(DATASET_TITLES.items(), key=lambda kv: -len(kv[1])):
        if text.startswith(title + " "):
            return name
    return "unknown"


def _check_card(card):
    """Every field of a card has the type it should; raise ValueError naming the first that does not."""
    def fail(name, expected, value):
        raise ValueError(f"model card: {name} must be {expected}; got {value!r:.80}")

    for name in ("dataset", "test_data", "origin_note"):
        if not isinstance(getattr(card, name), str):
            fail(name, "text", getattr(card, name))
    if card.origin not in ORIGINS:
        fail("origin", f"one of {list(ORIGINS)}", card.origin)
    if not isinstance(card.normalize, bool):
        fail("normalize", "true or false", card.normalize)
    acc = card.test_accuracy
    if acc is not None and not (_is_number(acc) and 0.0 <= acc <= 1.0):
        fail("test_accuracy", "a fraction between 0 and 1", acc)
    for name in ("test_size", "run_id", "train_size"):
        value = getattr(card, name)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            fail(name, "a whole number ≥ 0", value)
    if not isinstance(card.settings, dict):
        fail("settings", "a JSON object", card.settings)
    if not (isinstance(card.epochs_log, list) and all(isinstance(e, dict) for e in card.epochs_log)):
        fail("epochs_log", "a list of JSON objects", card.epochs_log)


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# ---- saving -----------------------------------------------------------------------------

def save_model(net, file, card=None):
    """Write net and its card to ``file`` (a path or a binary file object) as .npz (no pickles)."""
    card = card or ModelCard()
    if not isinstance(card, ModelCard):
        raise ValueError(f"card must be a ModelCard; got {type(card).__name__}")
    settings = net.settings()
    layered = bool(settings["batchnorm"] or settings["dropout"] or settings["residual"])
    arrays = {"format_version": np.array(FORMAT_VERSION if layered else PLAIN_FORMAT), "sizes": np.array(net.sizes),
              "card_json": np.array(json.dumps(_json_safe(card.to_dict()), allow_nan=False))}
    for key, value in settings.items():
        if layered or key not in LAYER_SETTINGS:
            arrays[key] = np.array(np.dtype(value).name if key == "dtype" else value)
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    for k, norm in enumerate(net.norm_arrays()):
        for name, value in norm.items():
            arrays[f"bn{k}_{name}"] = value
    np.savez(file, **arrays)


def _json_safe(value):
    """value with NaN/±inf floats as None (a diverged run logs a NaN loss; JSON has no NaN) and NumPy
    scalars and tuples as plain Python values."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def model_bytes(net, card=None):
    """The .npz file's bytes (for a download button)."""
    buffer = io.BytesIO()
    save_model(net, buffer, card)
    return buffer.getvalue()


# ---- loading ----------------------------------------------------------------------------

def load_model(file):
    """(net, card) from a path, a binary file object or bytes; any problem raises ValueError."""
    if isinstance(file, (bytes, bytearray)):
        file = io.BytesIO(file)
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(f"not a Backprop Lab model file (.npz): it is not a readable zip archive ({e})") from None
    with archive:
        members = _Members(archive)
        version = members.integer("format_version")
        if version not in READABLE_FORMATS:
            raise ValueError(f"model file format {version} is not supported "
                             f"(this version reads formats {', '.join(map(str, READABLE_FORMATS))})")
        layers = {}
        if version >= 3:
            layers = {"batchnorm": members.flag("batchnorm"), "residual": members.flag("residual"),
                      "dropout": members.number("dropout")}
            if not 0 <= layers["dropout"] < 1:
                raise ValueError(f"dropout must be a rate in [0, 1); got {layers['dropout']:g}")
        sizes = check_sizes(members.array("sizes", kinds="iu", max_count=MAX_LAYERS + 1, ndim=1).tolist(),
                            batchnorm=layers.get("batchnorm", False))
        text = {k: members.text(k, max_chars=40) for k in TEXT_SETTINGS}
        if text["dtype"] not in WEIGHT_DTYPES:
            raise ValueError(f"dtype must be one of {list(WEIGHT_DTYPES)}; got {text['dtype']!r:.40}")
        numbers = {k: members.number(k) for k in NUMBER_SETTINGS if members.has(k)}
        card = _read_card(members, version)
        weights, biases = [], []
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            weights.append(members.array(f"W{l}", kinds="f", shape=(n_out, n_in)))
            biases.append(members.array(f"b{l}", kinds="f", shape=(n_out,)))
        norms = None
        if layers.get("batchnorm"):
            norms = [{name: members.array(f"bn{k}_{name}", kinds="f", shape=(n,)) for name in NORM_ARRAYS}
                     for k, n in enumerate(sizes[1:-1])]
    for l, (W, b) in enumerate(zip(weights, biases)):
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ValueError(f"layer {l + 1}: weights contain NaN or infinite values")
    for k, norm in enumerate(norms or ()):
        if not all(np.isfinite(a).all() for a in norm.values()):
            raise ValueError(f"BatchNorm layer {k + 1}: γ, β or running statistics contain NaN or infinite values")
        if (norm["running_var"] < 0).any():
            raise ValueError(f"BatchNorm layer {k + 1}: a running variance is negative")
    try:
        net = MLP(sizes, **text, **numbers, **layers)
        net.set_params(weights, biases, norms)
    except (TypeError, KeyError) as e:
        raise ValueError(f"the model's settings do not make a network: {e}") from None
    check_finite_output(net, card)
    return net, card


def check_sizes(sizes, batchnorm=False):
    """Layer widths as ints, within the limits; ValueError before anything is allocated."""
    if not 2 <= len(sizes) <= MAX_LAYERS + 1:
        raise ValueError(f"sizes must list 2 to {MAX_LAYERS + 1} layer widths; got {len(sizes)}")
    if min(sizes) < 1:
        raise ValueError(f"every layer needs at least 1 neuron; got sizes {sizes}")
    n_params = sum(n_out * n_in + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if batchnorm:
        n_params += 4 * sum(sizes[1:-1])       # γ, β, running mean and variance of each hidden layer
    if n_params > MAX_PARAMETERS:
        raise ValueError(f"the file declares a network of {n_params:,} parameters; this app loads at most "
                         f"{MAX_PARAMETERS:,}")
    return [int(n) for n in sizes]


def check_finite_output(net, card):
    """Refuse weights that are finite but so large that the network's output is not (e.g. 3e38 in float32).

    Probe: an all-zero input and an all-ink input at the card's scale (1, or 255 for raw pixels).
    """
    ink = 1.0 if card.normalize else 255.0
    probe = np.stack([np.zeros(net.sizes[0]), np.full(net.sizes[0], ink)])      # (2, n_in)
    with np.errstate(all="ignore"):
        out = net.forward(probe)
    if not np.isfinite(out).all():
        raise ValueError("the weights are so large that the network's output is not a finite number "
                         "(overflow); this file cannot be used")


def _read_card(members, version):
    name = "card_json" if version >= 2 else "meta_json"
    if not members.has(name):
        return ModelCard()
    try:
        content = json.loads(members.text(name, max_chars=MAX_TEXT_CHARS))
    except json.JSONDecodeError as e:
        raise ValueError(f"{name} is not valid JSON ({e.msg} at character {e.pos})") from None
    except RecursionError:
        raise ValueError(f"{name} is nested too deeply") from None
    return ModelCard.from_dict(content) if version >= 2 else ModelCard.from_meta(content)


class _Members:
    """The .npy members of an open zip, each read only after its header passed the checks."""

    def __init__(self, archive):
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ValueError(f"not a Backprop Lab model file: {len(infos):,} entries in the archive")
        self.archive = archive
        self.infos = {info.filename.removesuffix(".npy"): info for info in infos}

    def has(self, key):
        return key in self.infos

    def array(self, key, kinds, shape=None, ndim=None, max_count=None):
        """The array stored under key; its dtype kind must be in kinds ('f' float, 'iu' int, 'U' text)."""
        if key not in self.infos:
            raise ValueError(f"not a Backprop Lab model file: missing {key!r}")
        try:
            with self.archive.open(self.infos[key]) as f:
                version = np.lib.format.read_magic(f)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f"unsupported .npy version {version}")
                got_shape, fortran, dtype = read_header(f)
                if dtype.hasobject or dtype.fields is not None or dtype.kind not in kinds:
                    raise ValueError(f"unexpected dtype {dtype}")
                if shape is not None and got_shape != shape:
                    raise ValueError(f"expected shape {shape}, the file declares {got_shape}")
                if ndim is not None and len(got_shape) != ndim:
                    raise ValueError(f"expected {ndim} dimension(s), the file declares shape {got_shape}")
                count = math.prod(got_shape)
                if max_count is not None and count > max_count:
                    raise ValueError(f"expected at most {max_count} values, the file declares {count:,}")
                data = f.read(count * dtype.itemsize)
        except (OSError, EOFError, zipfile.BadZipFile, ValueError, SyntaxError, TypeError) as e:
            raise ValueError(f"model file entry {key!r} is damaged or not what a model holds: {e}") from None
        if len(data) != count * dtype.itemsize:
            raise ValueError(f"model file entry {key!r} is truncated")
        return np.frombuffer(data, dtype).reshape(got_shape, order="F" if fortran else "C")

    def integer(self, key):
        return int(self.array(key, kinds="iu", shape=()))

    def flag(self, key):
        """A true/false setting (stored as a 0-d bool, or an int 0/1)."""
        value = self.array(key, kinds="biu", shape=())
        if value not in (0, 1):
            raise ValueError(f"model setting {key} must be true or false; got {value}")
        return bool(value)

    def number(self, key):
        value = float(self.array(key, kinds="fiu", shape=()))
        if not math.isfinite(value):
            raise ValueError(f"model setting {key} must be a finite number; got {value}")
        return value

    def text(self, key, max_chars):
        """A text member (a 0-d unicode array) of at most max_chars characters."""
        info = self.infos.get(key)
        if info is not None and info.file_size > 4 * max_chars + 256:     # UTF-32 plus the .npy header
            raise ValueError(f"model file entry {key!r} is too long (over {max_chars:,} characters)")
        return str(self.array(key, kinds="U", shape=()))


def with_origin(card, origin, note="", run_id=None):
    """The same card with a new origin (e.g. marking a file as uploaded or as the bundled default)."""
    return replace(card, origin=origin, origin_note=note, run_id=run_id)
