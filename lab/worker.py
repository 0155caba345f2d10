"""The worker process of a live run (lab/live.py starts it): `python -m lab.worker FD`.

It reads its run from the connection FD (settings, where the shared data set lies, this run's rows),
trains it with a lab.trainer.Trainer, obeys the commands that arrive, reports what changed every
SEND_EVERY seconds, and sends the last good weights when the run ends. When the server goes away
the connection closes and the worker stops: no run outlives its server.
"""
import os
import sys
import time
from dataclasses import replace
from multiprocessing.connection import Connection

import numpy as np

from lab.trainer import TrainData, Trainer

SEND_EVERY = 0.1             # seconds between the worker's reports while something changes: the page
                             # asks several times a second, so it always shows a report at most 0.1 s old
QUIET_SEND_EVERY = 1.0       # seconds between reports while nothing changes (paused, queued)
NICENESS = 10                # a worker runs at a lower CPU priority than the server and the browser: on a
                             # learner's own computer all three share the cores, and a run at full speed took
                             # the CPU the browser needed to draw the page, so a key press on the η slider
                             # showed 1.5–3× later than on an idle page (benchmarks/bench_live.py). Niced, the
                             # run trains on whatever the page leaves idle, which is nearly all of it.


def _open_data(paths, train_idx, val_idx, class_names):
    """The worker's TrainData: the shared arrays mapped read-only, this run's own row indices."""
    m = {name: np.load(path, mmap_mode="r") for name, path in paths.items()}
    return TrainData(m["images"], m["labels"], train_idx, val_idx, m["test_images"], m["test_labels"],
                     list(class_names))


class _Changes:
    """Turns successive snapshots into messages that carry only what is new (the series grow)."""

    def __init__(self):
        self.steps = self.records = self.epochs = 0
        self.latest_step = None
        self.evaluation = None

    def encode(self, snap, received):
        n, r, e = snap.step, len(snap.record_steps), len(snap.epochs_log)
        message = {
            "received": received,
            "head": replace(snap, losses=None, smoothed=None, batch_accs=None, epochs_log=None,
                            record_steps=None, grad_scale=None, dead=None, saturated=None,
                            update_ratio=None, latest=None, evaluation=None, grad_norms=None, bn_stats=None),
            "steps": (self.steps, snap.losses[self.steps:n], snap.smoothed[self.steps:n],
                      snap.batch_accs[self.steps:n]),
            "records": (self.records, snap.record_steps[self.records:r], snap.grad_scale[self.records:r],
                        snap.dead[self.records:r], snap.saturated[self.records:r],
                        snap.update_ratio[self.records:r], snap.grad_norms[self.records:r],
                        snap.bn_stats[self.records:r]),
            "epochs": (self.epochs, snap.epochs_log[self.epochs:e]),
        }
        latest_step = snap.latest["step"] if snap.latest else None
        if latest_step != self.latest_step:
            message["latest"], self.latest_step = snap.latest, latest_step
        if snap.evaluation is not self.evaluation:
            message["evaluation"], self.evaluation = snap.evaluation, snap.evaluation
        self.steps, self.records, self.epochs = n, r, e
        return message

    @staticmethod
    def key(snap):
        """What, when it changes, is worth a report now rather than in QUIET_SEND_EVERY."""
        c = snap.config
        return (snap.state, snap.message, snap.step, snap.lr_now, c.lr, c.schedule, c.l2, snap.speed,
                len(snap.epochs_log), snap.evaluation is None, snap.cores)


def _worker(conn, config, paths, train_idx, val_idx, class_names, record_every, speed):
    """The worker process: build the run, obey the pipe, report what changes, send the weights at the end."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(1, user_api="blas")      # one core until the server says how many are this run's
    trainer = Trainer(config, _open_data(paths, train_idx, val_idx, class_names), slots=None,
                      record_every=record_every, abandon_after=None)
    trainer.set_speed(speed)
    trainer.start(paused=True)
    changes, last_key, last_sent = _Changes(), None, 0.0
    received = 0                               # commands obeyed so far: every report says how many (see
                                               # LiveRun.settle: the page waits for its command's report)
    commands = {"lr": trainer.set_lr, "schedule": trainer.set_schedule, "l2": trainer.set_l2,
                "speed": trainer.set_speed, "pause": trainer.pause, "resume": trainer.resume,
                "step": trainer.step_once, "cores": trainer.set_cores}
    try:
        while True:
            if conn.poll(SEND_EVERY):
                while conn.poll():
                    name, *args = conn.recv()
                    received += 1
                    if name == "stop":
                        trainer.stop(message=args[0], state=args[1])
                    elif name == "model":
                        conn.send(("model", *trainer.good_params()))
                    else:
                        try:
                            commands[name](*args)
                        except ValueError as e:              # the page checks first; say so if it did not
                            conn.send(("refused", f"{name}: {e}"))
            snap = trainer.snapshot()
            now = time.monotonic()
            if snap.done and not trainer.alive:
                conn.send(("end", changes.encode(snap, received), *trainer.good_params()))
                return
            key = (changes.key(snap), received)
            if key != last_key or now - last_sent >= QUIET_SEND_EVERY:
                conn.send(("report", changes.encode(snap, received)))
                last_key, last_sent = key, now
    except (EOFError, BrokenPipeError, ConnectionResetError):  # the server went away: nobody to train for
        trainer.stop(wait=True)



def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    os.nice(NICENESS)                         # see NICENESS: the page answers first, training takes the rest
    conn = Connection(int(argv[0]))
    try:
        run = conn.recv()                     # the run's arguments, sent when a page takes this worker
    except (EOFError, OSError):
        return 0                              # a spare worker the server never used
    _worker(conn, **run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
