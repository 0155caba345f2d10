"""Learning-rate schedules: η as a function of the step t = 0, 1, 2, ... of a training run.

constant, step decay, cosine — and "plateau", which depends on how training goes rather than on t:
a ReduceLROnPlateau record (lab/plateau.py), fed the validation loss after each epoch, keeps a factor
that scheduled_lr("plateau", η, t, T, scale=…) applies. The optimizers that take η are in core/optim.py.
"""
import math


def constant_lr(lr, t, total_steps=None):
    """η_t = η."""
    return lr


def step_lr(lr, t, total_steps=None, every=1000, gamma=0.5):
    """η_t = η · γ^⌊t / every⌋   (drop by γ every `every` steps)."""
    return lr * gamma ** (t // every)


def cosine_lr(lr, t, total_steps, lr_min=0.0):
    """η_t = η_min + ½ (η − η_min)(1 + cos(π t / T))   (from η down to η_min over T steps)."""
    progress = min(t, total_steps) / max(total_steps, 1)
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * progress))


def plateau_lr(lr, t, total_steps=None, scale=1.0):
    """η_t = η · scale, where scale is the plateau record's current factor (1 until the loss stalls).

    The record (lab/plateau.py) applies PyTorch's ReduceLROnPlateau rule to the validation loss after each
    epoch: improved if loss < best · (1 − threshold), else bad += 1 and, once bad > patience, scale ← scale · factor.
    """
    return lr * scale


SCHEDULES = {"constant": constant_lr, "step": step_lr, "cosine": cosine_lr, "plateau": plateau_lr}


def scheduled_lr(schedule, lr, t, total_steps, **kwargs):
    """η at step t of `total_steps` under the named schedule."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; expected one of {list(SCHEDULES)}")
    return SCHEDULES[schedule](lr, t, total_steps, **kwargs)
