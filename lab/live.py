"""Live runs: every run trains in a worker process of its own, so the server's Python only draws.

    page (Streamlit server process)                      worker process (one per run)
    LiveRun.set_lr(η) ────────── ("lr", η) ─── pipe ──▶  Trainer.set_lr(η): the next batch uses it
    LiveRun.pause() / resume() / stop() / step_once() ─▶ the Trainer's own commands
    LiveRun.snapshot() ◀──── what changed, every 0.1 s ── Trainer.snapshot()
    the server's slot pool: the page side holds a slot while its worker trains, and queues otherwise

Why a process and not a thread: the Trainer used to run as a thread inside the server. Its NumPy
element-wise passes hold Python's GIL, so the thread that answers the browser waited for it: twenty
mouse moves took 7–15 s during a run (0.3–1.1 s idle), Pause registered after 5.5 s and slider
changes reached the run late or not at all (see the README's latency table, measured by
benchmarks/bench_live.py). A worker process has its own interpreter and GIL.

The data set is shared, not copied: the server writes each data set's arrays once to .npy files in
a temporary folder, and every worker maps them read-only (np.load(mmap_mode="r")), so ten runs on
60,000 images hold the images once, in the operating system's page cache.

A worker is a fresh `python -m lab.worker` (never a fork of the server, whose threads a fork would
copy half-way). Starting one takes ~0.3 s (Python and NumPy imports), so the server keeps one spare
worker started ahead: pressing Train or "Step one batch" takes the spare and answers at once. A run
takes its worker only when it first computes (its slot came, or one step was asked for): a run that
waits in the queue is a few Python objects, not a process.
"""
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from core.network import MLP
from lab.trainer import ABANDON_AFTER, DONE_STATES, RECORD_EVERY, SLOTS, RunState, Snapshot, waiting_message

WATCH_EVERY = 0.05           # seconds between the server-side watcher's looks at the pipe and the slot queue
MODEL_TIMEOUT = 5.0          # seconds to wait for a running worker's copy of its weights
SETTLE_TIMEOUT = 0.3         # seconds a page waits for the worker's report on its command before drawing anyway:
                             # a report takes 2–20 ms; a worker that has not answered in 0.3 s is swapping or
                             # starting, and the next refresh shows its answer
REPO = Path(__file__).resolve().parents[1]


# ---- the data set, shared by every worker of the server -------------------------------------

class _SharedDataSets:
    """Each data set's big arrays written once as .npy files; workers map them read-only."""

    def __init__(self):
        self._folder = None
        self._files = {}                 # id of the images array -> (the arrays, kept alive; file paths)
        self._lock = threading.Lock()

    def paths(self, data):
        """{name: path} of data's images, labels, test images and test labels (written on first use)."""
        key = (id(data.images), id(data.test_images), id(data.labels), id(data.test_labels))
        with self._lock:
            if key not in self._files:
                if self._folder is None:
                    self._folder = tempfile.mkdtemp(prefix="backprop-lab-data-")
                    atexit.register(shutil.rmtree, self._folder, True)
                arrays = {"images": data.images, "labels": data.labels,
                          "test_images": data.test_images, "test_labels": data.test_labels}
                paths = {}
                for name, array in arrays.items():
                    path = os.path.join(self._folder, f"{len(self._files)}-{name}.npy")
                    np.save(path, np.ascontiguousarray(array))
                    paths[name] = path
                self._files[key] = (arrays, paths)   # keeping the arrays keeps their ids from being reused
            return dict(self._files[key][1])


SHARED = _SharedDataSets()


# ---- worker processes -----------------------------------------------------------------------

class _Workers:
    """Starts `python -m lab.worker` processes, keeping one spare started ahead of need."""

    def __init__(self):
        self._spare = None
        self._lock = threading.Lock()
        atexit.register(self.close)

    @staticmethod
    def _launch():
        ours, theirs = socket.socketpair()
        process = subprocess.Popen([sys.executable, "-m", "lab.worker", str(theirs.fileno())],
                                   pass_fds=[theirs.fileno()], cwd=REPO, stdin=subprocess.DEVNULL)
        theirs.close()
        return process, Connection(ours.detach())

    def take(self):
        """A started worker (the spare if there is a live one) and its connection; a new spare follows."""
        with self._lock:
            worker, self._spare = self._spare, None
        if worker is None or worker[0].poll() is not None:
            worker = self._launch()
        threading.Thread(target=self._refill, name="backprop-lab-spare-worker", daemon=True).start()
        return worker

    def _refill(self):
        spare = self._launch()
        with self._lock:
            if self._spare is None:
                self._spare, spare = spare, None
        if spare is not None:
            spare[1].close()                     # another thread was quicker: this one ends on EOF

    def close(self):
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare[1].close()


WORKERS = _Workers()


# ---- the server side ------------------------------------------------------------------------

@dataclass
class RunInfo:
    """What the page knows about a run besides its settings (kept by the page, not by the run)."""
    run_id: int
    data_name: str             # e.g. "MNIST"
    data_source: str           # where the data came from (the loader's sentence)
    preset: str = None         # the pitfall or preset that started it, if any
    owner: str = None          # the browser's id in the run store
    saved_as: object = None    # the run's number in the store once saved, or the sentence why it was not


class LiveRun:
    """One run trained in a worker process; the same commands and snapshot() as lab.trainer.Trainer.

    on_end(snapshot, net) is called once, from a server thread, when the run has ended for any reason
    (finished, stopped, diverged, abandoned, error, or the worker died): the place to store it.
    """

    def __init__(self, config, data, slots=SLOTS, record_every=RECORD_EVERY, abandon_after=ABANDON_AFTER,
                 speed=None, on_end=None):
        self.config = replace(config).check()
        self.data = data
        self.slots, self.abandon_after, self.on_end = slots, abandon_after, on_end
        self.batches_per_epoch = -(-data.n_train // self.config.batch_size)     # ⌈n / B⌉, as the Trainer's
        self.total_steps = self.batches_per_epoch * self.config.epochs
        self._lock = threading.Lock()
        self._models = threading.Condition(self._lock)
        self._wants_to_run = False                  # the learner's intent: running, or paused
        self._has_slot = False
        self._last_read = time.monotonic()
        self._head, self._final_params, self._reply = None, None, None
        self._series = {"losses": [], "smoothed": [], "accs": []}
        self._records = {"steps": [], "grad": [], "dead": [], "sat": [], "update": [], "norm": [], "bn": []}
        self._epochs_log, self._latest, self._evaluation = [], None, None
        self._ended = threading.Event()
        self._started = False
        self._stopping = False                      # stop() was asked; the worker is finishing its batch
        self._speed, self._record_every = speed, record_every
        self._process = self._conn = None           # the worker, started when the run first needs to compute
        self._send_lock = threading.RLock()         # (_setting sends while holding it)
        self._cores = None                          # the share of the cores last sent to the worker
        self._sent = self._received = 0             # commands sent to the worker, and obeyed by its last report
        self._watcher = threading.Thread(target=self._watch, name="backprop-lab-run-watcher", daemon=True)
        self._watcher.start()

    # ---- commands (the page's thread) -------------------------------------------------------

    def start(self, paused=False):
        self._last_read = time.monotonic()
        self._started = True
        if not paused:
            self.resume()

    def pause(self):
        with self._lock:            # flag and command under one lock: see _manage_slot
            self._wants_to_run = False
            self._send("pause")

    def resume(self):
        """Carry on (or start): the watcher sends "resume" to the worker as soon as a slot is ours."""
        self._last_read = time.monotonic()
        self._started = True
        with self._lock:
            self._wants_to_run = True
        self._manage_slot()         # a free slot is taken now, not at the watcher's next look: the redraw that
                                    # answers the click says "running", not "waiting" for one refresh

    def step_once(self):
        """Train exactly one batch, then stay paused. One batch is milliseconds: it needs no slot."""
        self._started = True
        with self._lock:
            self._wants_to_run = False
        self._start_worker()
        self._send("step")

    def stop(self, wait=False, message="Stopped.", state=RunState.STOPPED):
        """End the run after the current batch (wait: until it has ended and on_end has kept it)."""
        with self._lock:
            self._wants_to_run = False
            self._stopping = True
        with self._send_lock:
            never_started = self._conn is None
        if never_started:                           # it never computed: nothing to ask a worker for
            self._end_here(message, state)
        else:
            self._send("stop", message, state)
        if wait:
            self.join()

    def join(self, timeout=10.0):
        self._ended.wait(timeout)

    def set_lr(self, lr):
        self._setting("lr", float(lr))

    def set_schedule(self, schedule):
        self._setting("schedule", schedule)

    def set_l2(self, l2):
        self._setting("l2", float(l2))

    def set_speed(self, batches_per_second):
        self._setting("speed", batches_per_second)

    def _setting(self, name, value):
        """To the worker; before it has started, into the settings it will start with (checked the same way)."""
        with self._send_lock:
            if self._conn is not None:
                return self._send(name, value)
            if name == "speed":
                self._speed = value
            else:                                   # (a new record: snapshot() may be reading the old one)
                self.config = replace(self.config, **{name: value}).check()

    def settle(self, timeout=SETTLE_TIMEOUT):
        """Wait until the worker has reported on every command sent so far (at most `timeout` s); True if it has.

        A page that changed η calls this before it draws the status line, so the line quotes the run's own
        report of the new η in the same redraw instead of on the next refresh (a worker answers in a few ms;
        it obeys commands between batches and during an evaluation alike).
        """
        with self._models:
            sent = self._sent
            return self._models.wait_for(lambda: self._received >= sent or self._ended.is_set(), timeout)

    @property
    def paused(self):
        """The learner's intent: True after pause() or step_once(), until resume()."""
        return not self._wants_to_run

    @property
    def alive(self):
        return not self._ended.is_set()

    @property
    def done(self):
        return self._ended.is_set()

    # ---- reading ----------------------------------------------------------------------------

    def snapshot(self, last=None):
        """Everything the page shows, as of the worker's last report (at most SEND_EVERY old).

        last=n: only the last n steps of each series and the last record (what a status line reads: it
        costs the same at step 60,000 as at step 60, where copying the whole series took milliseconds).
        """
        self._last_read = time.monotonic()
        with self._lock:
            head = self._head
            if head is None:                        # the worker has not reported yet (or not started)
                head = Snapshot(state=RunState.IDLE, message="Starting the run…", config=replace(self.config),
                                epoch=0, batch=0, batches_per_epoch=self.batches_per_epoch, step=0,
                                total_steps=self.total_steps, lr_now=self.config.lr, elapsed=0.0,
                                samples_per_s=0.0, losses=None, smoothed=None, batch_accs=None,
                                epochs_log=None, record_steps=None, grad_scale=None, dead=None, saturated=None,
                                latest=None, evaluation=None, divergence=None, lr_marks=[(0, self.config.lr)],
                                speed=self._speed)
            state, message, position = self._shown_state(head)
            L = len(self.config.hidden) + 1
            n_bn = len(self.config.hidden) if self.config.batchnorm else 0
            series = self._series if last is None else {k: v[-last:] for k, v in self._series.items()}
            records = self._records if last is None else {k: v[-1:] for k, v in self._records.items()}
            return replace(
                head, state=state, message=message, queue_position=position,
                losses=np.array(series["losses"]), smoothed=np.array(series["smoothed"]),
                batch_accs=np.array(series["accs"]), epochs_log=[dict(e) for e in self._epochs_log],
                record_steps=np.array(records["steps"], dtype=np.int64),
                grad_scale=np.array(records["grad"], dtype=np.float64).reshape(-1, L),
                dead=np.array(records["dead"], dtype=np.float64).reshape(-1, L - 1),
                saturated=np.array(records["sat"], dtype=np.float64).reshape(-1, L - 1),
                update_ratio=np.array(records["update"], dtype=np.float64).reshape(-1, L),
                grad_norms=np.array(records["norm"], dtype=np.float64).reshape(-1, 2),
                bn_stats=np.array(records["bn"], dtype=np.float64).reshape(len(records["bn"]), n_bn, 4),
                latest=self._latest, evaluation=self._evaluation)

    def _shown_state(self, head):
        """The state the page shows: the worker's, or what the server side knows better (the queue)."""
        if head.state in DONE_STATES or self._ended.is_set():
            return head.state, head.message, 0
        if self._wants_to_run and (not self._has_slot or self._head is None):
            position = self.slots.position(self) if self.slots is not None else 0
            if self.slots is not None and (position or self.slots.in_use >= self.slots.size):
                return RunState.WAITING, waiting_message(self.slots.size, position), position
            return RunState.WAITING, "Starting…", 0
        if self._stopping:
            return head.state, "Stopping after this batch…", 0
        if self._wants_to_run and head.state == RunState.PAUSED:
            return RunState.RUNNING, "Training.", 0      # "resume" is on its way to the worker
        if not self._wants_to_run and head.state in (RunState.RUNNING, RunState.WAITING):
            return RunState.PAUSED, "Paused.", 0         # "pause" is on its way
        return head.state, head.message, 0

    def model(self):
        """The run's network with its last good weights (asks a running worker for a copy)."""
        with self._lock:
            params = self._final_params
        if params is None and self._conn is None:   # it never computed: the network as initialised
            return self._network()
        if params is None and self.alive:
            with self._models:
                self._reply = None
            self._send("model")
            with self._models:
                self._models.wait_for(lambda: self._reply is not None or self._ended.is_set(), MODEL_TIMEOUT)
                params = self._reply or self._final_params
        if params is None:
            raise RuntimeError("the run's weights could not be read (its process ended without sending them)")
        net = self._network()
        net.set_params(*params)
        return net

    def _network(self):
        """A network of this run's shape and settings, initialised as the worker's Trainer does."""
        return MLP(self.config.sizes(self.data.images.shape[1], len(self.data.class_names)),
                   **self.config.network_settings(), seed=self.config.seed)

    # ---- the watcher thread: reports in, slots, abandonment, the end ---------------------------

    def _send(self, *message):
        """A command for the worker (counted: settle() waits for the report that follows it). A command
        for a worker not started yet needs no sending: pause and stop are the page side's intent until then."""
        with self._send_lock:
            if self._conn is None:
                return
            try:
                self._conn.send(message)
                self._sent += 1                     # under the send lock only: pause() sends holding self._lock
            except (OSError, ValueError):           # the worker has ended: nothing left to command
                pass

    def _start_worker(self):
        """Take a worker and send it the run (once, when the run first computes: a slot came, or one step).

        Not in __init__: a class pressing Train together would start a Python + NumPy process per learner
        at once, queued runs included, on the same cores that answer the pages (benchmarks/bench_capacity.py).
        """
        with self._send_lock:                       # (never while holding self._lock: pause() takes both in
            if self._conn is not None or self._ended.is_set() or self._stopping:   # that order)
                return
            process, conn = WORKERS.take()
            try:
                conn.send({"config": replace(self.config), "paths": SHARED.paths(self.data),
                           "train_idx": np.asarray(self.data.train_idx), "val_idx": np.asarray(self.data.val_idx),
                           "class_names": list(self.data.class_names), "record_every": self._record_every,
                           "speed": self._speed})
            except (OSError, ValueError):
                pass                                # it died at once: the watcher finds the closed pipe
            self._process, self._conn = process, conn

    def _watch(self):
        try:
            while not self._ended.is_set():
                if self._conn is None:
                    time.sleep(WATCH_EVERY)
                elif self._conn.poll(WATCH_EVERY):
                    while not self._ended.is_set() and self._conn.poll():
                        self._receive(self._conn.recv())
                self._manage_slot()
                if self.abandon_after is not None and self._started and \
                        time.monotonic() - self._last_read > self.abandon_after:
                    seconds, self.abandon_after = self.abandon_after, None
                    self.stop(message=f"Stopped because nobody looked at this run for {seconds:.0f} s "
                                      "(the browser tab was closed or left the page).", state=RunState.ABANDONED)
        except (EOFError, OSError):
            self._worker_died()
        finally:
            self._release_slot()
            if self.slots is not None:
                self.slots.leave(self)

    def _receive(self, message):
        kind, *rest = message
        if kind == "report":
            self._merge(rest[0])
        elif kind == "model":
            with self._models:
                self._reply = tuple(rest[0:3])             # weights, biases, BatchNorm arrays
                self._models.notify_all()
        elif kind == "end":
            self._merge(rest[0])
            with self._models:
                self._final_params = tuple(rest[1:4])
                self._models.notify_all()
            self._finish()

    def _merge(self, changes):
        with self._models:                          # (the Condition on self._lock: settle() waits on it)
            self._received = changes["received"]
            self._models.notify_all()
            self._head = changes["head"]
            start, losses, smoothed, accs = changes["steps"]
            for name, new in (("losses", losses), ("smoothed", smoothed), ("accs", accs)):
                del self._series[name][start:]
                self._series[name].extend(new.tolist())
            start, steps, grad, dead, sat, update, norm, bn = changes["records"]
            for name, new in (("steps", steps), ("grad", grad), ("dead", dead), ("sat", sat), ("update", update),
                              ("norm", norm), ("bn", bn)):
                del self._records[name][start:]
                self._records[name].extend(new.tolist())
            start, logs = changes["epochs"]
            del self._epochs_log[start:]
            self._epochs_log.extend(logs)
            if "latest" in changes:
                self._latest = changes["latest"]
            if "evaluation" in changes:
                self._evaluation = changes["evaluation"]

    def _manage_slot(self):
        """Hold a slot while the learner wants the run to train, and tell the worker when it may."""
        # "resume" is sent under the lock that pause() holds while it clears the flag and sends "pause": read
        # outside it, a Resume and a quick Pause reached the worker as pause, resume, and the run trained on
        # while the page said paused (seen in Chromium, benchmarks/bench_live.py).
        # The worker is started outside that lock (starting one can take a moment; snapshot() needs the lock).
        if self.slots is None:
            if self._wants_to_run and self._conn is None:
                self._start_worker()
            with self._lock:
                if self._wants_to_run and (not self._has_slot or self._head is None):
                    self._has_slot = True
                    self._send("resume")
                elif not self._wants_to_run:
                    self._has_slot = False
            return
        with self._lock:
            wants = self._wants_to_run
            got = wants and not self._has_slot and self.slots.acquire(timeout=0, ticket=self)
            if got:
                self._has_slot = True
        if got:
            self._start_worker()
            with self._lock:
                if self._wants_to_run:              # (a pause in between: the slot is let go below, next look)
                    self._send("resume")
        if not wants:
            self.slots.leave(self)
            self._release_slot()
        elif self._has_slot:                       # this run's share of the cores: all of them alone, fewer
            cores = self.slots.cores_each()        # when other runs compute too (looked at every WATCH_EVERY)
            if cores != self._cores:
                self._cores = cores
                self._send("cores", cores)

    def _release_slot(self):
        if self._has_slot:
            self._has_slot = False
            if self.slots is not None:
                self.slots.release()

    def _worker_died(self):
        """The pipe closed without an "end": the worker process died (killed, out of memory, ...)."""
        if self._ended.is_set():
            return
        try:
            self._process.wait(1.0)
        except subprocess.TimeoutExpired:
            pass
        head = self.snapshot()
        with self._lock:
            self._head = replace(head, state=RunState.ERROR,
                                 message=f"The training process ended unexpectedly (exit code "
                                         f"{self._process.returncode}); the curves so far are kept.")
        self._finish()

    def _end_here(self, message, state):
        """End a run that never started a worker: its state is the page side's to say."""
        head = self.snapshot()
        with self._lock:
            self._head = replace(head, state=RunState(state), message=message)
        self._finish()

    def _finish(self):
        """The run is over: free the slot, let on_end keep it, then say done (so a page that sees done
        finds the run already stored)."""
        self._release_slot()
        if self.on_end is not None:
            try:
                net = self.model() if self._final_params is not None else None
                self.on_end(self.snapshot(), net)
            except Exception as e:                  # noqa: BLE001 — a store that fails must not kill the run
                with self._lock:
                    self._head = replace(self._head, message=f"{self._head.message} (could not be saved: {e})")
        self._ended.set()
        with self._send_lock:
            conn, process = self._conn, self._process
        if conn is None:
            return
        conn.close()
        try:
            process.wait(2.0)
        except subprocess.TimeoutExpired:
            process.kill()


def run_record(snap, info, settings, max_points=400):
    """What the run store keeps of an ended run (lab.runstore.RunStore.save_run's `run`).

    settings: the run's full settings as the page shows them (TrainConfig.as_dict() plus the data
    choices); the loss curve is the smoothed one, thinned to at most `max_points` points.
    """
    keep = np.unique(np.linspace(0, max(len(snap.smoothed) - 1, 0), max_points).round().astype(int)) \
        if len(snap.smoothed) else np.zeros(0, dtype=int)
    ev = snap.evaluation
    return {"data": info.data_name, "settings": settings, "state": str(snap.state), "message": snap.message,
            "elapsed": snap.elapsed, "batches_per_epoch": snap.batches_per_epoch,
            "loss_steps": (keep + 1).tolist(), "loss": snap.smoothed[keep].tolist() if len(keep) else [],
            "epochs_log": snap.epochs_log, "lr_marks": [list(m) for m in snap.lr_marks],
            "test_acc": ev["accuracy"] if ev else None,
            "confusion": ev["confusion"].tolist() if ev else None}
