"""The worked examples of the lessons, to 3 decimals: the pages show exactly these numbers."""
import numpy as np
import pytest

from core.activations import sigmoid, sigmoid_prime, softmax
from core.losses import cross_entropy, mse
from core.network import MLP
from core.optim import Adam
from core.perceptron import Perceptron
from core.trace import trace_step

W1 = [[0.3, 0.7], [-0.2, 0.4]]
W2 = [[0.5, -0.3], [0.2, 0.6]]
X = [1.0, 0.5]


def close(actual, expected, atol=5e-4):
    """Equal to the 3 decimals given (rounded: within half a unit of the last decimal)."""
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, atol=atol)


# The lesson computed ŷ, δ2 and dW2 of example 6 from rounded intermediates (a1 = [0.657, 0.5]);
# the exact values are ŷ = [0.4371, 0.5629], δ2 = [−0.5629, 0.5629], dW2[0] = [−0.3698, −0.2814].
# They agree with the lesson's numbers to within 0.001.
ROUNDED_BY_HAND = 1e-3


def tiny_net(activation, b1, dtype=np.float32):
    net = MLP([2, 2, 2], activation=activation, dtype=dtype)
    net.set_params([W1, W2], [b1, [0.0, 0.0]])
    return net


def test_1_perceptron_score_and_update():
    p = Perceptron(w=[0.6, -0.4], b=-0.1, lr=0.1)
    close(p.score(X), 0.3)
    assert p.predict(X) == 1
    update = p.update(X, 0)
    close(update.w_new, [0.5, -0.45])
    close(update.b_new, -0.2)
    close(p.score(X), 0.075)
    assert update.error == -1 and update.y_hat == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_2_relu_softmax_forward(dtype):
    net = tiny_net("relu", [0.1, -0.1], dtype)
    run = net.run(np.array([X]))
    y_hat = run.output
    close(run.zs[0][0], [0.75, -0.1])
    close(run.activations[1][0], [0.75, 0.0])
    close(run.zs[1][0], [0.375, 0.15])
    close(y_hat[0], [0.556, 0.444])
    assert y_hat.dtype == dtype


def test_2_forward_via_trace():
    t = trace_step(tiny_net("relu", [0.1, -0.1]), X, 0, lr=0.1)
    close(t.layers[0].z, [0.75, -0.1])
    close(t.layers[0].a, [0.75, 0.0])
    close(t.layers[1].z, [0.375, 0.15])
    close(t.y_hat, [0.556, 0.444])


def test_3_sigmoid_and_derivative():
    z = np.array([-2, 0, 0.75, 3])
    close(sigmoid(z), [0.119, 0.5, 0.679, 0.953])
    close(sigmoid_prime(z), [0.105, 0.25, 0.218, 0.045])


def test_4_softmax():
    close(softmax([2, 1, 0.1]), [0.659, 0.242, 0.099])


def test_5_mse_and_cross_entropy():
    y = [0, 1, 0]
    close(mse([0.1, 0.7, 0.2], y), 0.0467)
    close(cross_entropy([0.1, 0.7, 0.2], y), 0.357)
    close(mse([0.1, 0.1, 0.8], y), 0.487)
    close(cross_entropy([0.1, 0.1, 0.8], y), 2.303)


def test_6_sigmoid_backprop_step():
    t = trace_step(tiny_net("sigmoid", [0.0, 0.0]), X, 0, lr=0.5)
    hidden, out = t.layers
    close(hidden.z, [0.65, 0.0])
    close(hidden.a, [0.657, 0.5])
    close(out.z, [0.179, 0.431])
    close(t.y_hat, [0.438, 0.562], atol=ROUNDED_BY_HAND)
    close(out.delta, [-0.562, 0.562], atol=ROUNDED_BY_HAND)
    close(out.dW, [[-0.369, -0.281], [0.369, 0.281]], atol=ROUNDED_BY_HAND)
    close(t.y_hat, [0.4371, 0.5629], atol=5e-5)
    close(hidden.delta, [-0.038, 0.127])
    close(out.W_new, [[0.685, -0.159], [0.015, 0.459]])
    close(hidden.back * hidden.f_prime, hidden.delta)      # δ1 = (W2ᵀ δ2) ⊙ σ'(z1)
    assert t.new_loss < t.loss                              # the step helped


def test_6_trace_leaves_the_callers_network_alone():
    net = tiny_net("sigmoid", [0.0, 0.0])
    trace_step(net, X, 0, lr=0.5)
    close(net.weights[1], W2)


def test_7_adam_two_steps():
    theta = [np.array([5.0])]
    opt = Adam(lr=0.1)
    opt.step(theta, [np.array([2.0])])
    close(theta[0], [4.9])
    opt.step(theta, [np.array([1.5])])
    close(theta[0], [4.802])
