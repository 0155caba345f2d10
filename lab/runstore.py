"""Run history that survives reloads and server restarts: finished runs and their models in one SQLite file.

What the Train page keeps of a run — its settings, curves, results and, optionally, the trained
model — is stored here per *owner*: an unguessable random id for one browser, which the page keeps
in the URL as ``?lab=<id>``. Whoever holds the id sees and changes those runs, nobody else: every
query names the owner, and a run number alone opens nothing.

    store, problem = RunStore.open()          # problem: a sentence to show, or None
    owner = new_owner_id()                     # once per browser; then taken from the URL
    number = store.save_run(owner, run, model_bytes=model_bytes(net), card=card)   # lab.modelfile.model_bytes
    store.list_runs(owner)                     # [StoredRun], oldest first, newest last
    store.model_bytes(owner, number)           # the .npz again, or None

``run`` is a dict (or a dataclass) with these keys; only ``settings`` and ``state`` are required:

    data               name of the data set, e.g. "MNIST (5,000-image sample)"
    settings           the run's full config as a JSON-able dict (TrainConfig.as_dict() and more)
    state, message     how it ended ("finished", "stopped", "diverged", ...) and the sentence why
    elapsed            seconds spent training
    batches_per_epoch  so steps can be drawn as epochs
    loss_steps, loss   (P,) step numbers and the loss there (the page's downsampled curve)
    epochs_log         one dict per epoch (epoch, loss, train_acc, val_loss, val_acc, test_loss, test_acc, ...)
    lr_marks           [[step, η], ...] every change of η, the first one the starting η
    test_acc           final test accuracy in [0, 1]
    confusion          (K, K) confusion matrix C[true, predicted] as nested lists (or an array)

The loss curve is kept as float32 bytes (what the trainer computes in; listing 200 runs of 1,000
loss points took 170 ms with the curves as JSON text, 40 ms as bytes); the other numbers of curves
and results as JSON, to 7 significant digits. A NaN or ±inf loss is kept as NaN (a gap in a plot),
anywhere else as null: JSON has no word for them, and exports are JSON and CSV.

Where the file lives: ``$BACKPROP_LAB_DATA/runs.sqlite3`` when that is set, else
``$XDG_DATA_HOME/backprop-lab/runs.sqlite3`` (``~/.local/share/backprop-lab/runs.sqlite3``).

Failure is expected and survivable: a damaged, locked or unwritable database raises
RunStoreUnavailable with a sentence the page can show, and ``RunStore.open()`` then hands back a
MemoryRunStore (same methods, kept for this server process only) so the page carries on. The same
error can come from any later call (another program locks the file, the disk fills up): show it and
go on with a MemoryRunStore.

Safe to share between the threads of one server (a new connection per call; SQLite's WAL mode lets
readers go on while one writer writes, and ``busy_timeout`` makes writers queue instead of failing)
and between processes on one machine. Every save is one transaction: a run is stored whole or not at all.
"""
import contextlib
import csv
import errno
import io
import json
import math
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

DATA_ENV = "BACKPROP_LAB_DATA"       # a folder; the database is runs.sqlite3 inside it
DB_NAME = "runs.sqlite3"
SCHEMA_VERSION = 1                   # PRAGMA user_version of the files this code writes

OWNER_BYTES = 16                     # 128 random bits: unguessable; secrets.token_urlsafe gives 22 characters
OWNER_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")

BUSY_TIMEOUT_S = 5.0                 # a writer waits this long for another writer; a save itself takes milliseconds
MAX_RUNS_PER_OWNER = 200             # the table and the overlay stop being readable long before; older runs are deleted
MAX_MODELS_PER_OWNER = 10            # models of older runs are dropped (their curves stay): ≤ 10 × 16 MB per browser
MAX_MODEL_BYTES = 16 * 2**20         # 784-1024-1024-10 (float32) is 7.5 MB; 3 × 4096, which the page allows, 147 MB
MAX_CURVE_POINTS = 1000              # loss points kept per run (the page draws 400); longer curves are thinned evenly
MAX_SETTINGS_BYTES = 16 * 2**10      # TrainConfig.as_dict() is ~300 bytes as JSON
MAX_RECORD_BYTES = 2 * 2**20         # curves + results + card as JSON; 1,000 epochs of logs are ~250 kB
MAX_TEXT = 4000                      # characters of data name, state and message
SIGNIFICANT_DIGITS = 7               # float32 carries 7.2 decimal digits

RUN_KEYS = ("data", "settings", "state", "message", "elapsed", "batches_per_epoch", "loss_steps", "loss",
            "epochs_log", "lr_marks", "test_acc", "confusion")
NPZ_MAGIC = b"PK\x03\x04"           # an .npz is a zip file

SCHEMA = """
CREATE TABLE IF NOT EXISTS owners (
    owner        TEXT PRIMARY KEY,
    next_number  INTEGER NOT NULL,   -- run numbers (#1, #2, ...) are never reused, even after deletes
    created      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    owner        TEXT NOT NULL,
    number       INTEGER NOT NULL,
    created      REAL NOT NULL,      -- Unix time (s)
    data         TEXT NOT NULL,
    settings     TEXT NOT NULL,      -- JSON dict
    state        TEXT NOT NULL,
    message      TEXT NOT NULL,
    loss_steps   BLOB NOT NULL,      -- (P,) int32 little-endian
    loss         BLOB NOT NULL,      -- (P,) float32 little-endian, NaN where not finite
    record       TEXT NOT NULL,      -- JSON: the other curves and results
    model        BLOB,               -- the trained network's .npz, or NULL
    model_size   INTEGER NOT NULL,   -- len(model), 0 without one: read without touching the blob
    card         TEXT,               -- JSON dict describing the model, or NULL
    PRIMARY KEY (owner, number)
);
"""
COLUMNS = "owner, number, created, data, settings, state, message, loss_steps, loss, record, model_size, card"


class RunStoreUnavailable(OSError):
    """The run history cannot be read or written; str(error) is a sentence for the page."""


@dataclass
class StoredRun:
    """One run as the store gives it back."""
    id: int                   # the owner's run number, shown as "#3"; never reused
    owner: str
    created: float            # Unix time (s) of the save
    data: str
    settings: dict
    state: str
    message: str
    elapsed: float            # seconds of training, or None
    batches_per_epoch: int    # or None
    loss_steps: np.ndarray    # (P,) int64 step numbers
    loss: np.ndarray          # (P,) float32 loss at those steps; NaN where it was not finite
    epochs_log: list          # one dict per epoch
    lr_marks: list            # [[step, η], ...]
    test_acc: float           # or None
    confusion: list           # (K, K) nested lists, or None
    model_size: int           # bytes of the stored .npz, 0 when there is none
    card: dict                # the model's card, or None


# ---- owners ---------------------------------------------------------------------------------

def new_owner_id():
    """A fresh unguessable id for one browser: 22 URL-safe characters (128 random bits)."""
    return secrets.token_urlsafe(OWNER_BYTES)


def valid_owner_id(s):
    """True only for strings shaped exactly like new_owner_id()'s: 22 characters of A–Z a–z 0–9 _ -."""
    return isinstance(s, str) and OWNER_PATTERN.fullmatch(s) is not None


def _check_owner(owner):
    if not valid_owner_id(owner):
        raise ValueError(f"owner must be an id made by new_owner_id() (22 characters of A–Z, a–z, 0–9, _ and -); "
                         f"got {str(owner)[:40]!r}")
    return owner


def default_path():
    """$BACKPROP_LAB_DATA/runs.sqlite3, else $XDG_DATA_HOME (or ~/.local/share)/backprop-lab/runs.sqlite3."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser() / DB_NAME
    xdg = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(xdg).expanduser() / "backprop-lab" / DB_NAME


# ---- the store ------------------------------------------------------------------------------

class RunStore:
    """Runs per owner in one SQLite file. Every method raises ValueError for bad input and
    RunStoreUnavailable when the database cannot be used."""

    def __init__(self, path=None, busy_timeout=BUSY_TIMEOUT_S):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.busy_timeout = float(busy_timeout)
        with self._guard():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise RunStoreUnavailable(_off(f"the folder {self.path.parent} cannot be created ({e.strerror or e})",
                                               f"set {DATA_ENV} to a writable folder")) from e
            with self._connect() as db:
                self._create(db)

    @classmethod
    def open(cls, path=None, busy_timeout=BUSY_TIMEOUT_S):
        """(RunStore, None), or (MemoryRunStore, the sentence saying why history is off)."""
        try:
            return cls(path, busy_timeout), None
        except RunStoreUnavailable as e:
            return MemoryRunStore(), str(e)

    # ---- writing ----

    def save_run(self, owner, run, model_bytes=None, card=None):
        """Store a run (and its model) in one transaction; return its number (1, 2, ... per owner).

        Beyond MAX_RUNS_PER_OWNER the oldest runs are deleted; beyond MAX_MODELS_PER_OWNER the oldest
        runs lose their model. A model over MAX_MODEL_BYTES raises ValueError (nothing is stored).
        """
        _check_owner(owner)
        row = _row(run, model_bytes, card)
        now = time.time()
        with self._guard(), self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                got = db.execute("SELECT next_number FROM owners WHERE owner = ?", (owner,)).fetchone()
                number = got[0] if got else 1
                db.execute("INSERT INTO owners (owner, next_number, created) VALUES (?, ?, ?) "
                           "ON CONFLICT (owner) DO UPDATE SET next_number = excluded.next_number",
                           (owner, number + 1, now))
                db.execute("INSERT INTO runs (owner, number, created, data, settings, state, message, loss_steps, "
                           "loss, record, model, model_size, card) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (owner, number, now, row["data"], row["settings"], row["state"], row["message"],
                            row["loss_steps"], row["loss"], row["record"], row["model"], len(row["model"] or b""),
                            row["card"]))
                db.execute("DELETE FROM runs WHERE owner = ? AND number <= ("
                           "SELECT number FROM runs WHERE owner = ? ORDER BY number DESC LIMIT 1 OFFSET ?)",
                           (owner, owner, MAX_RUNS_PER_OWNER))
                db.execute("UPDATE runs SET model = NULL, model_size = 0 WHERE owner = ? AND model_size > 0 "
                           "AND number <= (SELECT number FROM runs WHERE owner = ? AND model_size > 0 "
                           "ORDER BY number DESC LIMIT 1 OFFSET ?)", (owner, owner, MAX_MODELS_PER_OWNER))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:          # SQLite may have rolled back already (a full disk does)
                    db.execute("ROLLBACK")
                raise
        return number

    def delete_run(self, owner, run_id):
        """Delete one of the owner's runs; True if there was one to delete."""
        _check_owner(owner)
        with self._guard(), self._connect() as db:
            return db.execute("DELETE FROM runs WHERE owner = ? AND number = ?",
                              (owner, _check_number(run_id))).rowcount == 1

    def delete_all(self, owner):
        """Delete all of the owner's runs; return how many there were. Numbers keep counting up."""
        _check_owner(owner)
        with self._guard(), self._connect() as db:
            return db.execute("DELETE FROM runs WHERE owner = ?", (owner,)).rowcount

    # ---- reading ----

    def list_runs(self, owner):
        """The owner's runs, oldest first (newest last), without model bytes."""
        _check_owner(owner)
        with self._guard(), self._connect() as db:
            rows = db.execute(f"SELECT {COLUMNS} FROM runs WHERE owner = ? ORDER BY number", (owner,)).fetchall()
        return [_stored(r) for r in rows]

    def get_run(self, owner, run_id):
        """The owner's run with this number, or None (also when it is someone else's)."""
        _check_owner(owner)
        with self._guard(), self._connect() as db:
            row = db.execute(f"SELECT {COLUMNS} FROM runs WHERE owner = ? AND number = ?",
                             (owner, _check_number(run_id))).fetchone()
        return _stored(row) if row else None

    def model_bytes(self, owner, run_id):
        """The .npz bytes stored with the owner's run, or None (no such run, or saved without a model)."""
        _check_owner(owner)
        with self._guard(), self._connect() as db:
            row = db.execute("SELECT model FROM runs WHERE owner = ? AND number = ?",
                             (owner, _check_number(run_id))).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    # ---- exports ----

    def export_json(self, owner, run_ids=None):
        """The runs (all, or those numbered in run_ids) with full curves, as a JSON document.

        The owner id is left out: it is the key to the history, and exports get shared.
        """
        runs = self._chosen(owner, run_ids)
        doc = {"format": "backprop-lab runs", "version": SCHEMA_VERSION,
               "runs": [{"saved_utc": _utc(r.created), **_public(r)} for r in runs]}
        return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def export_csv(self, owner, run_ids=None):
        """One row per run: number, time, data set, how it ended, every setting, final results.

        Lists and dicts in settings are written as JSON; missing values as empty cells.
        """
        runs = self._chosen(owner, run_ids)
        head = ["run", "saved_utc", "data", "ended", "train_seconds", "epochs_done"]
        tail = ["final_train_loss", "final_train_acc", "final_val_acc", "final_test_loss", "final_test_acc"]
        keys = _union_keys(r.settings for r in runs)
        columns = head + [k if k not in head + tail else f"setting_{k}" for k in keys] + tail
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for r in runs:
            last = r.epochs_log[-1] if r.epochs_log else {}
            writer.writerow([_cell(v) for v in [
                r.id, _utc(r.created), r.data, r.state, r.elapsed, len(r.epochs_log),
                *[r.settings.get(k) for k in keys],
                last.get("loss"), last.get("train_acc"), last.get("val_acc"), last.get("test_loss"),
                r.test_acc if r.test_acc is not None else last.get("test_acc")]])
        return out.getvalue()

    def _chosen(self, owner, run_ids):
        runs = self.list_runs(owner)
        if run_ids is None:
            return runs
        wanted = [_check_number(n) for n in run_ids]
        have = {r.id for r in runs}
        missing = [n for n in wanted if n not in have]
        if missing:
            raise ValueError(f"no run {', '.join(f'#{n}' for n in missing)} in this run history")
        return [r for r in runs if r.id in set(wanted)]

    # ---- the database ----

    def _create(self, db):
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RunStoreUnavailable(_off(f"the database {self.path} was written by a newer Backprop Lab "
                                           f"(format {version}, this one reads {SCHEMA_VERSION})",
                                           f"update the app or set {DATA_ENV} to another folder"))
        db.execute("PRAGMA journal_mode = WAL")
        if version < SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        db.execute("SELECT count(*) FROM runs").fetchone()

    @contextlib.contextmanager
    def _connect(self):
        """A fresh connection for this call (threads never share one); closed afterwards."""
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _guard(self):
        """Turn the database's failures into RunStoreUnavailable with a sentence; let our own bugs through."""
        try:
            yield
        except (sqlite3.ProgrammingError, sqlite3.IntegrityError, sqlite3.InterfaceError):
            raise
        except (sqlite3.DatabaseError, OSError) as e:
            if isinstance(e, RunStoreUnavailable):
                raise
            raise RunStoreUnavailable(self._problem(e)) from e

    def _problem(self, e):
        """The sentence for a failure: what is wrong with which file, and what would fix it."""
        detail = str(e) or type(e).__name__
        text = detail.lower() if isinstance(e, sqlite3.DatabaseError) else ""    # an OSError's text holds the path
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return _off(f"the database {self.path} is damaged ({detail})",
                        "move that file away to start a new history")
        if "locked" in text or "busy" in text:
            return _off(f"the database {self.path} is locked by another program ({detail})",
                        f"close the other program or set {DATA_ENV} to another folder")
        if "disk is full" in text or getattr(e, "errno", None) == errno.ENOSPC:
            return _off(f"the disk holding {self.path} is full ({detail})", "free some space")
        if "readonly" in text or "unable to open" in text or isinstance(e, OSError):
            return _off(f"the database {self.path} cannot be written ({detail})",
                        f"set {DATA_ENV} to a writable folder")
        return _off(f"the database {self.path} failed ({detail})", f"set {DATA_ENV} to another folder")


class MemoryRunStore(RunStore):
    """The same store in memory, for this server process only: the fallback when the file cannot be used.

    One in-memory SQLite database, shared by all threads through one connection behind a lock.
    """

    def __init__(self):
        self.path = None
        self.busy_timeout = 0.0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._create(self._db)

    @contextlib.contextmanager
    def _connect(self):
        with self._lock:
            yield self._db


def _off(what, fix):
    return f"Run history is off: {what}; runs of this session are kept in memory only. To fix: {fix}."


# ---- settings differences and labels ---------------------------------------------------------

LABEL_ORDER = ("data", "lr", "optimizer", "schedule", "l2", "hidden", "activation", "init", "init_std",
               "batch_size", "epochs", "shuffle", "normalize", "train_size", "seed")
SHORT = {                            # setting → its words in a label; other settings read "name=value"
    "data": str,
    "lr": lambda v: f"η={v:g}",
    "optimizer": str,
    "schedule": lambda v: "constant η" if v == "constant" else f"{v} schedule",
    "l2": lambda v: f"λ={v:g}",
    "hidden": lambda v: "hidden " + "-".join(str(n) for n in v),
    "activation": str,
    "init": lambda v: f"{v} init",
    "init_std": lambda v: f"σ={v:g}",
    "batch_size": lambda v: f"batch {v:,}",
    "epochs": lambda v: f"{v:,} epochs",
    "shuffle": lambda v: "shuffled" if v else "no shuffle",
    "normalize": lambda v: "inputs /255" if v else "raw 0–255 inputs",
    "train_size": lambda v: "all images" if v is None else f"{v:,} images",
    "seed": lambda v: f"seed {v}",
}


def settings_diff(settings, defaults):
    """{name: value} of the settings that differ from the defaults, in label order.

    A setting the defaults do not name counts as different; tuples and lists compare equal.
    """
    if not isinstance(settings, dict) or not isinstance(defaults, dict):
        raise ValueError(f"settings and defaults must be dicts; got {type(settings).__name__} "
                         f"and {type(defaults).__name__}")
    s, d = _jsonable(settings, "settings"), _jsonable(defaults, "defaults")
    names = [k for k in LABEL_ORDER if k in s] + [k for k in s if k not in LABEL_ORDER]
    return {k: s[k] for k in names if k not in d or s[k] != d[k]}


def settings_label(settings, defaults):
    """The differing settings in a few words, e.g. "η=10 · sgd · no shuffle · 1,000 images"; "defaults" if none."""
    words = []
    for name, value in settings_diff(settings, defaults).items():
        try:
            words.append(SHORT[name](value))
        except (KeyError, TypeError, ValueError):
            words.append(f"{name}={json.dumps(value, ensure_ascii=False)}")
    return " · ".join(words) or "defaults"


def run_label(run, defaults):
    """"#3 η=10 · sgd · no shuffle · 1,000 images": the run's number and what differs from the defaults.

    The data set counts as a setting: put "data" in defaults to leave the usual one out of labels.
    """
    return f"#{run.id} {settings_label({'data': run.data, **run.settings}, defaults)}"


def settings_columns(runs, defaults):
    """Names of the settings that differ from the defaults in any of the runs ("data" included): the
    table columns that tell these runs apart."""
    return _union_keys(settings_diff({"data": r.data, **r.settings}, defaults) for r in runs)


# ---- records in and out ---------------------------------------------------------------------

def _row(run, model_bytes, card):
    """Check a run and turn it into the columns of its row; ValueError names the first problem."""
    if is_dataclass(run) and not isinstance(run, type):
        run = {f.name: getattr(run, f.name) for f in fields(run)}
    if not isinstance(run, dict):
        raise ValueError(f"run must be a dict or a dataclass; got {type(run).__name__}")
    unknown = [k for k in run if k not in RUN_KEYS]
    if unknown:
        raise ValueError(f"run has unknown keys {unknown}; expected some of {list(RUN_KEYS)}")
    for key in ("settings", "state"):
        if key not in run:
            raise ValueError(f"run needs {key!r}")
    if not isinstance(run["settings"], dict):
        raise ValueError(f"run['settings'] must be a dict; got {type(run['settings']).__name__}")
    settings = _dumps(_jsonable(run["settings"], "settings"), "settings", MAX_SETTINGS_BYTES)
    text = {k: _text(run.get(k, ""), k) for k in ("data", "state", "message")}
    if not text["state"]:
        raise ValueError("run['state'] must name how the run ended, e.g. 'finished'")
    steps, loss = _curve(run.get("loss_steps", []), run.get("loss", []))
    record = {"elapsed": _number(run.get("elapsed"), "elapsed"),
              "batches_per_epoch": _count(run.get("batches_per_epoch"), "batches_per_epoch"),
              "epochs_log": _jsonable(_list(run.get("epochs_log", []), "epochs_log"), "epochs_log", SIGNIFICANT_DIGITS),
              "lr_marks": _pairs(run.get("lr_marks", []), "lr_marks"),
              "test_acc": _number(run.get("test_acc"), "test_acc"),
              "confusion": _confusion(run.get("confusion"))}
    if not all(isinstance(e, dict) for e in record["epochs_log"]):
        raise ValueError("run['epochs_log'] must be a list of dicts, one per epoch")
    if card is not None and not isinstance(card, dict):
        raise ValueError(f"card must be a dict; got {type(card).__name__}")
    card = None if card is None else _dumps(_jsonable(card, "card"), "card", MAX_RECORD_BYTES)
    record = _dumps(record, "the run's curves and results", MAX_RECORD_BYTES)
    if model_bytes is not None:
        if not isinstance(model_bytes, (bytes, bytearray, memoryview)):
            raise ValueError(f"model_bytes must be the .npz file's bytes; got {type(model_bytes).__name__}")
        model_bytes = bytes(model_bytes)
        if not model_bytes.startswith(NPZ_MAGIC):
            raise ValueError("model_bytes is not an .npz file (lab.modelfile.model_bytes(net) makes one)")
        if len(model_bytes) > MAX_MODEL_BYTES:
            raise ValueError(f"the model is {len(model_bytes) / 2**20:.1f} MB; the run history keeps models up to "
                             f"{MAX_MODEL_BYTES / 2**20:.0f} MB (save the run without it)")
    return {**text, "settings": settings, "loss_steps": steps.tobytes(), "loss": loss.tobytes(), "record": record,
            "model": model_bytes, "card": card}


def _stored(row):
    owner, number, created, data, settings, state, message, steps, loss, record, model_size, card = row
    return StoredRun(id=number, owner=owner, created=created, data=data, settings=json.loads(settings),
                     state=state, message=message, model_size=model_size,
                     loss_steps=np.frombuffer(steps, dtype="<i4").astype(np.int64),             # (P,)
                     loss=np.frombuffer(loss, dtype="<f4").astype(np.float32),                  # (P,)
                     card=None if card is None else json.loads(card), **json.loads(record))


def _public(run):
    """A stored run as a JSON-able dict without the owner id. Each float32 loss is written as the
    float64 equal to it (exact, if long: 0.1 reads 0.10000000149011612); NaN as None."""
    out = {f.name: getattr(run, f.name) for f in fields(run) if f.name != "owner"}
    out["loss_steps"] = run.loss_steps.tolist()
    out["loss"] = [None if math.isnan(v) else v for v in run.loss.astype(np.float64).tolist()]
    return out


def _jsonable(value, where, digits=None, depth=0):
    """value as plain JSON types: NumPy numbers → Python numbers, arrays and tuples → lists,
    NaN/±inf → None, floats rounded to `digits` significant digits when given."""
    if depth > 20:
        raise ValueError(f"{where} is nested more than 20 levels deep")
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if not math.isfinite(x):
            return None
        return float(f"{x:.{digits}g}") if digits else x
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]", digits, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{where} has a key {k!r}; keys must be text")
            out[k] = _jsonable(v, f"{where}[{k!r}]", digits, depth + 1)
        return out
    raise ValueError(f"{where} is a {type(value).__name__}; expected numbers, text, True/False, lists or dicts")


def _dumps(value, what, limit):
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    if len(text.encode()) > limit:
        raise ValueError(f"{what} take {len(text.encode()):,} bytes as JSON; the run history keeps at most {limit:,}")
    return text


def _text(value, key):
    if not isinstance(value, str):
        raise ValueError(f"run[{key!r}] must be text; got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise ValueError(f"run[{key!r}] has {len(value):,} characters; at most {MAX_TEXT:,} are kept")
    return value


def _list(value, key):
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise ValueError(f"run[{key!r}] must be a list; got {type(value).__name__}")
    return value


def _number(value, key):
    """A float (7 significant digits), or None for None/NaN/inf."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"run[{key!r}] must be a number; got {value!r}")
    return _jsonable(value, key, SIGNIFICANT_DIGITS)


def _count(value, key):
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"run[{key!r}] must be a whole number ≥ 1; got {value!r}")
    return int(value)


def _curve(steps, loss):
    """(P,) int32 steps and float32 losses (NaN where not finite), thinned evenly to MAX_CURVE_POINTS
    with the first and last point kept."""
    try:
        s = np.asarray(_list(steps, "loss_steps"), dtype=np.float64)         # (P,)
        y = np.asarray(_list(loss, "loss"), dtype=np.float64)                # (P,); None → NaN
    except (TypeError, ValueError) as e:
        raise ValueError(f"run['loss_steps'] and run['loss'] must be lists of numbers ({e})") from None
    if s.ndim != 1 or s.shape != y.shape:
        raise ValueError(f"run['loss_steps'] and run['loss'] must be lists of the same length; "
                         f"got shapes {s.shape} and {y.shape}")
    if not (np.isfinite(s).all() and (s >= 0).all() and (s <= 2**31 - 1).all() and (s == np.round(s)).all()):
        raise ValueError("run['loss_steps'] must be whole step numbers ≥ 0")
    if len(s) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(s) - 1, MAX_CURVE_POINTS).round().astype(int))
        s, y = s[keep], y[keep]
    with np.errstate(over="ignore"):                                         # beyond float32's 3.4e38: inf, then NaN
        y = y.astype("<f4")
    y[~np.isfinite(y)] = np.nan
    return s.astype("<i4"), y


def _pairs(value, key):
    pairs = _jsonable(_list(value, key), key, SIGNIFICANT_DIGITS)
    for p in pairs:
        if not (isinstance(p, list) and len(p) == 2 and all(v is None or isinstance(v, (int, float)) for v in p)):
            raise ValueError(f"run[{key!r}] must be a list of [step, η] pairs; got {p!r}")
    return pairs


def _confusion(value):
    if value is None:
        return None
    try:
        C = np.asarray(value, dtype=np.float64)                               # (K, K)
    except (TypeError, ValueError) as e:
        raise ValueError(f"run['confusion'] must be a square table of counts ({e})") from None
    if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.isfinite(C).all() or (C < 0).any() or (C != np.round(C)).any():
        raise ValueError(f"run['confusion'] must be a square table of counts ≥ 0; got shape {C.shape}")
    return C.astype(np.int64).tolist()


def _check_number(run_id):
    if isinstance(run_id, (bool, np.bool_)) or not isinstance(run_id, (int, np.integer)) or not 1 <= run_id < 2**63:
        raise ValueError(f"a run id is a whole number ≥ 1 (#3 → 3); got {run_id!r}")
    return int(run_id)


def _union_keys(dicts):
    keys = {}
    for d in dicts:
        keys.update(dict.fromkeys(d))
    return list(keys)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return repr(value) if isinstance(value, float) else str(value)


def _utc(t):
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
