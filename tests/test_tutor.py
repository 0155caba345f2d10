"""The tutor (lab/tutor.py): each rule fires on a real short run that shows its situation, with its numbers,
and stays quiet on healthy runs. MNIST runs use the Train page's trainer on 1,350 sample images; the
Playground runs use its engine and lessons."""
import math
import re
from dataclasses import replace
from functools import lru_cache

import numpy as np
import pytest

from runs import sample_slice, small

from lab.playground import Config, Playground, lesson_config
from lab.trainer import Trainer
from lab.tutor import RULES, apply_finding, diagnose, fmt, stats_from_playground, stats_from_snapshot, swings


@lru_cache(maxsize=1)
def data():
    return sample_slice()


MNIST_RUNS = {
    "healthy": small(),
    "deep_sigmoid": small(hidden=(128, 128, 128), activation="sigmoid", init="xavier", optimizer="sgd", lr=0.1,
                          epochs=1),
    "lr_high": small(optimizer="sgd", lr=10.0),
    "lr_2": small(optimizer="sgd", lr=2.0),
    "lr_low": small(optimizer="sgd", lr=1e-4),
    "zero_init": small(init="zeros", activation="sigmoid"),
    "raw_inputs": small(normalize=False),
    "no_shuffle": small(shuffle=False),
    "normal_1": small(init="normal", init_std=1.0, epochs=1),
    "batch_2": small(batch_size=2, epochs=1),
    "tiny": small(hidden=(2,)),
}


@lru_cache(maxsize=None)
def mnist(name):
    return Trainer(MNIST_RUNS[name], data(), slots=None, record_every=0.0).run()


@lru_cache(maxsize=None)
def playground(name, epochs=100):
    cfg = lesson_config(name) if isinstance(name, str) else name
    pg = Playground(cfg)
    pg.train_epochs(epochs)
    return pg


def findings(stats):
    return {f.code: f for f in diagnose(stats)}


def of_run(name):
    return findings(stats_from_snapshot(mnist(name)))


def numbers(text):
    return [float(x.replace("\u2212", "-")) for x in re.findall(r"[−-]?\d+(?:\.\d+)?(?:e[+−-]?\d+)?", text)]


# ---- quiet on healthy runs ------------------------------------------------------------------------

HEALTHY = {"mnist default": lambda: stats_from_snapshot(mnist("healthy")),
           "playground XOR with a hidden layer": lambda: stats_from_playground(playground("xor_hidden")),
           "playground spiral with sin features": lambda: stats_from_playground(playground("spiral_sin")),
           "playground L2 lesson": lambda: stats_from_playground(playground("l2_tames"))}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
@pytest.mark.parametrize("run", HEALTHY)
def test_each_rule_stays_quiet_on_a_healthy_run(rule, run):
    finding = rule(HEALTHY[run]())
    assert finding is None or finding.level == "info", finding


def test_a_healthy_default_run_gets_no_warning_at_all():
    assert not [f for f in diagnose(stats_from_snapshot(mnist("healthy"))) if f.level == "warning"]
    assert mnist("healthy").epochs_log[-1]["val_acc"] > 0.8          # it really is healthy


def test_there_are_at_least_fifteen_situations():
    assert len(RULES) >= 15
    assert len({rule.__name__ for rule in RULES}) == len(RULES)


# ---- each rule fires on its situation ---------------------------------------------------------------

def test_deep_sigmoid_shows_vanishing_gradients_within_the_first_epoch():
    snap = mnist("deep_sigmoid")
    assert snap.epoch == 1                                          # a one-epoch run
    f = of_run("deep_sigmoid")["vanishing_gradients"]
    g = snap.grad_scale[-20:]
    ratio = np.median(g[:, 0]) / np.median(g[:, -1])
    assert ratio < 0.01 and f"layer 1's gradient is {fmt(ratio)}×" in f.evidence
    assert "layer 4's" in f.evidence and f.apply == {"activation": "relu", "init": "he"}
    assert f.why and f.formula


def test_eta_ten_explodes_and_apply_gives_a_run_that_learns():
    f = of_run("lr_high")["loss_exploding"]
    snap = mnist("lr_high")
    assert snap.state == "diverged" and f"{np.max(snap.smoothed):.3g}" in f.evidence and "η = 10" in f.evidence
    assert f.apply == {"lr": 0.1}
    fixed = apply_finding(MNIST_RUNS["lr_high"], f)
    after = Trainer(fixed, data(), slots=None).run()
    assert after.state == "finished" and after.smoothed[-1] < 0.5 * math.log(10)


def test_nan_loss_is_named_with_its_epoch():
    cfg = replace(Config(), data="plane", act="relu", lr=10.0, hidden=(8, 8))
    f = findings(stats_from_playground(playground(cfg, 5)))
    assert "loss_nan" in f and "epoch 1 was nan" in f["loss_nan"].evidence and f["loss_nan"].apply == {"lr": 1.0}
    assert "loss_exploding" not in f                                # one finding for one problem


def test_eta_too_low_and_not_learning():
    f = of_run("lr_low")
    snap = mnist("lr_low")
    assert "not_learning" in f and f"{snap.smoothed[-1]:.3g}" in f["not_learning"].evidence
    low = f["lr_too_low"]
    assert numbers(low.evidence)[0] < 1e-4 and low.apply == {"lr": 0.001}


def test_an_oscillating_loss_is_seen_in_the_eta_ten_playground_lesson():
    stats = stats_from_playground(playground("lr_diverges"))
    f = findings(stats)["oscillating"]
    assert swings(stats.smoothed) >= 2 and f"{swings(stats.smoothed)} times" in f.evidence
    assert f.apply == {"lr": 1.0}


def test_swings_counts_rises_and_falls():
    assert swings([1, 2, 1, 2, 1]) == 2 and swings([3, 2, 1, 0.5]) == 0


def test_exploding_gradients_with_raw_pixels():
    f = of_run("raw_inputs")["exploding_gradients"]
    assert numbers(f.evidence)[1] > 1.0 and f.apply == {"normalize": True}


def test_dead_relus_after_eta_two():
    f = of_run("lr_2")["dead_relus"]
    assert f"{mnist('lr_2').dead[-1, 0]:.0%}" in f.evidence and f.apply == {"activation": "leaky_relu"}


def test_saturated_tanh_units_in_the_eta_ten_playground_lesson():
    f = findings(stats_from_playground(playground("lr_diverges")))["saturated_units"]
    assert "tanh" in f.title and numbers(f.evidence)[0] >= 30


def test_overfitting_in_the_playground_lesson_and_l2_as_the_fix():
    pg = playground("overfit")
    f = findings(stats_from_playground(pg))["overfitting"]
    test_losses = [h[2] for h in pg.history[1:]]
    assert f"{min(test_losses):.3g}" in f.evidence and f.apply == {"reg": "l2", "rate": 0.03}
    assert apply_finding(pg.cfg, f).reg == "l2"


def test_underfitting_with_two_hidden_neurons():
    f = of_run("tiny")["underfitting"]
    assert f"{mnist('tiny').epochs_log[-1]['loss']:.3g}" in f.evidence and f.apply == {"hidden": (256,)}


def test_a_batch_of_two_is_too_small():
    f = of_run("batch_2")["batch_too_small"]
    assert "batches of 2" in f.evidence and f.apply == {"batch_size": 32}


def test_unnormalised_inputs():
    assert of_run("raw_inputs")["unnormalised_input"].apply == {"normalize": True}


def test_bad_initialisation_quotes_the_first_loss():
    f = of_run("normal_1")["bad_init"]
    assert f"{mnist('normal_1').losses[0]:.3g}" in f.evidence and f.apply == {"init": "he"}


def test_zero_init_is_seen_in_the_identical_first_layer_neurons():
    snap = mnist("zero_init")
    rows = snap.latest["first_layer"].reshape(16, -1)
    assert np.allclose(rows, rows[0])                               # independently: the neurons are identical
    f = of_run("zero_init")["symmetric_init"]
    assert numbers(f.evidence.split("at most")[1])[0] < 1e-7 and f.apply == {"init": "xavier"}


def test_unshuffled_data():
    f = of_run("no_shuffle")["not_shuffled"]
    assert f"{mnist('no_shuffle').epochs_log[-1]['val_loss']:.3g}" in f.evidence and f.apply == {"shuffle": True}


def test_a_plateau_is_only_an_informational_note():
    f = findings(stats_from_playground(playground("overfit")))["plateau"]
    assert f.level == "info" and "%" in f.evidence


def test_apply_without_a_fix_is_refused():
    f = findings(stats_from_playground(playground("overfit")))["plateau"]
    with pytest.raises(ValueError, match="no settings change"):
        apply_finding(Config(), f)


def test_the_playgrounds_applies_are_valid_playground_settings():
    from lab.playground import check_config

    for name in ("sigmoid_deep", "lr_diverges", "overfit"):
        pg = playground(name)
        for f in diagnose(stats_from_playground(pg)):
            if f.apply:
                check_config(apply_finding(pg.cfg, f))
    f = findings(stats_from_playground(playground("sigmoid_deep")))["vanishing_gradients"]
    assert f.apply == {"act": "relu"} and "layer 1's gradient is" in f.evidence and "layer 7's" in f.evidence


def test_a_stored_run_record_gets_the_findings_its_numbers_support():
    from lab.live import RunInfo, run_record
    from lab.tutor import findings_for_record, findings_for_snapshot

    def record(name):
        snap = mnist(name)
        return run_record(snap, RunInfo(1, "MNIST", "sample"), snap.config.as_dict())

    assert not [f for f in findings_for_record(record("healthy")) if f.level == "warning"]
    low = {f.code for f in findings_for_record(record("lr_low"))}
    assert "not_learning" in low and "lr_too_low" not in low        # no update sizes in a stored record
    assert "loss_exploding" in {f.code for f in findings_for_record(record("lr_high"))}
    assert {f.code for f in findings_for_snapshot(mnist("lr_low"))} >= {"not_learning", "lr_too_low"}
