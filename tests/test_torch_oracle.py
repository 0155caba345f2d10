"""PyTorch as an independent oracle for the lessons' network: BatchNorm (training and evaluation mode,
running statistics), gradients through Dropout with a fixed mask, clipping by global norm, and the
lessons' training step with Adam and AdamW. PyTorch is a test-only dependency (requirements-dev.txt);
without it these tests are skipped. Everything runs in float64, so agreement is to rounding."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.layers import BatchNorm, Dropout, Step  # noqa: E402
from core.network import MLP  # noqa: E402
from core.optim import Adam, AdamW, clip_by_global_norm  # noqa: E402

TIGHT = dict(rtol=1e-9, atol=1e-12)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def twin(net):
    """PyTorch's layers for a core MLP with batchnorm=True (float64, the core's current values)."""
    layers = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(t(W))
            linear.bias.copy_(t(b))
        norm = None
        if l < len(net.weights) - 1:
            norm = torch.nn.BatchNorm1d(W.shape[0], eps=1e-5, momentum=0.1, dtype=torch.float64)
            core = net.norms[l]
            with torch.no_grad():
                for name, value in (("weight", core.gamma), ("bias", core.beta),
                                    ("running_mean", core.running_mean), ("running_var", core.running_var)):
                    getattr(norm, name).copy_(t(value))
        layers.append((linear, norm))
    return layers


def twin_params(layers):
    """In the order of MLP.params: W, b, γ, β of each hidden layer, then W, b of the output layer."""
    return [p for linear, norm in layers for p in ([linear.weight, linear.bias]
                                                    + ([norm.weight, norm.bias] if norm else []))]


def twin_forward(layers, X, scaled_masks, train=True):
    """Linear → BatchNorm → ReLU → (× m/(1 − p)) per hidden layer, then the output Linear (the logits)."""
    a = t(X)
    for l, (linear, norm) in enumerate(layers):
        a = linear(a)
        if norm is not None:
            norm.train(train)
            a = torch.relu(norm(a))
            if train:
                a = a * t(scaled_masks[l])
    return a


def test_batchnorm_matches_pytorchs_in_training_and_evaluation_mode_with_its_running_statistics():
    rng = np.random.default_rng(0)
    n = 5
    bn = BatchNorm(n, dtype=np.float64)
    bn.gamma[...] = rng.normal(size=n)
    bn.beta[...] = rng.normal(size=n)
    ref = torch.nn.BatchNorm1d(n, dtype=torch.float64)          # ε = 1e-5, momentum 0.1: its defaults
    with torch.no_grad():
        ref.weight.copy_(t(bn.gamma))
        ref.bias.copy_(t(bn.beta))
    ref.train()
    for step in range(4):                                        # batches of different sizes and scales
        x = rng.normal(loc=step, scale=1 + step, size=(6 + 3 * step, n))
        delta = rng.normal(size=x.shape)
        y, state = bn.forward(x, train=True)
        dx, (dgamma, dbeta) = bn.backward(Step(x, y, state), delta)
        bn.update_running(state)
        tx = t(x).requires_grad_(True)
        ty = ref(tx)
        ty.backward(t(delta))
        np.testing.assert_allclose(y, ty.detach().numpy(), **TIGHT)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(dgamma, ref.weight.grad.numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(dbeta, ref.bias.grad.numpy(), **TIGHT)
        np.testing.assert_allclose(bn.running_mean, ref.running_mean.numpy(), **TIGHT)
        np.testing.assert_allclose(bn.running_var, ref.running_var.numpy(), **TIGHT)
        ref.weight.grad = ref.bias.grad = None
    ref.eval()
    x = rng.normal(size=(3, n))
    delta = rng.normal(size=x.shape)
    y, state = bn.forward(x, train=False)
    dx, _ = bn.backward(Step(x, y, state), delta)
    tx = t(x).requires_grad_(True)
    ty = ref(tx)
    ty.backward(t(delta))
    np.testing.assert_allclose(y, ty.detach().numpy(), **TIGHT)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TIGHT)


def test_the_gradients_of_a_network_with_batchnorm_and_a_fixed_dropout_mask_match_pytorchs():
    rng = np.random.default_rng(1)
    net = MLP([7, 6, 6, 4], batchnorm=True, dropout=0.3, seed=3, dtype=np.float64)
    for layer in net.norms:                                      # γ, β away from 1, 0
        layer.gamma[...] = rng.normal(1, 0.3, size=layer.gamma.shape)
        layer.beta[...] = rng.normal(0, 0.3, size=layer.beta.shape)
    X, y = rng.normal(size=(9, 7)), rng.integers(0, 4, 9)
    masks = [rng.random((9, 6)) >= 0.3 for _ in net.dropouts]
    layers = twin(net)
    loss, grads = net.loss_and_grads(X, y, masks=masks)
    scaled = [m / (1 - 0.3) for m in masks]
    ref_loss = torch.nn.functional.cross_entropy(twin_forward(layers, X, scaled), t(y))
    ref_loss.backward()
    assert loss == pytest.approx(ref_loss.item(), rel=1e-12)
    ours = [g for pair in grads for g in pair]
    theirs = [p.grad.numpy() for p in twin_params(layers)]
    assert len(ours) == len(theirs) == 10
    for g, ref in zip(ours, theirs):
        np.testing.assert_allclose(g, ref, rtol=1e-8, atol=1e-12)


def test_clip_by_global_norm_matches_pytorchs_clip_grad_norm():
    rng = np.random.default_rng(2)
    shapes = [(8, 5), (8,), (3, 8), (3,)]
    for scale, max_norm in ((3.0, 1.0), (0.05, 1.0), (1.0, 0.25)):
        grads = [rng.normal(scale=scale, size=s) for s in shapes]
        grads[0] = np.asfortranarray(grads[0])                   # the core stores W (and dW) column-major
        params = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
        for p, g in zip(params, grads):
            p.grad = t(g).clone()
        ref_norm = torch.nn.utils.clip_grad_norm_(params, max_norm).item()
        before, after = clip_by_global_norm(grads, max_norm)
        assert before == pytest.approx(ref_norm, rel=1e-12)
        assert after == pytest.approx(min(before, max_norm), rel=1e-12)
        for g, p in zip(grads, params):                          # PyTorch divides by ‖g‖ + 1e-6, we by ‖g‖
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-6 / max_norm, atol=0)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_two_training_steps_of_the_lessons_network_match_pytorchs(name):
    """784→256→256→10, BatchNorm, Dropout(0.3), clip 1.0, η = 1e-3 (AdamW: decoupled weight decay 1e-4, on
    every parameter as torch.optim.AdamW does): the loss, the norm before clipping, every parameter and the
    running statistics after each step. PyTorch uses the masks the core drew (read from the core's Pass)."""
    rng = np.random.default_rng(4)
    net = MLP([784, 256, 256, 10], batchnorm=True, dropout=0.3, seed=5, dtype=np.float64)
    layers = twin(net)
    params = twin_params(layers)
    decay = 1e-4 if name == "adamw" else 0.0
    opt = AdamW(1e-3, weight_decay=decay) if name == "adamw" else Adam(1e-3)
    ref_opt = (torch.optim.AdamW(params, lr=1e-3, weight_decay=decay) if name == "adamw"
               else torch.optim.Adam(params, lr=1e-3))
    for lr in (1e-3, 7e-4):                                      # a schedule's η passed to each step
        X, y = rng.random((32, 784)), rng.integers(0, 10, 32)
        extra = {"weight_decay": decay} if name == "adamw" else {}
        learned = net.learn(X, y, opt, lr=lr, clip=1.0, l2=0.0, **extra)
        scaled = [s.state.copy() for s, layer in zip(learned.pass_.steps, net.layers) if isinstance(layer, Dropout)]
        for group in ref_opt.param_groups:
            group["lr"] = lr
        ref_opt.zero_grad()
        ref_loss = torch.nn.functional.cross_entropy(twin_forward(layers, X, scaled), t(y))
        ref_loss.backward()
        ref_norm = torch.nn.utils.clip_grad_norm_(params, 1.0).item()
        ref_opt.step()
        assert learned.loss == pytest.approx(ref_loss.item(), rel=1e-12)
        assert learned.grad_norm[0] == pytest.approx(ref_norm, rel=1e-10)
        assert ref_norm > 1.0                                    # clipping took part in the step
        for ours, theirs in zip(net.params, params):
            np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-7, atol=1e-9)
        for core, (_, norm) in zip(net.norms, layers):
            np.testing.assert_allclose(core.running_mean, norm.running_mean.numpy(), **TIGHT)
            np.testing.assert_allclose(core.running_var, norm.running_var.numpy(), **TIGHT)
    X = rng.random((5, 784))                                     # evaluation mode: running statistics, no dropout
    with torch.no_grad():
        ref_P = torch.softmax(twin_forward(layers, X, None, train=False), dim=1).numpy()
    np.testing.assert_allclose(net.forward(X), ref_P, rtol=1e-9, atol=1e-12)
