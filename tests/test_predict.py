"""Predict, then run (lab/predict.py): each lesson's and pitfall's expected answer is what its run really does,
and the explanation quotes that run's numbers."""
import math

import numpy as np
import pytest

from runs import sample_slice

from lab.playground import LESSONS, Fit1D, Playground, lesson_config
from lab.predict import (
    CHOICES,
    FIT_STEPS,
    PLAYGROUND_EPOCHS,
    PLAYGROUND_QUESTIONS,
    TRAIN_PITFALL_QUESTIONS,
    LossCurve,
    curve_of_fit,
    curve_of_playground,
    curve_of_snapshot,
    explain,
    outcome,
)
from lab.trainer import TrainConfig, Trainer

# The Train page's pitfalls (pages/ui/train_session.py PITFALLS) as TrainConfig changes, 3 epochs where it sets 3
PITFALLS = {"lr_high": dict(optimizer="sgd", lr=10.0), "lr_low": dict(optimizer="sgd", lr=1e-4, epochs=3),
            "zero_init": dict(init="zeros", activation="sigmoid", epochs=3), "raw_inputs": dict(normalize=False),
            "no_shuffle": dict(shuffle=False, epochs=3),
            "deep_sigmoid": dict(hidden=(128, 128, 128), activation="sigmoid", init="xavier", optimizer="sgd",
                                 lr=0.1, epochs=3)}


def lesson_curve(name):
    cfg = lesson_config(name)
    if cfg.mode == "2d":
        pg = Playground(cfg)
        pg.train_epochs(PLAYGROUND_EPOCHS)
        return curve_of_playground(pg)
    fit = Fit1D(cfg.fn, cfg.units, cfg.depth, cfg.act1d, cfg.lr1d, cfg.seed)
    for _ in range(FIT_STEPS // cfg.steps1d):
        fit.train_steps(cfg.steps1d, lr=cfg.lr1d)
    return curve_of_fit(fit)


def test_every_playground_lesson_has_a_question():
    assert set(PLAYGROUND_QUESTIONS) == set(LESSONS)


@pytest.mark.parametrize("name", list(PLAYGROUND_QUESTIONS))
def test_each_lessons_answer_is_what_its_run_does(name):
    curve = lesson_curve(name)
    assert outcome(curve) == PLAYGROUND_QUESTIONS[name].answer


@pytest.mark.parametrize("name", list(TRAIN_PITFALL_QUESTIONS))
def test_each_pitfalls_answer_is_what_its_run_does(name):
    snap = Trainer(TrainConfig(**PITFALLS[name]), sample_slice(), slots=None).run()
    assert outcome(curve_of_snapshot(snap)) == TRAIN_PITFALL_QUESTIONS[name].answer


def test_the_explanation_quotes_the_runs_own_numbers():
    curve = LossCurve(np.array([0.7, 0.5, 0.3]), math.log(2), "epoch")
    question = PLAYGROUND_QUESTIONS["xor_hidden"]
    right, text = explain(question, 1, curve)
    assert right and "from 0.7 to 0.3 in 2 epochs" in text and "0.693" in text and question.why in text
    right, text = explain(question, 3, curve)
    assert not right and f"you said “{CHOICES[3]}”" in text and f"the loss did “{CHOICES[1]}”" in text


def test_outcomes_follow_their_definitions():
    guess = math.log(2)
    assert outcome(LossCurve(np.array([0.7, 0.01]), guess, "epoch")) == 0
    assert outcome(LossCurve(np.array([0.7, 0.69]), guess, "epoch")) == 2
    assert outcome(LossCurve(np.array([0.7, np.nan]), guess, "epoch")) == 3
    assert outcome(LossCurve(np.array([0.7, 2.0, 0.5]), guess, "epoch")) == 3
    with pytest.raises(ValueError, match="run it first"):
        outcome(LossCurve(np.array([]), guess, "epoch"))
