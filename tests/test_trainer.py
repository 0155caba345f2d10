"""The background MNIST trainer (lab/trainer.py): commands, live settings, divergence, abandonment, slots."""
import math
import threading
import time

import numpy as np
import pytest

from runs import sample_slice, small, wait_for

from lab.data import load_sample
from lab.trainer import (
    SlotPool,
    Trainer,
    evaluate,
    make_train_data,
    smooth,
    to_inputs,
)


@pytest.fixture(scope="module")
def data():
    return sample_slice()


def test_a_run_finishes_with_consistent_histories(data):
    trainer = Trainer(small(), data, slots=None, record_every=0.0)
    snap = trainer.run()
    assert snap.state == "finished" and snap.done
    per_epoch = math.ceil(1350 / 64)
    assert snap.batches_per_epoch == per_epoch == 22 and snap.step == snap.total_steps == 2 * per_epoch
    assert len(snap.losses) == len(snap.batch_accs) == snap.step and np.isfinite(snap.losses).all()
    assert [e["epoch"] for e in snap.epochs_log] == [1, 2]
    assert [e["step"] for e in snap.epochs_log] == [per_epoch, 2 * per_epoch]
    # the epoch's loss is the example-weighted mean of its batch losses (the last batch has 1350 − 21·64 = 6)
    weights = np.array([64] * 21 + [6])
    assert snap.epochs_log[0]["loss"] == pytest.approx(np.sum(snap.losses[:22] * weights) / 1350)
    assert snap.epochs_log[1]["loss"] < snap.epochs_log[0]["loss"]
    # live statistics: one record per step here (record_every=0), one column per layer
    assert np.all(np.diff(snap.record_steps) >= 0) and snap.record_steps[-1] == snap.step
    assert snap.grad_scale.shape == (len(snap.record_steps), 2) and (snap.grad_scale > 0).all()
    assert snap.dead.shape == snap.saturated.shape == (len(snap.record_steps), 1)
    assert snap.latest["first_layer"].shape == (16, 28, 28)
    assert [len(g) for g in snap.latest["neuron_grad"]] == [32, 10]
    # evaluation on the 1,000 test images agrees with the network's own accuracy
    ev = snap.evaluation
    net = trainer.model()
    X_test = to_inputs(data.test_images)
    assert ev["accuracy"] == pytest.approx(net.accuracy(X_test, data.test_labels))
    assert ev["accuracy"] == snap.epochs_log[-1]["test_acc"] > 0.75
    assert ev["confusion"].sum() == 1000 and np.trace(ev["confusion"]) == round(1000 * ev["accuracy"])
    assert ev["per_class"] == pytest.approx(np.diag(ev["confusion"]) / ev["confusion"].sum(axis=1))
    mistakes = ev["mistakes"]
    assert (mistakes["true"] != mistakes["pred"]).all() and np.all(np.diff(mistakes["confidence"]) <= 0)
    assert (data.test_labels[mistakes["index"]] == mistakes["true"]).all()
    assert snap.epochs_log[-1]["val_acc"] == pytest.approx(net.accuracy(to_inputs(data.images[data.val_idx]),
                                                                        data.labels[data.val_idx]))


def test_pause_resume_and_stop(data):
    trainer = Trainer(small(epochs=500), data, slots=None)
    trainer.start()
    assert wait_for(lambda: trainer.snapshot().step > 3)
    trainer.pause()
    assert wait_for(lambda: trainer.snapshot().state == "paused")
    paused_at = trainer.snapshot().step
    time.sleep(0.3)
    assert trainer.snapshot().step == paused_at                # nothing trains while paused
    trainer.resume()
    assert wait_for(lambda: trainer.snapshot().step > paused_at + 3)
    trainer.stop(wait=True)
    assert not trainer.alive
    snap = trainer.snapshot()
    assert snap.state == "stopped" and 0 < snap.step < snap.total_steps
    assert snap.evaluation is not None                         # a stopped run is still evaluated
    time.sleep(0.1)
    assert trainer.snapshot().step == snap.step


def test_step_once_trains_exactly_one_batch(data):
    trainer = Trainer(small(), data, slots=None)
    trainer.step_once()
    assert wait_for(lambda: trainer.snapshot().step == 1)
    time.sleep(0.2)
    snap = trainer.snapshot()
    assert snap.step == 1 and snap.state == "paused" and len(snap.record_steps) == 1
    trainer.step_once()
    assert wait_for(lambda: trainer.snapshot().step == 2)
    trainer.stop(wait=True)
    assert not trainer.alive


def step_and_wait(trainer):
    before = trainer.snapshot().step
    trainer.step_once()
    assert wait_for(lambda: trainer.snapshot().step == before + 1)


def test_learning_rate_change_takes_effect_on_the_next_batch(data):
    trainer = Trainer(small(optimizer="sgd", lr=0.1), data, slots=None)
    step_and_wait(trainer)
    assert trainer.snapshot().lr_now == 0.1
    trainer.set_lr(1e-9)
    W = trainer.net.weights[0].copy()
    step_and_wait(trainer)
    assert trainer.snapshot().lr_now == 1e-9
    assert np.max(np.abs(trainer.net.weights[0] - W)) < 1e-8          # a step of 1e-9 · gradient: ~nothing
    trainer.set_lr(0.5)
    W = trainer.net.weights[0].copy()
    step_and_wait(trainer)
    assert np.max(np.abs(trainer.net.weights[0] - W)) > 1e-4          # SGD: ΔW = −0.5 dW
    assert trainer.net.weights[0] == pytest.approx(W - 0.5 * trainer._last.grads.dW[0], abs=1e-6)
    trainer.stop(wait=True)


def test_a_new_learning_rate_shows_at_once_while_the_run_waits_for_its_next_batch(data):
    """The status line quotes snapshot().lr_now: it must not wait for the next batch (at 1 batch/s a
    second later, after an epoch's evaluation on 60,000 images longer still)."""
    trainer = Trainer(small(optimizer="sgd", lr=0.1, epochs=50), data, slots=None)
    trainer.set_speed(0.2)                                            # one batch every 5 s
    trainer.start()
    assert wait_for(lambda: trainer.snapshot().step == 1)
    trainer.set_lr(0.02)
    snap = trainer.snapshot()
    assert (snap.step, snap.state, snap.lr_now) == (1, "running", 0.02)
    trainer.set_schedule("cosine")                                    # η_t = 0.02 · ½(1 + cos(π t / T))
    assert trainer.snapshot().lr_now == pytest.approx(0.01 * (1 + math.cos(math.pi / trainer.total_steps)))
    trainer.stop(wait=True)


def test_schedule_and_l2_can_change_mid_run(data):
    trainer = Trainer(small(optimizer="sgd", lr=0.1, epochs=4), data, slots=None)
    step_and_wait(trainer)
    trainer.set_schedule("step")                                      # halve every epoch (22 steps)
    trainer.set_l2(0.01)
    step_and_wait(trainer)
    assert trainer.snapshot().lr_now == 0.1 and trainer.config.l2 == 0.01   # still epoch 1: η = 0.1
    for _ in range(22):
        step_and_wait(trainer)
    assert trainer.snapshot().lr_now == pytest.approx(0.05)
    with pytest.raises(ValueError, match="lr"):
        trainer.set_lr(float("nan"))
    with pytest.raises(ValueError, match="schedule"):
        trainer.set_schedule("sometimes")
    trainer.stop(wait=True)


def test_a_too_large_learning_rate_diverges_and_restores_good_weights(data):
    trainer = Trainer(small(optimizer="sgd", lr=10.0, hidden=(256,), epochs=5), data, slots=None)
    initial = [W.copy() for W in trainer.net.weights]
    snap = trainer.run()
    assert snap.state == "diverged" and snap.step < 22
    assert "diverged" in snap.message and "loss exploded" in snap.divergence
    assert "η = 10" in snap.divergence and "try η = 1" in snap.divergence
    net = trainer.model()
    assert all(np.isfinite(W).all() for W in net.weights)
    assert all(np.array_equal(W, W0) for W, W0 in zip(net.weights, initial))   # nothing good came after the start
    assert all(np.array_equal(W, W0) for W, W0 in zip(trainer.net.weights, initial))


def test_a_divergence_message_agrees_with_what_the_page_shows(data):
    """The step named, the steps in the history and the smoothed loss quoted are the page's own numbers."""
    snap = Trainer(small(optimizer="sgd", lr=10.0, hidden=(256,), epochs=5), data, slots=None).run()
    assert snap.state == "diverged"
    assert f"diverged at step {snap.step} " in snap.divergence
    by_hand = snap.losses[0]
    for loss in snap.losses[1:]:             # the moving average written out: s ← 0.9 s + 0.1 L
        by_hand = 0.9 * by_hand + 0.1 * loss
    assert snap.loss_now == pytest.approx(by_hand)                  # what the page's metric shows
    assert f"smoothed loss {by_hand:.4g}," in snap.divergence


def test_a_nan_loss_stops_training_with_an_explanation(data):
    trainer = Trainer(small(activation="sigmoid", lr=10.0, normalize=False), data, slots=None, record_every=0.0)
    real_learn = trainer.net.learn
    calls = []

    def flaky_learn(X, y, opt, **kwargs):  # a network whose numbers overflow at the 6th batch
        calls.append(1)
        step = real_learn(X, y, opt, **kwargs)
        return step._replace(loss=float("nan")) if len(calls) == 6 else step

    trainer.net.learn = flaky_learn
    snap = trainer.run()
    assert snap.state == "diverged" and snap.step == 6 and np.isnan(snap.losses[-1])
    assert "diverged at step 6 " in snap.divergence and "the loss of batch 6 was nan" in snap.divergence
    assert "raw 0–255" in snap.divergence                      # the suggestion fits the settings
    assert all(np.isfinite(W).all() for W in trainer.model().weights)


def test_a_divergence_at_a_usual_learning_rate_never_suggests_the_same_rate(data):
    trainer = Trainer(small(optimizer="momentum", lr=0.1), data, slots=None)
    real_learn = trainer.net.learn
    calls = []

    def one_bad_batch(X, y, opt, **kwargs):
        calls.append(1)
        step = real_learn(X, y, opt, **kwargs)
        return step._replace(loss=float("inf")) if len(calls) == 20 else step

    trainer.net.learn = one_bad_batch
    snap = trainer.run()
    assert snap.state == "diverged"
    assert "try η = 0.01" in snap.divergence
    assert "η = 0.1," not in snap.divergence.split("Likely cause:")[1].replace("η = 0.1 is", "")


def test_the_thread_ends_when_stopped_even_while_paused(data):
    trainer = Trainer(small(), data, slots=None)
    trainer.start(paused=True)
    assert wait_for(lambda: trainer.snapshot().state == "paused")
    trainer.stop(wait=True)
    assert not trainer.alive and trainer.snapshot().state == "stopped" and trainer.snapshot().step == 0


@pytest.mark.parametrize("paused", [False, True])
def test_an_abandoned_trainer_stops_by_itself(data, paused):
    trainer = Trainer(small(epochs=1000), data, slots=None, abandon_after=0.3)
    trainer.start(paused=paused)
    trainer.join(timeout=10)                 # nobody reads a snapshot: it must give up on its own
    assert not trainer.alive
    snap = trainer.snapshot()
    assert snap.state == "abandoned" and "nobody looked" in snap.message and snap.step < snap.total_steps


def test_two_trainers_in_parallel_stay_independent(data):
    a = Trainer(small(seed=0, lr=0.05), data, slots=None)
    b = Trainer(small(seed=1, optimizer="adam", lr=1e-3, activation="tanh"), data, slots=None)
    a.start()
    b.start()
    a.join(30)
    b.join(30)
    alone = Trainer(small(seed=0, lr=0.05), data, slots=None).run()
    sa, sb = a.snapshot(), b.snapshot()
    assert sa.state == sb.state == "finished"
    assert np.allclose(sa.losses, alone.losses, rtol=1e-5)            # as if the other one did not exist
    assert not np.allclose(sa.losses, sb.losses)
    assert sb.config.activation == "tanh" and sa.config.activation == "relu"


def test_a_full_server_queues_new_runs_until_a_slot_frees(data):
    slots = SlotPool(1)
    first = Trainer(small(epochs=1000), data, slots=slots)
    second = Trainer(small(epochs=1000), data, slots=slots)
    first.start()
    assert wait_for(lambda: first.snapshot().step > 0)
    second.start()
    assert wait_for(lambda: second.snapshot().state == "waiting")
    time.sleep(0.3)
    snap = second.snapshot()
    assert snap.step == 0 and "number 1 in the queue" in snap.message and slots.in_use == 1
    first.pause()                                                       # a paused run gives its slot away
    assert wait_for(lambda: second.snapshot().step > 0)
    first.resume()
    assert wait_for(lambda: first.snapshot().state == "waiting")
    second.stop(wait=True)
    assert wait_for(lambda: first.snapshot().state == "running")
    first.stop(wait=True)
    assert slots.in_use == 0


def test_pitfall_toggles(data):
    trainer = Trainer(small(shuffle=False), data, slots=None)
    order = trainer._epoch_order()
    labels = data.labels[order]
    assert np.all(np.diff(labels) >= 0) and set(order) == set(data.train_idx)      # sorted by class
    assert to_inputs(data.images[:5], normalize=False).max() == 255.0
    assert to_inputs(data.images[:5]).max() == pytest.approx(1.0)
    zero = Trainer(small(init="zeros", activation="sigmoid", epochs=1), data, slots=None)
    zero.run()
    W1 = zero.model().weights[0]
    assert np.allclose(W1, W1[0])            # symmetric start: every hidden neuron stays the same


@pytest.mark.parametrize("changes, word", [({"hidden": (0,)}, "hidden"), ({"hidden": (8, 8, 8, 8)}, "hidden"),
                                           ({"lr": -1.0}, "lr"), ({"activation": "softmax"}, "activation"),
                                           ({"batch_size": 0}, "batch_size"), ({"epochs": 2.5}, "epochs"),
                                           ({"l2": float("inf")}, "l2"), ({"optimizer": "lbfgs"}, "optimizer")])
def test_bad_settings_raise_clear_errors(data, changes, word):
    with pytest.raises(ValueError, match=word):
        Trainer(small(**changes), data, slots=None)


def test_make_train_data_splits_disjoint_rows():
    s = load_sample()
    d = make_train_data(s["x_train"], s["y_train"], s["x_test"], s["y_test"], train_size=1000, val_fraction=0.2)
    assert len(d.train_idx) == 800 and len(d.val_idx) == 200 and not set(d.train_idx) & set(d.val_idx)
    assert d.images.shape == (4000, 784) and d.test_images.shape == (1000, 784)
    with pytest.raises(ValueError, match="train_size"):
        make_train_data(s["x_train"], s["y_train"], s["x_test"], s["y_test"], train_size=10**6)


def test_smooth_is_the_exponential_moving_average_the_trainer_keeps(data):
    assert smooth([1, 2, 3], alpha=0.5) == pytest.approx([1, 1.5, 2.25])
    assert len(smooth([])) == 0
    snap = Trainer(small(epochs=1), data, slots=None).run()
    assert snap.smoothed == pytest.approx(smooth(snap.losses))


def test_evaluate_counts_a_hand_made_case():
    """Four images whose answers are written out: true labels 0, 1, 1, 2; predictions 0, 2, 1, 2."""
    P = np.array([[0.8, 0.1, 0.1],        # true 0 → 0
                  [0.1, 0.2, 0.7],        # true 1 → 2, confidence 0.7 (the only mistake)
                  [0.3, 0.6, 0.1],        # true 1 → 1
                  [0.2, 0.2, 0.6]])       # true 2 → 2

    class Fixed:                          # a "network" that answers row i for the image whose pixels are all i
        def forward(self, X):
            return P[X[:, 0].round().astype(int)]

    images = np.repeat(np.arange(4, dtype=np.uint8)[:, None], 784, axis=1)
    ev = evaluate(Fixed(), images, np.array([0, 1, 1, 2]), normalize=False, n_classes=3)
    assert ev["accuracy"] == 0.75
    assert ev["confusion"].tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert ev["per_class"].tolist() == [1.0, 0.5, 1.0]
    assert ev["loss"] == pytest.approx(-np.mean(np.log([0.8, 0.2, 0.6, 0.6])))
    assert ev["mistakes"]["index"].tolist() == [1] and ev["mistakes"]["pred"].tolist() == [2]
    assert ev["mistakes"]["confidence"].tolist() == pytest.approx([0.7])
    assert evaluate(Fixed(), images[:0], np.array([], dtype=int)) is None


def test_slot_pool_counts():
    pool = SlotPool(2)
    assert pool.acquire(0) and pool.acquire(0) and not pool.acquire(0.05)
    pool.release()
    assert pool.acquire(0)
    got = []
    t = threading.Thread(target=lambda: got.append(pool.acquire(2)))
    t.start()
    pool.release()
    t.join()
    assert got == [True] and pool.in_use == 2


def test_the_slot_queue_is_first_come_first_served_and_tells_each_its_place():
    pool = SlotPool(1)
    assert pool.acquire(0, ticket="holder")
    assert not pool.acquire(0.01, ticket="first") and not pool.acquire(0.01, ticket="second")
    assert (pool.position("first"), pool.position("second"), pool.position("holder")) == (1, 2, 0)
    got = []
    later = threading.Thread(target=lambda: got.append(("second", pool.acquire(5, ticket="second"))))
    later.start()
    time.sleep(0.05)
    pool.release()                        # the slot goes to "first", who asked earlier, not to the waiting thread
    assert pool.acquire(1, ticket="first") and pool.position("second") == 1
    pool.leave("nobody")                  # leaving a queue one is not in is harmless
    pool.release()
    later.join(5)
    assert got == [("second", True)] and pool.waiting == 0


def test_a_slowed_run_keeps_its_pace_and_speeds_up_when_asked(data):
    trainer = Trainer(small(epochs=100), data, slots=None)
    trainer.set_speed(5)                  # 5 batches per second
    trainer.start()
    time.sleep(1.0)
    slow = trainer.snapshot().step
    assert 3 <= slow <= 7
    trainer.set_speed(None)
    assert wait_for(lambda: trainer.snapshot().step > slow + 50)
    trainer.stop(wait=True)
    with pytest.raises(ValueError, match="speed"):
        trainer.set_speed(float("nan"))


def test_a_slowed_run_starts_with_one_batch_not_two_at_once(data):
    """At 1 batch/s a learner watches each step: the first two must not come together (they did, the pace
    catching up on a beat that had never started)."""
    trainer = Trainer(small(epochs=100), data, slots=None)
    trainer.set_speed(1)
    trainer.start()
    assert wait_for(lambda: trainer.snapshot().step >= 1)
    time.sleep(0.5)
    assert trainer.snapshot().step == 1
    trainer.stop(wait=True)


def test_an_eta_change_is_marked_at_the_step_it_takes_effect_even_while_paused(data):
    trainer = Trainer(small(optimizer="sgd", lr=0.1), data, slots=None)
    trainer.step_once()
    assert wait_for(lambda: trainer.snapshot().step == 1 and trainer.snapshot().state == "paused")
    trainer.set_lr(0.02)
    snap = trainer.snapshot()
    assert snap.lr_now == 0.02 and snap.lr_marks == [(0, 0.1), (1, 0.02)]   # the status line shows the next η
    trainer.step_once()
    assert wait_for(lambda: trainer.snapshot().step == 2)
    snap = trainer.snapshot()
    assert snap.last_batch["lr"] == 0.02 and snap.last_batch["step"] == 2
    assert len(snap.last_batch["rows"]) == 64 and snap.last_batch["loss"] == snap.losses[-1]
    trainer.stop(wait=True)


def test_a_queued_run_that_died_without_leaving_loses_its_place(monkeypatch):
    pool = SlotPool(1)
    monkeypatch.setattr(SlotPool, "STALE_TICKET", 0.2)
    assert pool.acquire(0, ticket="blocker")                           # holds the slot
    assert not pool.acquire(0.01, ticket="ghost")                      # queues, then never asks again
    pool.release()
    time.sleep(0.3)
    assert pool.acquire(1, ticket="alive") and pool.position("ghost") == 0


def test_each_record_keeps_the_gradient_norm_before_and_after_clipping_and_batchnorms_gamma_and_beta(data):
    clip = 0.05                                       # below the typical ‖g‖ of this net: most steps are clipped
    snap = Trainer(small(hidden=(32, 32), batchnorm=True, clip=clip, epochs=1), data, slots=None,
                   record_every=0.0).run()
    R = len(snap.record_steps)
    assert snap.grad_norms.shape == (R, 2) and snap.bn_stats.shape == (R, 2, 4)
    before, after = snap.grad_norms.T
    # clipping by global norm: after = min(before, clip), as the definition ‖g‖·min(1, clip/‖g‖) says
    np.testing.assert_allclose(after, np.minimum(before, clip), rtol=1e-6)
    assert (before > clip).mean() > 0.5
    # the last record's summary is the network's own γ and β, computed here from the arrays
    net = Trainer(small(hidden=(32, 32), batchnorm=True, clip=clip, epochs=1), data, slots=None)
    net.run()
    gamma, beta = net.net.norms[1].gamma, net.net.norms[1].beta
    assert snap.bn_stats[-1, 1].tolist() == pytest.approx([gamma.mean(), gamma.std(), beta.mean(), beta.std()])
    assert snap.bn_stats[0, :, 0] == pytest.approx([1.0, 1.0], abs=0.05)      # γ starts at 1, one step away


def test_without_clipping_the_recorded_norm_is_the_gradients_own(data):
    trainer = Trainer(small(epochs=1), data, slots=None, record_every=0.0)
    trainer._record = _record_and_measure(trainer)
    snap = trainer.run()
    assert snap.bn_stats.shape == (len(snap.record_steps), 0, 4)
    before, after = snap.grad_norms.T
    np.testing.assert_array_equal(before, after)
    assert before[-1] == pytest.approx(trainer.measured[-1], rel=1e-6)    # float32 gradients


def _record_and_measure(trainer):
    """Wrap Trainer._record to measure √Σg² of the last step's gradients independently, with NumPy."""
    trainer.measured, original = [], trainer._record

    def record():
        g = trainer._last.grads
        trainer.measured.append(float(np.sqrt(sum(np.sum(np.square(a, dtype=np.float64)) for a in g.dW + g.db))))
        original()
    return record
