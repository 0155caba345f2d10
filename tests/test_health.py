"""Training-health numbers in the trainer's snapshot: the update-to-data ratio and the initial weight histograms."""
import numpy as np
import pytest

from runs import sample_slice, small, wait_for

from core.network import MLP
from lab.live import LiveRun
from lab.trainer import Trainer, update_ratios


@pytest.fixture(scope="module")
def data():
    return sample_slice()


def test_update_ratio_is_the_norm_of_the_change_over_the_norm_of_the_weights():
    W = np.array([[3.0, 0.0], [0.0, 4.0]])                   # ‖W‖ = 5
    step = np.array([[0.03, 0.0], [0.0, 0.04]])              # ‖ΔW‖ = 0.05
    assert update_ratios([W + step], [W])[0] == pytest.approx(0.05 / 5)
    assert np.isnan(update_ratios([W], [np.zeros((2, 2))])[0])


def test_plain_sgd_records_eta_times_the_gradient_norm_over_the_weight_norm(data):
    lr = 0.05
    trainer = Trainer(small(optimizer="sgd", lr=lr), data, slots=None, record_every=0.0)
    snap = trainer.run()
    assert snap.update_ratio.shape == snap.grad_scale.shape == (len(snap.record_steps), 2)
    assert np.isfinite(snap.update_ratio).all()
    final = trainer.model().weights
    sizes = [W.size for W in final]
    # the last record is of the last step: ‖η dW‖ = η · RMS · √size, and the weights are the final ones
    expected = [lr * snap.grad_scale[-1, l] * np.sqrt(sizes[l]) / np.linalg.norm(final[l]) for l in range(2)]
    np.testing.assert_allclose(snap.update_ratio[-1], expected, rtol=1e-3)


def test_a_larger_learning_rate_gives_a_larger_update_ratio(data):
    slow = Trainer(small(optimizer="sgd", lr=0.001, epochs=1), data, slots=None, record_every=0.0).run()
    fast = Trainer(small(optimizer="sgd", lr=0.1, epochs=1), data, slots=None, record_every=0.0).run()
    assert np.median(fast.update_ratio[:, 0]) > 30 * np.median(slow.update_ratio[:, 0])


def test_initial_weight_histograms_are_those_of_the_network_before_training(data):
    snap = Trainer(small(epochs=1), data, slots=None, record_every=0.0).run()
    initial = MLP([784, 32, 10], activation="relu", init="he", seed=0).weights
    for (counts, edges), W in zip(snap.weight_hist_init, initial):
        assert counts.sum() == W.size
        assert edges[0] == pytest.approx(W.min()) and edges[-1] == pytest.approx(W.max())
    now_counts, now_edges = snap.latest["weight_hist"][0]
    assert not np.allclose(now_edges, snap.weight_hist_init[0][1])      # training moved the weights


def test_a_live_run_reports_the_update_ratio_too(data):
    run = LiveRun(small(epochs=1), data, slots=None)
    run.start()
    assert wait_for(lambda: run.done, timeout=60)
    snap = run.snapshot()
    assert snap.update_ratio.shape == snap.grad_scale.shape and np.isfinite(snap.update_ratio).all()
    assert len(snap.weight_hist_init) == 2


def test_health_charts_draw_the_ratio_on_a_log_axis_with_the_guide_and_both_histograms(data):
    from pages.ui.health_charts import GUIDE, update_ratio_figure, weights_now_vs_init_figure

    snap = Trainer(small(epochs=1), data, slots=None, record_every=0.0).run()
    ratio = update_ratio_figure(snap, [784, 32, 10])
    assert ratio.layout.yaxis.type == "log" and len(ratio.data) == 3 and list(ratio.data[-1].y) == [GUIDE, GUIDE]
    np.testing.assert_allclose(ratio.data[0].y[-1], snap.update_ratio[-1, 0])
    hist = weights_now_vs_init_figure(snap, [784, 32, 10])
    assert [d.name.split(" ", 2)[-1] for d in hist.data] == ["now", "at init", "now", "at init"]


def test_explanations_quote_the_current_values(data):
    from lab.explain import chart_help, control_help

    snap = Trainer(small(epochs=1, lr=0.05), data, slots=None, record_every=0.0).run()
    charts = chart_help(snap)
    log_rms = np.log10(snap.grad_scale[-1, 0])
    assert f"layer 1: {log_rms:.3g}".replace("-", "−") in charts["gradient_heatmap"]
    assert f"{snap.evaluation['accuracy']:.1%}" in charts["confusion"]
    assert "Now 0.05 (momentum)" in control_help(snap.config)["lr"]
