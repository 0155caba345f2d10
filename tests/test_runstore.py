"""The run history on disk (lab/runstore.py): round trips, owners kept apart, exports, failures, threads, limits."""
import csv
import io
import json
import sqlite3
import subprocess
import sys
import threading
from dataclasses import make_dataclass
from pathlib import Path

import numpy as np
import pytest

from core.network import MLP
from lab import runstore
from lab.modelfile import ModelCard, model_bytes
from lab.runstore import (
    MemoryRunStore,
    RunStore,
    RunStoreUnavailable,
    new_owner_id,
    run_label,
    settings_columns,
    settings_diff,
    settings_label,
    valid_owner_id,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {"data": "MNIST", "hidden": [256], "activation": "relu", "init": "he", "init_std": 0.01, "seed": 0,
            "optimizer": "momentum", "lr": 0.1, "schedule": "constant", "l2": 0.0, "batch_size": 64,
            "epochs": 10, "normalize": True, "shuffle": True, "train_size": 5000}


def a_run(**changes):
    """A finished run as the page would hand it over: 3 epochs of 20 batches, loss every step."""
    settings = {k: v for k, v in DEFAULTS.items() if k != "data"}
    settings.update(changes.pop("settings", {}))
    steps = np.arange(1, 61)                                               # (60,)
    loss = (2.3 * np.exp(-steps / 20) + 0.05).astype(np.float32)          # (60,)
    run = {"data": "MNIST", "settings": settings, "state": "finished", "message": "Finished 3 epochs.",
           "elapsed": 1.25, "batches_per_epoch": 20, "loss_steps": steps, "loss": loss,
           "epochs_log": [{"epoch": e, "loss": 0.5 / e, "train_acc": 0.8 + 0.05 * e, "val_loss": 0.6 / e,
                           "val_acc": 0.78 + 0.05 * e, "test_loss": 0.61 / e, "test_acc": 0.77 + 0.05 * e,
                           "step": 20 * e, "lr": 0.1} for e in (1, 2, 3)],
           "lr_marks": [[0, 0.1], [25, 0.05]], "test_acc": 0.92,
           "confusion": np.diag([9, 8, 10]) + np.eye(3, k=1, dtype=np.int64)}
    run.update(changes)
    return run


def approx_logs(logs):
    """Epoch logs as stored: numbers kept to 7 significant digits."""
    return [pytest.approx(log, rel=1e-6) for log in logs]


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path):
    """Both stores, which must behave the same."""
    return RunStore(tmp_path / "runs.sqlite3") if request.param == "file" else MemoryRunStore()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "data" / "runs.sqlite3"


# ---- round trip -----------------------------------------------------------------------------

def test_a_saved_run_comes_back_with_its_settings_curves_results_and_model(store):
    owner, run = new_owner_id(), a_run(settings={"lr": 0.5})
    net = MLP([784, 16, 10], seed=1)
    model = model_bytes(net, ModelCard.from_meta({"note": "x"}))
    number = store.save_run(owner, run, model_bytes=model, card={"test_accuracy": 0.92})
    got = store.get_run(owner, number)
    assert (got.id, got.owner, got.data, got.state) == (1, owner, "MNIST", "finished")
    assert got.message == "Finished 3 epochs."
    assert got.settings["lr"] == 0.5 and got.settings["hidden"] == [256] and got.settings["shuffle"] is True
    np.testing.assert_array_equal(got.loss_steps, np.arange(1, 61))
    np.testing.assert_array_equal(got.loss, run["loss"])            # float32 in, float32 out: exact
    assert got.epochs_log == approx_logs(run["epochs_log"]) and got.lr_marks == [[0, 0.1], [25, 0.05]]
    assert got.test_acc == 0.92 and got.elapsed == 1.25 and got.batches_per_epoch == 20
    assert got.confusion == [[9, 1, 0], [0, 8, 1], [0, 0, 10]]
    assert got.card == {"test_accuracy": 0.92}
    # the model's bytes come back and load as the same network
    back = MLP.load(io.BytesIO(store.model_bytes(owner, number)))
    assert got.model_size == len(model)
    for W, W_back in zip(net.weights, back.weights):
        np.testing.assert_array_equal(W, W_back)
    assert [r.id for r in store.list_runs(owner)] == [1]


def test_a_run_without_a_model_has_no_model_bytes(store):
    owner = new_owner_id()
    number = store.save_run(owner, {"settings": {"lr": 1.0}, "state": "stopped"})
    got = store.get_run(owner, number)
    assert store.model_bytes(owner, number) is None and got.model_size == 0 and got.card is None
    assert got.loss.shape == got.loss_steps.shape == (0,)
    assert got.epochs_log == [] and got.lr_marks == [] and got.test_acc is None and got.confusion is None


def test_runs_are_listed_oldest_first_and_numbers_are_never_reused(store):
    owner = new_owner_id()
    numbers = [store.save_run(owner, a_run(settings={"seed": s})) for s in range(3)]
    assert numbers == [1, 2, 3]
    assert [r.settings["seed"] for r in store.list_runs(owner)] == [0, 1, 2]
    assert store.delete_run(owner, 3)
    assert store.save_run(owner, a_run()) == 4           # not 3 again: an export naming #3 stays unambiguous
    assert [r.id for r in store.list_runs(owner)] == [1, 2, 4]


def test_a_dataclass_run_is_stored_like_a_dict(store):
    owner, run = new_owner_id(), a_run(settings={"lr": 0.7})
    from_dataclass = store.get_run(owner, store.save_run(owner, _as_dataclass(run)))
    from_dict = store.get_run(owner, store.save_run(owner, run))
    assert from_dataclass.settings["lr"] == 0.7 and from_dataclass.settings == from_dict.settings
    np.testing.assert_array_equal(from_dataclass.loss, from_dict.loss)
    assert from_dataclass.epochs_log == from_dict.epochs_log and from_dataclass.confusion == from_dict.confusion


def _as_dataclass(run):
    return make_dataclass("Run", list(run))(**run)


# ---- owners ---------------------------------------------------------------------------------

def test_owner_ids_are_random_22_url_safe_characters_and_nothing_else_passes():
    ids = {new_owner_id() for _ in range(200)}
    assert len(ids) == 200 and all(valid_owner_id(i) for i in ids)
    assert all(len(i) == 22 and set(i) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
               for i in ids)
    one = next(iter(ids))
    for bad in [one[:-1], one + "A", one[:-1] + "'", one[:-1] + "=", " " + one[1:], one[:-1] + "\n", "", None, 42,
                "x' OR '1'='1' --------", "a" * 21 + "é", one.encode()]:
        assert not valid_owner_id(bad), bad


def test_owner_b_cannot_list_get_change_delete_or_export_owner_as_runs(store):
    a, b = new_owner_id(), new_owner_id()
    store.save_run(a, a_run(settings={"lr": 3.0}), model_bytes=model_bytes(MLP([784, 4, 10])))
    store.save_run(a, a_run())
    assert store.list_runs(b) == []
    assert store.get_run(b, 1) is None and store.model_bytes(b, 1) is None
    assert not store.delete_run(b, 1) and store.delete_all(b) == 0
    with pytest.raises(ValueError, match="no run #1"):
        store.export_csv(b, [1])
    with pytest.raises(ValueError, match="no run #1, #2"):
        store.export_json(b, [1, 2])
    assert json.loads(store.export_json(b))["runs"] == []
    # B's own runs start at #1 and do not disturb A's
    assert store.save_run(b, a_run(settings={"lr": 7.0})) == 1
    assert [r.settings["lr"] for r in store.list_runs(a)] == [3.0, 0.1]
    assert store.get_run(a, 1).settings["lr"] == 3.0 and store.model_bytes(a, 1) is not None
    assert [r.settings["lr"] for r in store.list_runs(b)] == [7.0]


def test_a_guessed_owner_id_opens_nothing(store):
    owner = new_owner_id()
    for _ in range(5):
        store.save_run(owner, a_run())
    for _ in range(50):
        guess = new_owner_id()
        assert store.list_runs(guess) == [] and all(store.get_run(guess, n) is None for n in range(1, 6))


def test_hostile_owner_ids_and_run_ids_are_refused_before_any_query(store):
    owner = new_owner_id()
    store.save_run(owner, a_run())
    for hostile in ["' OR '1'='1", f"{owner}' OR '1'='1", "x'); DROP TABLE runs; --", owner + "%", "%", None, 1]:
        with pytest.raises(ValueError, match="new_owner_id"):
            store.list_runs(hostile)
        with pytest.raises(ValueError, match="new_owner_id"):
            store.delete_all(hostile)
        with pytest.raises(ValueError, match="new_owner_id"):
            store.save_run(hostile, a_run())
    for bad_id in ["1 OR 1=1", "1", 1.0, True, None, 0, -1, 2**70]:
        with pytest.raises(ValueError, match="whole number"):
            store.get_run(owner, bad_id)
    assert len(store.list_runs(owner)) == 1


# ---- persistence ----------------------------------------------------------------------------

def test_runs_come_back_after_the_store_is_closed_and_reopened(path):
    owner = new_owner_id()
    model = model_bytes(MLP([784, 8, 10], seed=3))
    first = RunStore(path)
    first.save_run(owner, a_run(settings={"lr": 2.0}), model_bytes=model)
    first.save_run(owner, a_run(state="diverged"))
    del first                                               # a server restart: nothing of the first store survives
    again = RunStore(path)
    assert [(r.id, r.state, r.settings["lr"]) for r in again.list_runs(owner)] == [(1, "finished", 2.0),
                                                                                 (2, "diverged", 0.1)]
    assert again.model_bytes(owner, 1) == model
    assert again.save_run(owner, a_run()) == 3


def test_runs_saved_by_another_process_are_there_for_this_one(path):
    owner = new_owner_id()
    script = ("import sys; from lab.runstore import RunStore; "
              "print(RunStore(sys.argv[1]).save_run(sys.argv[2], {'settings': {'lr': 0.25}, 'state': 'finished'}))")
    done = subprocess.run([sys.executable, "-c", script, str(path), owner], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "1"
    assert [(r.id, r.settings) for r in RunStore(path).list_runs(owner)] == [(1, {"lr": 0.25})]


def test_the_default_file_is_in_backprop_lab_data_else_under_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKPROP_LAB_DATA", str(tmp_path / "mine"))
    assert runstore.default_path() == tmp_path / "mine" / "runs.sqlite3"
    owner = new_owner_id()
    RunStore().save_run(owner, a_run())
    assert (tmp_path / "mine" / "runs.sqlite3").is_file() and len(RunStore().list_runs(owner)) == 1
    monkeypatch.delenv("BACKPROP_LAB_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert runstore.default_path() == tmp_path / "xdg" / "backprop-lab" / "runs.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert runstore.default_path() == tmp_path / "home" / ".local" / "share" / "backprop-lab" / "runs.sqlite3"


def test_the_tests_never_touch_the_users_run_history():
    assert "backprop-lab-test-data-" in str(runstore.default_path())


# ---- deleting -------------------------------------------------------------------------------

def test_one_run_or_all_runs_of_an_owner_can_be_deleted(store):
    a, b = new_owner_id(), new_owner_id()
    for _ in range(3):
        store.save_run(a, a_run(), model_bytes=model_bytes(MLP([784, 4, 10])))
    store.save_run(b, a_run())
    assert store.delete_run(a, 2) and not store.delete_run(a, 2)
    assert [r.id for r in store.list_runs(a)] == [1, 3]
    assert store.get_run(a, 2) is None and store.model_bytes(a, 2) is None
    assert store.delete_all(a) == 2 and store.list_runs(a) == []
    assert len(store.list_runs(b)) == 1


# ---- exports --------------------------------------------------------------------------------

def test_the_csv_export_has_a_row_per_run_that_parses_back_to_the_same_numbers(store):
    owner = new_owner_id()
    runs = [a_run(), a_run(settings={"lr": 10.0, "optimizer": "sgd", "hidden": [128, 64], "shuffle": False},
                           state="diverged", test_acc=0.0823, elapsed=0.3125)]
    for run in runs:
        store.save_run(owner, run)
    rows = list(csv.DictReader(io.StringIO(store.export_csv(owner))))
    assert [r["run"] for r in rows] == ["1", "2"] and [r["ended"] for r in rows] == ["finished", "diverged"]
    for row, run in zip(rows, runs):
        assert float(row["lr"]) == run["settings"]["lr"] and row["optimizer"] == run["settings"]["optimizer"]
        assert json.loads(row["hidden"]) == run["settings"]["hidden"]
        assert row["shuffle"] == str(run["settings"]["shuffle"])
        assert int(row["batch_size"]) == 64 and int(row["train_size"]) == 5000
        assert float(row["final_test_acc"]) == pytest.approx(run["test_acc"], rel=1e-6)
        assert float(row["final_val_acc"]) == pytest.approx(run["epochs_log"][-1]["val_acc"], rel=1e-6)
        assert float(row["train_seconds"]) == run["elapsed"] and int(row["epochs_done"]) == 3
        assert row["saved_utc"].endswith("Z") and row["data"] == "MNIST"
    assert owner not in store.export_csv(owner)
    only_two = list(csv.DictReader(io.StringIO(store.export_csv(owner, [2]))))
    assert [r["run"] for r in only_two] == ["2"]


def test_the_json_export_has_the_full_curves_and_leaves_out_the_owner_id(store):
    owner = new_owner_id()
    runs = [a_run(), a_run(settings={"l2": 0.001})]
    for run in runs:
        store.save_run(owner, run, model_bytes=model_bytes(MLP([784, 4, 10])), card={"source": "test"})
    text = store.export_json(owner)
    assert owner not in text
    doc = json.loads(text)
    assert doc["format"] == "backprop-lab runs" and [r["id"] for r in doc["runs"]] == [1, 2]
    for got, run in zip(doc["runs"], runs):
        assert "owner" not in got and got["settings"] == run["settings"]
        assert got["loss_steps"] == run["loss_steps"].tolist()
        np.testing.assert_array_equal(np.float32(got["loss"]), run["loss"])     # the same float32 numbers
        assert got["epochs_log"] == approx_logs(run["epochs_log"]) and got["lr_marks"] == run["lr_marks"]
        assert got["confusion"] == run["confusion"].tolist() and got["test_acc"] == run["test_acc"]
        assert got["card"] == {"source": "test"} and got["model_size"] > 0
    assert [r["id"] for r in json.loads(store.export_json(owner, [2]))["runs"]] == [2]


# ---- when the database cannot be used --------------------------------------------------------

def test_a_corrupt_database_gets_a_clear_message_and_the_memory_fallback_works(path):
    owner = new_owner_id()
    RunStore(path).save_run(owner, a_run())
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(RunStoreUnavailable, match=r"Run history is off: the database .*runs.sqlite3 is damaged"):
        RunStore(path)
    store, problem = RunStore.open(path)
    assert isinstance(store, MemoryRunStore) and "is damaged" in problem and "kept in memory only" in problem
    assert isinstance(RunStoreUnavailable(problem), OSError)
    number = store.save_run(owner, a_run(settings={"lr": 0.3}))
    assert store.get_run(owner, number).settings["lr"] == 0.3
    assert RunStore.open(path.parent / "fresh.sqlite3")[1] is None


def test_a_database_locked_by_another_program_gets_a_clear_message_at_open(path):
    RunStore(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        store, problem = RunStore.open(path, busy_timeout=0.1)
        assert isinstance(store, MemoryRunStore)
        assert "is locked by another program" in problem and "kept in memory only" in problem
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert RunStore.open(path)[1] is None


def test_a_save_while_another_program_holds_the_write_lock_fails_clearly_and_reading_goes_on(path):
    owner = new_owner_id()
    store = RunStore(path, busy_timeout=0.1)
    store.save_run(owner, a_run())
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(RunStoreUnavailable, match="is locked by another program"):
            store.save_run(owner, a_run())
        assert [r.id for r in store.list_runs(owner)] == [1]          # WAL: readers are not blocked by a writer
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.save_run(owner, a_run()) == 2                       # the failed save took no number and left nothing


def test_a_folder_that_cannot_be_created_gets_a_clear_message(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(RunStoreUnavailable, match=r"the folder .*a-file.* cannot be created.*BACKPROP_LAB_DATA"):
        RunStore(tmp_path / "a-file" / "sub" / "runs.sqlite3")
    store, problem = RunStore.open(tmp_path / "a-file" / "runs.sqlite3")
    assert isinstance(store, MemoryRunStore) and "Run history is off" in problem


def test_a_read_only_database_lists_its_runs_but_a_save_says_it_cannot_be_written(path, monkeypatch):
    owner = new_owner_id()
    RunStore(path).save_run(owner, a_run())
    store = RunStore(path)
    real_connect = sqlite3.connect

    def read_only(target, **kwargs):                    # root ignores file permissions, so open it read-only
        return real_connect(f"file:{target}?mode=ro", uri=True, **kwargs)

    monkeypatch.setattr(runstore.sqlite3, "connect", read_only)
    assert [r.id for r in store.list_runs(owner)] == [1]
    with pytest.raises(RunStoreUnavailable, match="cannot be written.*BACKPROP_LAB_DATA"):
        store.save_run(owner, a_run())


def test_a_full_disk_during_a_save_gets_a_clear_message_and_leaves_no_half_run(path, monkeypatch):
    owner = new_owner_id()
    store = RunStore(path)
    store.save_run(owner, a_run())
    real_connect = sqlite3.connect

    class FullDisk(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.startswith("UPDATE runs"):             # after the owner's counter and the run were written
                raise sqlite3.OperationalError("database or disk is full")
            return super().execute(sql, *args)

    monkeypatch.setattr(runstore.sqlite3, "connect", lambda target, **kw: real_connect(target, factory=FullDisk, **kw))
    with pytest.raises(RunStoreUnavailable, match="the disk holding .* is full.*free some space"):
        store.save_run(owner, a_run())
    monkeypatch.undo()
    assert [r.id for r in store.list_runs(owner)] == [1] and store.save_run(owner, a_run()) == 2


def test_a_database_from_a_newer_version_is_left_alone(path):
    RunStore(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    store, problem = RunStore.open(path)
    assert isinstance(store, MemoryRunStore) and "newer Backprop Lab" in problem


# ---- threads --------------------------------------------------------------------------------

def test_eight_threads_saving_at_once_lose_nothing(path):
    store = RunStore(path)
    shared, own = new_owner_id(), [new_owner_id() for _ in range(8)]
    errors, start = [], threading.Barrier(8)

    def work(t):
        try:
            start.wait()
            for i in range(10):
                store.save_run(shared, a_run(settings={"seed": 100 * t + i}))
                store.save_run(own[t], a_run(settings={"seed": i}))
                store.list_runs(own[t])
        except Exception as e:                          # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    runs = RunStore(path).list_runs(shared)
    assert [r.id for r in runs] == list(range(1, 81))
    assert sorted(r.settings["seed"] for r in runs) == sorted(100 * t + i for t in range(8) for i in range(10))
    for t in range(8):
        assert [r.settings["seed"] for r in store.list_runs(own[t])] == list(range(10))


def test_the_memory_store_is_safe_for_threads_too():
    store, owner = MemoryRunStore(), new_owner_id()
    threads = [threading.Thread(target=lambda: [store.save_run(owner, a_run()) for _ in range(10)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.id for r in store.list_runs(owner)] == list(range(1, 81))


# ---- limits ---------------------------------------------------------------------------------

def test_beyond_the_limits_the_oldest_runs_and_then_the_oldest_models_are_dropped(store, monkeypatch):
    monkeypatch.setattr(runstore, "MAX_RUNS_PER_OWNER", 5)
    monkeypatch.setattr(runstore, "MAX_MODELS_PER_OWNER", 2)
    owner, other = new_owner_id(), new_owner_id()
    store.save_run(other, a_run(), model_bytes=model_bytes(MLP([784, 4, 10])))
    for i in range(7):
        store.save_run(owner, a_run(settings={"seed": i}), model_bytes=model_bytes(MLP([784, 4, 10], seed=i)))
    runs = store.list_runs(owner)
    assert [r.id for r in runs] == [3, 4, 5, 6, 7] and [r.settings["seed"] for r in runs] == [2, 3, 4, 5, 6]
    assert [r.model_size > 0 for r in runs] == [False, False, False, True, True]
    assert [store.model_bytes(owner, r.id) is not None for r in runs] == [False, False, False, True, True]
    assert store.model_bytes(other, 1) is not None              # another owner's runs are not counted


def test_a_model_over_the_size_limit_is_refused_and_nothing_is_stored(store, monkeypatch):
    monkeypatch.setattr(runstore, "MAX_MODEL_BYTES", 1000)
    owner = new_owner_id()
    with pytest.raises(ValueError, match=r"the model is .* MB; the run history keeps models up to"):
        store.save_run(owner, a_run(), model_bytes=model_bytes(MLP([784, 4, 10])))
    with pytest.raises(ValueError, match="not an .npz file"):
        store.save_run(owner, a_run(), model_bytes=b"hello")
    with pytest.raises(ValueError, match="the .npz file's bytes"):
        store.save_run(owner, a_run(), model_bytes="model.npz")
    assert store.list_runs(owner) == []


def test_long_curves_are_thinned_to_the_limit_keeping_both_ends(store):
    owner = new_owner_id()
    steps = np.arange(1, 50_001)
    number = store.save_run(owner, a_run(loss_steps=steps, loss=1.0 / steps))
    got = store.get_run(owner, number)
    assert len(got.loss_steps) == len(got.loss) == runstore.MAX_CURVE_POINTS
    assert got.loss_steps[0] == 1 and got.loss_steps[-1] == 50_000 and np.all(np.diff(got.loss_steps) > 0)
    np.testing.assert_allclose(got.loss, 1.0 / np.array(got.loss_steps), rtol=1e-6)


# ---- hostile and broken inputs ---------------------------------------------------------------

def test_nan_and_infinity_in_curves_are_kept_as_missing_values_not_errors(store):
    owner = new_owner_id()
    loss = np.array([2.3, np.nan, np.inf, 0.5], dtype=np.float32)
    log = [{"epoch": 1, "loss": float("nan"), "train_acc": np.float64(0.5), "val_acc": None, "test_acc": -np.inf}]
    number = store.save_run(owner, a_run(loss_steps=[1, 2, 3, 4], loss=loss, epochs_log=log, state="diverged",
                                         test_acc=float("nan"), lr_marks=[[0, float("inf")]]))
    got = store.get_run(owner, number)
    assert np.isnan(got.loss[1:3]).all() and got.loss[0] == pytest.approx(2.3) and got.loss[3] == 0.5
    assert got.epochs_log == [{"epoch": 1, "loss": None, "train_acc": 0.5, "val_acc": None, "test_acc": None}]
    assert got.test_acc is None and got.lr_marks == [[0, None]]
    assert "NaN" not in store.export_json(owner) and "Infinity" not in store.export_json(owner)
    assert json.loads(store.export_json(owner))["runs"][0]["loss"] == [float(np.float32(2.3)), None, None, 0.5]


def test_huge_settings_are_refused_with_a_clear_message_and_the_store_still_works(store):
    owner = new_owner_id()
    huge = {f"setting_{i}": "x" * 100 for i in range(10_000)}
    with pytest.raises(ValueError, match=r"settings take 1,[0-9,]+ bytes as JSON; the run history keeps at most"):
        store.save_run(owner, a_run(settings=huge))
    with pytest.raises(ValueError, match="epochs_log.*nested more than 20 levels"):
        deep = {}
        node = deep
        for _ in range(30):
            node["x"] = {}
            node = node["x"]
        store.save_run(owner, a_run(epochs_log=[deep]))
    assert store.list_runs(owner) == [] and store.save_run(owner, a_run()) == 1


def test_settings_with_quotes_and_odd_text_come_back_unchanged(store):
    owner = new_owner_id()
    odd = {"note": "'); DROP TABLE runs; --", "name": "\"η\" ‘quoted’ 中文 \x00 end", "list": (1, 2.5, None)}
    number = store.save_run(owner, a_run(settings=odd, data="MNIST'--", message="it's \"done\""))
    got = store.get_run(owner, number)
    assert got.settings["note"] == odd["note"] and got.settings["name"] == odd["name"]
    assert got.settings["list"] == [1, 2.5, None] and got.data == "MNIST'--" and got.message == "it's \"done\""
    assert [r["note"] for r in csv.DictReader(io.StringIO(store.export_csv(owner)))] == [odd["note"]]


@pytest.mark.parametrize("run, message", [
    ({"settings": {}}, "run needs 'state'"),
    ({"state": "finished"}, "run needs 'settings'"),
    ({"settings": {}, "state": "finished", "epoch_log": []}, r"unknown keys \['epoch_log'\]"),
    ({"settings": [1], "state": "finished"}, "run\\['settings'\\] must be a dict"),
    ({"settings": {1: 2}, "state": "finished"}, "keys must be text"),
    ({"settings": {"x": {1, 2}}, "state": "finished"}, "settings\\['x'\\] is a set"),
    ({"settings": {}, "state": ""}, "must name how the run ended"),
    ({"settings": {}, "state": "finished", "loss_steps": [1, 2], "loss": [1.0]}, "same length"),
    ({"settings": {}, "state": "finished", "loss_steps": [[1, 2]], "loss": [[1.0, 2.0]]}, "same length"),
    ({"settings": {}, "state": "finished", "loss_steps": [1], "loss": ["low"]}, "lists of numbers"),
    ({"settings": {}, "state": "finished", "loss_steps": [1.5], "loss": [1.0]}, "whole step numbers"),
    ({"settings": {}, "state": "finished", "confusion": [[1, 2]]}, "square table"),
    ({"settings": {}, "state": "finished", "test_acc": "high"}, "must be a number"),
    ({"settings": {}, "state": "finished", "lr_marks": [[1, 2, 3]]}, r"\[step, η\] pairs"),
    ({"settings": {}, "state": "finished", "epochs_log": [1, 2]}, "list of dicts"),
    ({"settings": {}, "state": "finished", "message": "x" * 5000}, "at most 4,000"),
    ("finished", "must be a dict or a dataclass"),
])
def test_a_malformed_run_gets_a_message_naming_what_is_wrong(store, run, message):
    owner = new_owner_id()
    with pytest.raises(ValueError, match=message):
        store.save_run(owner, run)
    assert store.list_runs(owner) == []


# ---- settings differences and labels ---------------------------------------------------------

def test_the_settings_diff_keeps_only_what_differs_from_the_defaults():
    settings = {**DEFAULTS, "lr": 10.0, "optimizer": "sgd", "shuffle": False, "train_size": 1000,
                "hidden": (256,), "extra": 1}
    assert settings_diff(settings, DEFAULTS) == {"lr": 10.0, "optimizer": "sgd", "shuffle": False,
                                                 "train_size": 1000, "extra": 1}
    assert settings_diff(dict(DEFAULTS), DEFAULTS) == {}
    assert settings_diff({"lr": np.float32(0.5)}, DEFAULTS) == {"lr": 0.5}
    with pytest.raises(ValueError, match="must be dicts"):
        settings_diff([("lr", 1)], DEFAULTS)


def test_labels_name_every_setting_that_differs_and_nothing_else(store):
    owner = new_owner_id()
    store.save_run(owner, a_run())
    store.save_run(owner, a_run(settings={"lr": 10.0, "optimizer": "sgd", "shuffle": False, "train_size": 1000}))
    store.save_run(owner, a_run(data="Fashion-MNIST", settings={"normalize": False, "schedule": "cosine",
                                                                 "l2": 0.001, "hidden": [128, 64], "init": "zeros",
                                                                 "batch_size": 1024, "epochs": 30, "seed": 4,
                                                                 "train_size": None, "dropout": 0.5}))
    first, second, third = store.list_runs(owner)
    assert run_label(first, DEFAULTS) == "#1 defaults"
    assert run_label(second, DEFAULTS) == "#2 η=10 · sgd · no shuffle · 1,000 images"
    assert run_label(third, DEFAULTS) == ("#3 Fashion-MNIST · cosine schedule · λ=0.001 · hidden 128-64"
                                          " · zeros init · batch 1,024 · 30 epochs · raw 0–255 inputs"
                                          " · all images · seed 4 · dropout=0.5")
    assert settings_label({"lr": 0.01, "activation": "sigmoid"}, DEFAULTS) == "η=0.01 · sigmoid"
    assert settings_columns([first, second, third], DEFAULTS) == [
        "lr", "optimizer", "shuffle", "train_size", "data", "schedule", "l2", "hidden", "init", "batch_size",
        "epochs", "normalize", "seed", "dropout"]
    assert settings_columns([first], DEFAULTS) == []
