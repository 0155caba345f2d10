"""Predict, then run: before a lesson or a pitfall runs, the learner says what the loss will do; after the
run, the answer is read off the run itself and explained with its own numbers.

Every question has the same four choices, and `outcome(curve)` decides from a LossCurve which one happened:

    0  "Fall to near zero"                    the loss ends below 10 % of a guess's
    1  "Fall, but stay well above zero"       anything between
    2  "Stay near the loss of a random guess" it ends at ≥ 90 % of a guess's
    3  "Jump around or blow up"               NaN, a peak above twice the start, or two 15 % swings (lab.tutor)

A guess's loss is ln 2 for the Playground's two classes, ln 10 for MNIST, and Var(y) for a regression
(the MSE of always answering the mean). The expected answer of each lesson is the one its run gives
(tests/test_predict.py runs them all); the explanation quotes the run that actually happened.
"""
import math
from dataclasses import dataclass

import numpy as np

from lab.tutor import SWINGS, fmt, swings

CHOICES = ("Fall to near zero", "Fall, but stay well above zero", "Stay near the loss of a random guess",
           "Jump around or blow up")
NEAR_ZERO, NEAR_GUESS = 0.1, 0.9       # fractions of a guess's loss
PLAYGROUND_EPOCHS = 100                # a 2-D lesson's prediction run (about a second)
FIT_STEPS = 1000                       # a 1-D lesson's prediction run


@dataclass(frozen=True)
class LossCurve:
    """The training loss of one run: its points, the loss of a guess, and what one point is."""
    loss: np.ndarray        # (T,)
    chance: float
    unit: str               # "epoch", "step"


@dataclass(frozen=True)
class Question:
    text: str
    answer: int             # the choice the lesson's run gives
    why: str                # one or two sentences: why the loss does that


def outcome(curve):
    """The index of the choice (CHOICES) that describes this curve."""
    loss = np.asarray(curve.loss, dtype=np.float64)
    if loss.size == 0:
        raise ValueError("the run has no loss values yet: run it first")
    start = loss[0]
    if not np.all(np.isfinite(loss)) or loss.max() > 2 * max(start, curve.chance) or \
            (swings(loss) >= SWINGS and loss.max() > 1.5 * start):
        return 3
    if loss[-1] >= NEAR_GUESS * curve.chance:
        return 2
    if loss[-1] < NEAR_ZERO * curve.chance:
        return 0
    return 1


def explain(question, picked, curve):
    """(right, text): the learner's pick against what the run did, with the run's numbers."""
    happened = outcome(curve)
    loss = np.asarray(curve.loss, dtype=np.float64)
    finite = loss[np.isfinite(loss)]
    low, high = (fmt(finite.min()), fmt(finite.max())) if finite.size else ("none", "none")
    numbers = (f"The training loss went from {fmt(loss[0])} to {fmt(loss[-1])} in {len(loss) - 1} {curve.unit}s "
               f"(lowest {low}, highest {high}); a random guess scores {fmt(curve.chance)}.")
    verdict = "Right" if picked == happened else f"Not this time: you said “{CHOICES[picked]}”"
    return picked == happened, f"{verdict} — the loss did “{CHOICES[happened]}”. {numbers} {question.why}"


# ---- curves of the runs -------------------------------------------------------------------------

def curve_of_playground(pg):
    """The per-epoch training loss of a 2-D Playground experiment (epoch 0 included)."""
    chance = math.log(2) if pg.cfg.problem == "classification" else float(np.var(pg.data.y_train))
    return LossCurve(np.array([h[1] for h in pg.history]), chance, "epoch")


def curve_of_fit(fit):
    """The loss of a 1-D fit at each recorded step (the MSE of answering the mean is the guess)."""
    return LossCurve(np.array([h[1] for h in fit.history]), float(np.var(fit.y)), "frame")


def curve_of_snapshot(snap):
    """The smoothed loss of a Train-page run (lab.trainer.Snapshot)."""
    return LossCurve(np.asarray(snap.smoothed, dtype=np.float64), math.log(len(snap.evaluation["per_class"]))
                     if snap.evaluation else math.log(10), "step")


# ---- the questions ------------------------------------------------------------------------------

ASK = "What will the training loss do?"

PLAYGROUND_QUESTIONS = {
    "xor_perceptron": Question(ASK + " (No hidden layer, XOR data.)", 2,
                               "With no hidden layer the boundary is one straight line, and no line separates XOR: "
                               "the best it can do is a coin toss, ln 2 ≈ 0.69."),
    "xor_hidden": Question(ASK + " (Three tanh neurons, XOR data.)", 1,
                           "Three lines are enough to cut XOR's quadrants apart, so the loss falls; a few points near "
                           "the axes stay uncertain, which keeps it above zero after 100 epochs."),
    "spiral_deep": Question(ASK + " (Four layers of 8 ReLUs, spiral data, 100 epochs.)", 1,
                            "Depth lets the ReLUs combine cuts into curls, but that takes many epochs: after 100 the "
                            "loss has fallen and is still on its way."),
    "spiral_sin": Question(ASK + " (sin x₁ and sin x₂ as extra features, 100 epochs.)", 1,
                           "The sin features already curl like the spiral, so a small network only has to combine "
                           "them and the loss falls fast; the points where the two arms meet keep it above zero."),
    "sigmoid_deep": Question(ASK + " (Six sigmoid layers.)", 2,
                             "Each sigmoid layer multiplies the error by σ′(z) ≤ 0.25 on its way back, so the first "
                             "layers receive almost nothing and the network stays near a coin toss (vanishing "
                             "gradients)."),
    "lr_diverges": Question(ASK + " (Learning rate η = 10.)", 3,
                            "Each step overshoots the minimum by more than it started, so the loss jumps from wall to "
                            "wall of the valley instead of going down it."),
    "overfit": Question(ASK + " (A big network, few noisy points.)", 1,
                        "The training loss falls as the network bends around the noisy points; it cannot reach zero "
                        "on points whose labels contradict each other. Watch the test loss: it rises."),
    "l2_tames": Question(ASK + " (The same, with L2.)", 1,
                         "The penalty λ/2 ΣW² keeps the weights small, so the training loss stays higher than without "
                         "it — and the test loss stays low."),
    "ua_relu": Question(ASK + " (12 ReLU hinges fitting sin πx.)", 0,
                        "Twelve hinges are enough for a bent line to follow one period of a sine closely."),
    "ua_two_layers": Question(ASK + " (Two layers of 6 ReLUs fitting a sawtooth.)", 0,
                              "Second-layer pieces bend several times each, so 12 neurons in two layers follow the "
                              "jump closely."),
}

TRAIN_PITFALL_QUESTIONS = {
    "lr_high": Question(ASK + " (SGD with η = 10.)", 3,
                        "Every step overshoots: the loss grows by a factor each step until the trainer stops it."),
    "lr_low": Question(ASK + " (SGD with η = 0.0001.)", 2,
                       "Each step moves the weights by a ten-thousandth of the gradient: the loss barely leaves the "
                       "level of a guess within the run."),
    "zero_init": Question(ASK + " (All weights start at 0.)", 2,
                          "Every hidden neuron computes the same thing and gets the same update, so the network acts "
                          "like one with a single hidden neuron."),
    "raw_inputs": Question(ASK + " (Raw 0–255 pixels.)", 3,
                           "z = W x + b is 255× larger than with x/255: the first steps are huge and the loss blows up."),
    "no_shuffle": Question(ASK + " (Batches sorted by class.)", 2,
                           "Each run of same-class batches pulls the network toward that class; it forgets the "
                           "others, so the loss stays near a guess's."),
    "deep_sigmoid": Question(ASK + " (Three sigmoid layers.)", 2,
                             "σ′(z) ≤ 0.25 shrinks the error at every layer on its way back, so early on the loss "
                             "hardly moves (vanishing gradients)."),
}
