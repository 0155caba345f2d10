"""Live runs (lab/live.py): a run trains in a worker process of its own and obeys the page's commands."""
import os
import signal
import time

import numpy as np
import pytest

from runs import sample_slice, small, wait_for

from lab.live import SHARED, LiveRun
from lab.trainer import SlotPool, Trainer


@pytest.fixture(scope="module")
def data():
    return sample_slice()


def test_a_live_run_trains_in_another_process_exactly_as_the_trainer_does_in_this_one(data):
    ended = []
    run = LiveRun(small(), data, slots=None, on_end=lambda snap, net: ended.append((snap, net)))
    assert run._process is None                               # no process until the run computes
    run.start()
    assert wait_for(lambda: run._process is not None) and run._process.pid != os.getpid()
    assert wait_for(lambda: run.done)
    snap = run.snapshot()
    here = Trainer(small(), data, slots=None).run()            # same seed: same batches, same weights
    assert snap.state == "finished" and snap.step == here.step == 44
    np.testing.assert_allclose(snap.losses, here.losses, rtol=1e-6)
    np.testing.assert_allclose(snap.smoothed, here.smoothed, rtol=1e-6)
    assert [e["test_acc"] for e in snap.epochs_log] == [e["test_acc"] for e in here.epochs_log]
    assert snap.evaluation["accuracy"] == here.evaluation["accuracy"]
    assert snap.grad_scale.shape[1] == 2 and len(snap.record_steps) == len(snap.grad_scale)
    assert snap.grad_norms.shape == (len(snap.record_steps), 2) and snap.bn_stats.shape == (len(snap.record_steps), 0, 4)
    (end_snap, net), = ended                                  # on_end ran once, before done was said
    assert end_snap.state == "finished"
    assert net.accuracy(data.test_images / 255.0, data.test_labels) == pytest.approx(here.evaluation["accuracy"])


def test_a_worker_runs_at_a_lower_cpu_priority_than_the_server_so_the_page_answers_first(data):
    run = LiveRun(small(epochs=200), data, slots=None, speed=50)
    try:
        run.start()
        assert wait_for(lambda: run.snapshot().step > 0)
        worker = os.getpriority(os.PRIO_PROCESS, run._process.pid)
        assert worker >= os.getpriority(os.PRIO_PROCESS, 0) + 5        # a higher nice value: a lower priority
    finally:
        run.stop(wait=True)


def test_an_eta_change_reaches_the_worker_and_is_marked_where_it_took_effect(data):
    run = LiveRun(small(epochs=200, optimizer="sgd"), data, slots=None, speed=50)
    run.start()
    assert wait_for(lambda: run.snapshot().step >= 5)
    run.set_lr(0.02)
    assert wait_for(lambda: run.snapshot().config.lr == 0.02, timeout=2.0)   # within a report or two
    marks = run.snapshot().lr_marks
    assert marks[0] == (0, 0.1) and marks[-1][1] == 0.02 and marks[-1][0] >= 5
    assert wait_for(lambda: run.snapshot().lr_now == 0.02)
    run.stop(wait=True)
    assert run.snapshot().state == "stopped"


def test_settle_returns_once_the_worker_has_reported_the_new_eta_so_a_page_can_draw_it_at_once(data):
    run = LiveRun(small(epochs=200, optimizer="sgd"), data, slots=None, speed=1)   # a batch a second
    try:
        run.start()
        assert wait_for(lambda: run.snapshot().step >= 1)
        for lr in (0.02, 0.05, 0.01):
            run.set_lr(lr)
            assert run.settle()
            snap = run.snapshot()                             # no waiting: the report is already merged
            assert (snap.config.lr, snap.lr_now) == (lr, lr)
        t0 = time.monotonic()
        assert run.settle() and time.monotonic() - t0 < 0.05  # nothing outstanding: no wait
    finally:
        run.stop(wait=True)
    assert run.settle(timeout=0.01)                           # an ended run has nothing left to report


def test_a_run_alone_computes_on_all_cores_but_the_servers_and_two_runs_share_them(data):
    pool = SlotPool(3)                                        # a 3-core server: one core stays the pages'
    assert pool.cores_each() == 2 and SlotPool(2).cores_each() == 1 and SlotPool(8).cores_each() == 7
    first = LiveRun(small(epochs=500), data, slots=pool, speed=20)
    second = LiveRun(small(epochs=500), data, slots=pool, speed=20)
    try:
        first.start()
        assert wait_for(lambda: first.snapshot().step > 2)
        assert first.snapshot().cores == 1                                    # slowed: it waits, one is enough
        first.set_speed(None)
        assert wait_for(lambda: first.snapshot().cores == 2, timeout=10)      # alone at full speed: all but one
        second.set_speed(None)
        second.start()
        assert wait_for(lambda: first.snapshot().cores == 1 and second.snapshot().cores == 1, timeout=10)
        second.pause()                                                        # its slot is free again
        assert wait_for(lambda: first.snapshot().cores == 2, timeout=10)
    finally:
        first.stop(wait=True)
        second.stop(wait=True)
    with pytest.raises(ValueError, match="cores"):
        Trainer(small(), data, slots=None).set_cores(0)


def test_a_queued_run_has_no_process_until_its_slot_comes_and_a_stop_while_queued_ends_it_at_once(data):
    pool = SlotPool(1)
    first = LiveRun(small(epochs=500), data, slots=pool, speed=20)
    queued = LiveRun(small(epochs=500), data, slots=pool, speed=20)
    ended = []
    never = LiveRun(small(epochs=500), data, slots=pool, speed=20, on_end=lambda snap, net: ended.append(snap))
    try:
        first.start()
        assert wait_for(lambda: first.snapshot().state == "running")
        queued.start()
        never.start()
        assert wait_for(lambda: queued.snapshot().queue_position == 1 and never.snapshot().queue_position == 2)
        queued.set_lr(0.02)                                   # a setting while queued: the run starts with it
        time.sleep(0.3)
        assert queued._process is None and never._process is None
        t0 = time.monotonic()
        never.stop(wait=True)
        assert time.monotonic() - t0 < 1.0 and never.done and never._process is None
        assert [s.state for s in ended] == ["stopped"] and never.snapshot().step == 0
        first.stop(wait=True)                                 # the slot comes free: the queued run starts
        assert wait_for(lambda: queued.snapshot().state == "running" and queued.snapshot().step > 0, timeout=15)
        assert queued._process is not None and queued.snapshot().config.lr == 0.02
    finally:
        for run in (first, queued, never):
            run.stop(wait=True)


def test_pause_step_resume_and_stop_answer_at_once(data):
    run = LiveRun(small(epochs=200), data, slots=None, speed=20)
    run.start()
    assert wait_for(lambda: run.snapshot().state == "running" and run.snapshot().step > 0)
    run.pause()
    assert run.snapshot().state == "paused"                   # shown at once, before the worker confirms
    time.sleep(0.5)
    paused_at = run.snapshot().step
    time.sleep(0.5)
    assert run.snapshot().step == paused_at and run.snapshot().state == "paused"
    run.set_lr(0.05)                                          # while paused: the next step uses it
    assert wait_for(lambda: run.snapshot().lr_now == 0.05, timeout=2.0)
    run.step_once()
    assert wait_for(lambda: run.snapshot().step == paused_at + 1, timeout=2.0)
    last = run.snapshot().last_batch
    assert last["step"] == paused_at + 1 and last["lr"] == 0.05 and len(last["rows"]) == 64
    run.resume()
    assert wait_for(lambda: run.snapshot().step > paused_at + 3)
    run.stop(wait=True)
    assert run.done and run.snapshot().state == "stopped"


def test_resume_says_running_at_once_when_a_slot_is_free(data):
    """The redraw that answers a click on Resume must not say "waiting" (the slot used to be taken only at the
    watcher's next look, so the status said running one refresh later)."""
    run = LiveRun(small(epochs=500), data, slots=SlotPool(1), speed=20)
    try:
        run.start()
        assert wait_for(lambda: run.snapshot().step > 0)
        for _ in range(5):
            run.pause()
            assert run.snapshot().state == "paused"
            time.sleep(0.2)                                   # the watcher has let the slot go
            run.resume()
            assert run.snapshot().state == "running"
    finally:
        run.stop(wait=True)


@pytest.mark.parametrize("pool", [None, "slots"])
def test_a_resume_followed_at_once_by_a_pause_leaves_the_run_paused(data, pool):
    """The page's Resume then a quick Pause: the worker must end paused, not get pause before resume."""
    run = LiveRun(small(epochs=200), data, slots=SlotPool(2) if pool else None, speed=50)
    try:
        run.start(paused=True)
        for _ in range(30):                                   # the race needs the watcher in between: try often
            run.resume()
            time.sleep(0.002 * (_ % 7))
            run.pause()
        time.sleep(1.0)                                       # every command has reached the worker
        first = run.snapshot()
        time.sleep(0.6)                                       # at 50 batches/s a running run makes ~30 steps
        second = run.snapshot()
        assert second.state == "paused" and second.step == first.step
    finally:
        run.stop(wait=True)


def test_runs_beyond_the_slots_queue_in_order_and_start_when_a_slot_frees(data):
    slots = SlotPool(1)
    first = LiveRun(small(epochs=500), data, slots=slots, speed=50)
    first.start()
    assert wait_for(lambda: first.snapshot().state == "running")
    second = LiveRun(small(epochs=500), data, slots=slots)
    second.start()
    assert wait_for(lambda: second.snapshot().queue_position == 1)
    snap = second.snapshot()
    assert snap.state == "waiting" and "number 1 in the queue" in snap.message and snap.step == 0
    first.pause()                                             # a paused run gives its slot away
    assert wait_for(lambda: second.snapshot().state == "running" and second.snapshot().step > 0)
    first.resume()
    assert wait_for(lambda: first.snapshot().state == "waiting")
    second.stop(wait=True)
    assert wait_for(lambda: first.snapshot().state == "running")
    first.stop(wait=True)
    assert slots.in_use == 0 and slots.waiting == 0


def test_a_run_nobody_watches_is_abandoned_and_still_kept(data):
    ended = []
    run = LiveRun(small(epochs=1000), data, slots=None, abandon_after=0.5,
                  on_end=lambda snap, net: ended.append(snap.state))
    run.start()
    assert wait_for(lambda: run.done, timeout=20)
    assert ended == ["abandoned"] and "nobody looked" in run.snapshot().message


def test_a_worker_that_dies_ends_the_run_with_a_message_and_frees_its_slot(data):
    slots = SlotPool(1)
    ended = []
    run = LiveRun(small(epochs=1000), data, slots=slots, on_end=lambda snap, net: ended.append((snap.state, net)))
    run.start()
    assert wait_for(lambda: run.snapshot().step > 0)
    os.kill(run._process.pid, signal.SIGKILL)
    assert wait_for(lambda: run.done)
    snap = run.snapshot()
    assert snap.state == "error" and "ended unexpectedly" in snap.message and len(snap.losses) > 0
    assert ended == [("error", None)] and slots.in_use == 0


def test_every_run_maps_the_same_copy_of_the_data_set(data):
    first, again = SHARED.paths(data), SHARED.paths(data)
    assert first == again
    mapped = np.load(first["images"], mmap_mode="r")
    assert isinstance(mapped, np.memmap) and np.array_equal(mapped, data.images)


def test_the_model_of_a_running_run_can_be_read_while_it_trains(data):
    run = LiveRun(small(epochs=500), data, slots=None, speed=50)
    run.start()
    assert wait_for(lambda: run.snapshot().step > 10)
    net = run.model()
    assert net.sizes == [784, 32, 10] and net.accuracy(data.test_images / 255.0, data.test_labels) > 0.2
    run.stop(wait=True)


def test_batchnorm_and_clipping_records_cross_the_process_boundary_intact(data):
    config = small(hidden=(32, 32), batchnorm=True, clip=0.05, epochs=1)
    run = LiveRun(config, data, slots=None, record_every=0.0)
    run.start()
    assert wait_for(lambda: run.done)
    snap = run.snapshot()
    here = Trainer(config, data, slots=None, record_every=0.0).run()     # same seed, same steps, same records
    assert snap.bn_stats.shape == here.bn_stats.shape == (len(here.record_steps), 2, 4)
    np.testing.assert_allclose(snap.bn_stats, here.bn_stats, rtol=1e-5)
    np.testing.assert_allclose(snap.grad_norms, here.grad_norms, rtol=1e-5)


def test_a_snapshot_of_the_last_steps_is_the_end_of_the_whole_one(data):
    """What the live panel's status line reads several times a second: the tail, the last record, the rest whole."""
    run = LiveRun(small(batchnorm=True), data, slots=None)
    run.start()
    assert wait_for(lambda: run.done)
    whole, tail = run.snapshot(), run.snapshot(last=5)
    for name in ("losses", "smoothed", "batch_accs"):
        np.testing.assert_array_equal(getattr(tail, name), getattr(whole, name)[-5:])
    for name in ("record_steps", "grad_scale", "dead", "saturated", "update_ratio", "grad_norms", "bn_stats"):
        np.testing.assert_array_equal(getattr(tail, name), getattr(whole, name)[-1:])
    assert tail.bn_stats.shape == (1, 1, 4) and len(whole.record_steps) > 1
    assert (tail.step, tail.loss_now, tail.epochs_log, tail.evaluation) == \
        (whole.step, whole.loss_now, whole.epochs_log, whole.evaluation)
