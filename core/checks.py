"""Checks on numbers that come from people: a clear ValueError that says what was expected.

Typed numbers are read by one rule everywhere in the app (`parse_number` for one field, `parse_numbers`
for a list):

- A minus sign is either the hyphen-minus "-" or the minus sign "−" (U+2212) that the app itself
  prints, so a number copied from a page reads back as it was shown.
- The decimal separator is the point, "0.5". A comma never is one: in a list it separates numbers
  ("0.1, 0.7"), and a single field answers "0,5" with a message asking for "0.5". A decimal comma
  cannot be told apart from a separator ("1,5" would be 1.5 in one field and [1, 5] in the next),
  so the app accepts neither reading silently.
- In a list, commas, semicolons and spaces all separate numbers.

The arrays a network is given (layer sizes, dtype, weights, a batch X, its targets y) are checked after the
parsing, then the arguments of each chapter of the book in reading order (the checks moved out of the chapters,
so each reads as its formulas; every message is the one the chapter gave).
"""
import math
import re

import numpy as np


MINUS = "\u2212"          # − : the minus sign the pages print


def finite_number(value, name, low=-math.inf, high=math.inf, above=False):
    """float(value) if it is a finite number with low ≤ value ≤ high (low < value when above=True).

    value may be a number or text a person typed (read by the rule in the module docstring)."""
    if isinstance(value, str):
        value = _read(value, name)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    if not (math.isfinite(value) and (value > low if above else value >= low) and value <= high):
        raise ValueError(f"{name} must be {_expected(low, high, above, math.isfinite(value))}; got {_show_any(value)}")
    return value


def parse_number(text, name, low=-math.inf, high=math.inf, above=False):
    """The number typed in one field: "−0.5" → -0.5; ValueError saying what is wrong otherwise."""
    return finite_number(_read("" if text is None else str(text), name), name, low, high, above)


def parse_numbers(text, name="the list", min_count=1, max_count=20, max_abs=1e6):
    """'0.1, 0.7; −0.2' → array([0.1, 0.7, -0.2]) (n,); anything else raises ValueError saying what is wrong.

    Commas, semicolons and spaces separate the numbers; each must lie within ±max_abs."""
    tokens = re.split(r"[,;\s]+", str(text or "").strip())
    tokens = [t for t in tokens if t]
    if not tokens:
        raise ValueError(f"{name} is empty: type numbers separated by commas, like 0.1, 0.7, 0.2")
    values = np.array([_read(t, name) for t in tokens])                  # (n,)
    if np.max(np.abs(values)) > max_abs:
        raise ValueError(f"{name}: numbers must be between {_show(-max_abs)} and {_show(max_abs)}")
    if not min_count <= len(values) <= max_count:
        raise ValueError(f"{name} needs {min_count} to {max_count} numbers; got {len(values)}")
    return values


def _read(text, name):
    """One finite float from one token of typed text, by the module's rule."""
    token = text.strip()
    if not token:
        raise ValueError(f"{name} is empty: type a number, like 0.5")
    try:
        value = float(token.replace(MINUS, "-"))
    except ValueError:
        hint = ""
        if re.fullmatch(r"[-−]?\d*,\d+", token):
            hint = f" (write decimals with a point: {token.replace(',', '.')})"
        raise ValueError(f"{name} must be a number; got {token[:20]!r}{hint}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {token[:20]!r} (NaN or infinity)")
    return value


def _expected(low, high, above, finite=True):
    """'between −1 and 1', 'a finite number ≥ 0', 'a finite number > 0 and ≤ 1,000', 'a finite number'
    (NaN or ±inf between two bounds: 'a finite number ≥ −1 and ≤ 1', which says what is wrong with it)."""
    if low > -math.inf and high < math.inf and not above and finite:
        return f"between {_show(low)} and {_show(high)}"
    parts = ([f"{'>' if above else '≥'} {_show(low)}"] if low > -math.inf else []) + \
            ([f"≤ {_show(high)}"] if high < math.inf else [])
    return " ".join(["a finite number", " and ".join(parts)]).strip()


def _show(x):
    """A bound in a message: 1,000 or 0.001, with the minus sign the pages print (−1,000)."""
    shown = f"{abs(x):,.0f}" if float(x).is_integer() else f"{abs(x):g}"
    return (MINUS if x < 0 else "") + shown


def _show_any(x):
    """A value in a message: 1e+09, −3, nan."""
    return (MINUS if x < 0 else "") + f"{abs(x):g}"


# ---- the arrays a network is given (core/network.py): shapes, dtypes, finite values ----------------

def check_sizes(sizes):
    """[784, 256, 10] as a list of ints: at least an input and an output width, all ≥ 1."""
    try:
        sizes = [int(n) for n in sizes]
    except (TypeError, ValueError):
        raise ValueError(f"sizes must be a list of layer widths like [784, 256, 10]; got {sizes!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes needs at least an input and an output width, all ≥ 1; got {sizes}")
    return sizes


def check_dtype(dtype):
    """np.float32 or np.float64 (the scalar type), from anything np.dtype reads."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    return dtype.type


def check_network(sizes, dtype, output, loss):
    """MLP's sizes and dtype, checked (returned as a list of ints and a scalar type), and its (output, loss) pair."""
    sizes, dtype = check_sizes(sizes), check_dtype(dtype)
    check_output_loss(output, loss)
    return sizes, dtype


def check_output_loss(output, loss):
    """Raise a clear error unless (output, loss) is one of the supported pairs (each loss record names its outputs)."""
    from core.losses import LOSSES, OUTPUTS            # here: core.losses imports this module
    LOSSES_FOR_OUTPUT = {out: [name for name, loss in LOSSES.items() if out in loss.outputs] for out in OUTPUTS}
    if output not in LOSSES_FOR_OUTPUT:
        raise ValueError(f"unknown output {output!r}; expected one of {sorted(LOSSES_FOR_OUTPUT)}")
    if loss not in LOSSES_FOR_OUTPUT[output]:
        raise ValueError(f"loss {loss!r} does not go with output {output!r}; "
                         f"use one of {list(LOSSES_FOR_OUTPUT[output])}")


def check_params(sizes, weights, biases):
    """Weights W_l (n_l, n_{l−1}) and biases b_l (n_l,) of finite numbers, one of each per layer of sizes."""
    if len(weights) != len(sizes) - 1 or len(biases) != len(sizes) - 1:
        raise ValueError(f"expected {len(sizes) - 1} weight matrices and bias vectors for sizes {sizes}")
    for l, (W, b) in enumerate(zip(weights, biases)):
        W, b = np.asarray(W), np.asarray(b)
        want_W, want_b = (sizes[l + 1], sizes[l]), (sizes[l + 1],)
        if W.shape != want_W or b.shape != want_b:
            raise ValueError(f"layer {l + 1}: expected W {want_W} and b {want_b}, got {W.shape} and {b.shape}")
        if not (np.issubdtype(W.dtype, np.number) and np.issubdtype(b.dtype, np.number)):
            raise ValueError(f"layer {l + 1}: weights must be numbers")
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise ValueError(f"layer {l + 1}: weights contain NaN or infinite values")


def check_inputs(X, n_in, dtype):
    """A batch X (B, n_in) of finite real numbers, as a C-contiguous array of dtype."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != n_in:
        hint = " (for one example use X[None, :])" if X.shape == (n_in,) else ""
        raise ValueError(f"X must have shape (B, {n_in}); got {X.shape}{hint}")
    if X.shape[0] == 0:
        raise ValueError("X is empty: need at least one example")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"X must hold real numbers; got dtype {X.dtype}")
    X = np.ascontiguousarray(X, dtype=dtype)
    if not np.isfinite(np.sum(X)) and not np.isfinite(X).all():   # the sum is a quick first look
        raise ValueError("X contains NaN or infinite values")
    return X


def check_targets(y, B, K, dtype):
    """int labels (B,) -> one-hot (B, K) (a (B, 1) column of 0/1 when K = 1); targets (B, K) checked, passed through."""
    y = np.asarray(y)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        if y.shape[0] != B:
            raise ValueError(f"y has {y.shape[0]} labels but X has {B} examples")
        from core.losses import one_hot                    # here: core.losses imports this module
        return check_targets(y[:, None].astype(dtype), B, K, dtype) if K == 1 else one_hot(y, K, dtype)
    if y.shape != (B, K):
        raise ValueError(f"y must be int labels of shape ({B},) or targets of shape ({B}, {K}); got "
                         f"{y.shape} with dtype {y.dtype}")
    y = np.asarray(y, dtype=dtype)
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinite values")
    return y


def check_target(y, K, dtype):
    """One example's target: (label, one-hot (K,)) for a class label y, (None, y (K,)) for a vector of K numbers."""
    if np.isscalar(y) and float(y).is_integer():
        label = int(y)
        if not 0 <= label < K:
            raise ValueError(f"class must be in 0..{K - 1}, got {label}")
        return label, np.eye(K, dtype=dtype)[label]
    Y = np.asarray(y, dtype=dtype)
    if Y.shape != (K,):
        raise ValueError(f"target must be a class in 0..{K - 1} or a vector of {K} numbers; got shape {Y.shape}")
    return None, Y


def check_norm_arrays(norms, current):
    """None, or one {name: array} per BatchNorm layer, each array finite and shaped like its `current` one."""
    if norms is not None and len(norms) != len(current):
        raise ValueError(f"expected arrays for {len(current)} BatchNorm layers; got {len(norms)}")
    for arrays, now in zip(norms or (), current):
        for name, value in now.items():
            new = np.asarray(arrays[name])
            if new.shape != value.shape or not np.isfinite(new).all():
                raise ValueError(f"BatchNorm {name} must be {value.shape} finite numbers; got shape {new.shape}")


def check_gradients(params, grads, first=None):
    """One gradient per parameter array, each of its parameter's shape; the shapes of `first` (an optimizer's
    arrays from its first step), when given, are the shapes params must still have."""
    if len(params) != len(grads):
        raise ValueError(f"got {len(params)} parameter arrays but {len(grads)} gradients")
    if first is not None and [p.shape for p in params] != [s.shape for s in first]:
        raise ValueError("parameter shapes changed since the first step: use a new optimizer")
    for i, (p, g) in enumerate(zip(params, grads)):
        if p.shape != g.shape:
            raise ValueError(f"parameter {i} has shape {p.shape} but its gradient has {g.shape}")


def check_vector(v, name, bound=np.inf):
    """A non-empty 1-D float64 array (n,) of finite numbers, each within ±bound."""
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a non-empty list of numbers; got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.abs(v).max() > bound:
        raise ValueError(f"every {name} must be between −{bound:,.0f} and {bound:,.0f}; got {v[np.argmax(np.abs(v))]:g}")
    return v


# ---- the chapters' own arguments, in reading order: activations and losses ----------------------------

def check_known(name, options, what):
    """name, if it is one of options (a list, shown as given in the message)."""
    if name not in options:
        raise ValueError(f"unknown {what} {name!r}; expected one of {options}")
    return name


def check_alpha(alpha):
    """A leaky-ReLU slope α: a finite number ≥ 0."""
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"leaky ReLU alpha must be a finite number ≥ 0, got {alpha!r}")
    return alpha


def check_labels(labels, K):
    """Class labels: a 1-D array of ints in 0..K−1."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D array of ints, got shape {labels.shape} dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= K):
        raise ValueError(f"labels must be in 0..{K - 1}, got values from {labels.min()} to {labels.max()}")
    return labels


def check_pair(a, b):
    """A prediction and its target as 2-D float arrays of one shape."""
    a, b = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
    if a.shape != b.shape:
        raise ValueError(f"prediction and target shapes differ: {a.shape} vs {b.shape}")
    return a, b


# ---- layers (core/layers.py) and the network's layers -------------------------------------------------

def check_norm_batch(B):
    """BatchNorm's training batch size B, at least 2."""
    if B < 2:
        raise ValueError("BatchNorm in training mode needs a batch of at least 2 examples "
                         "(the variance of one example is 0)")
    return B


def check_dropout_rate(p):
    """A dropout rate p in [0, 1), as a float."""
    if not (isinstance(p, (int, float, np.floating)) and 0 <= p < 1):
        raise ValueError(f"dropout rate p must be a number in [0, 1); got {p!r}")
    return float(p)


def check_mask(mask, shape):
    """A dropout keep-mask of the input's shape, as an array."""
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"the dropout mask must have the shape of its input {shape}; got {mask.shape}")
    return mask


def check_residual_sizes(sizes, residual):
    """residual=True needs at least one hidden layer whose input and output widths are equal."""
    if residual and not any(a == b for a, b in zip(sizes[:-2], sizes[1:-1])):
        raise ValueError(f"residual=True needs a hidden layer whose input and output widths are equal "
                         f"(a + F(a) must add arrays of one shape); sizes {sizes} have none")


def check_mask_count(masks, n):
    """None, or one dropout mask per Dropout layer (n of them)."""
    if masks is not None and len(masks) != n:
        raise ValueError(f"expected {n} dropout masks (one per Dropout layer); got {len(masks)}")


# ---- optimizers, one traced example, the one-neuron graph, the perceptron -----------------------------

def check_beta(beta, name):
    """A decay rate β (or ρ) in [0, 1)."""
    if not (0 <= beta < 1):
        raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
    return beta


def check_one_example(x, n_in, dtype):
    """One example x (n_in,) as an array of dtype (its numbers are checked where it joins a batch)."""
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 1:
        raise ValueError(f"x must be one example of shape ({n_in},); got {x.shape}")
    return x


# Every input of the one-neuron graph must satisfy |v| ≤ 1e6: then z ≤ 2·10¹² + 10⁶ and (a − y)² ≤ 10²⁵, far from
# float64's 1.8e308 (beyond |a − y| ≈ 1.3e154 the square overflows). A teaching example never needs more.
GRAPH_BOUND = 1e6


def check_neuron_inputs(x, w, b, y):
    """(x (n,), w (n,), b, y) of the one-neuron graph (core/graph.py), every number within ±GRAPH_BOUND."""
    x, w = check_vector(x, "x", GRAPH_BOUND), check_vector(w, "w", GRAPH_BOUND)
    if x.shape != w.shape:
        raise ValueError(f"x and w need the same number of entries; got {x.size} and {w.size}")
    return x, w, finite_number(b, "b", -GRAPH_BOUND, GRAPH_BOUND), finite_number(y, "y", -GRAPH_BOUND, GRAPH_BOUND)


def check_bce_point(a, y):
    """Binary cross-entropy of one prediction needs 0 < a < 1 and a target 0 ≤ y ≤ 1."""
    if not (0.0 < a < 1.0):
        raise ValueError(f"binary cross-entropy needs 0 < a < 1 (a sigmoid output); got a = {a:.4g}")
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"binary cross-entropy needs a target y in [0, 1]; got {y}")


def check_jacobian(J, K):
    """A (K, K) Jacobian as float64."""
    J = np.asarray(J, dtype=np.float64)
    if J.shape != (K, K):
        raise ValueError(f"the Jacobian must be ({K}, {K}); got {J.shape}")
    return J


def check_example(x, n):
    """One perceptron input x: n finite numbers, as a float64 vector (n,)."""
    x = check_vector(x, "x")
    if x.shape != (n,):
        raise ValueError(f"x must have {n} numbers; got shape {x.shape}")
    return x


def check_binary_label(y):
    """A label 0 or 1, as an int."""
    if y not in (0, 1):
        raise ValueError(f"the label y must be 0 or 1, got {y!r}")
    return int(y)
