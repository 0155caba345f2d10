"""The Train page's live feed (pages/ui/live_feed.py): what the browser's panel fetches while a run is live."""
import gc
import json
import re
from dataclasses import replace

import numpy as np
import pytest
from starlette.requests import Request

from lab.trainer import Trainer
from pages.ui import live_feed
from pages.ui.live_feed import FEED_PATH, panel_html, panel_state, serve, token
from runs import sample_slice, small


class Run:
    """What the feed reads of a LiveRun: snapshot() and paused (here from a Trainer run in this process)."""

    def __init__(self, snap, paused=False, data=None):
        self.snap, self.paused, self.data = snap, paused, data

    def snapshot(self, last=None):
        return self.snap


@pytest.fixture(scope="module")
def data():
    return sample_slice()


@pytest.fixture(scope="module")
def trained(data):
    trainer = Trainer(small(epochs=1, lr=0.05), data, slots=None)
    trainer.run()
    return trainer.snapshot()


def get(path, query=""):
    """serve() answering GET path?query, as Starlette calls it."""
    token_ = path.rsplit("/", 1)[1]
    request = Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(),
                       "headers": [], "path_params": {"token": token_}})
    return serve(request)


def test_a_run_keeps_one_unguessable_token_and_two_runs_get_different_ones(trained):
    a, b = Run(trained), Run(trained)
    assert token(a) == token(a) != token(b)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token(a))            # 16 random bytes, URL-safe


def test_the_feed_serves_a_run_by_its_token_and_nothing_for_an_unknown_or_forgotten_one(trained):
    run = Run(trained)
    answer = get(f"{FEED_PATH}/{token(run)}")
    body = json.loads(answer.body)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert body["phase"] == "ended" and body["paused"] is False
    assert "finished" in body["status"] and "loss" not in body           # the curves only when asked
    assert get(f"{FEED_PATH}/not-a-token").status_code == 404
    old = token(run)
    del run
    gc.collect()
    assert get(f"{FEED_PATH}/{old}").status_code == 404                  # a run that is gone is not kept alive


def test_the_curves_come_as_svg_when_asked(trained):
    run = Run(trained)
    body = json.loads(get(f"{FEED_PATH}/{token(run)}", "curves=1").body)
    for name in ("loss", "accuracy"):
        assert body[name].startswith("<svg") and 'role="img"' in body[name]
        assert f'aria-label="{name.title()}' in body[name]


def test_the_status_and_numbers_read_back_from_the_panel_are_the_runs_own(trained):
    text, numbers = panel_state(panel_html(Run(trained), trained))
    assert text == f"finished — epoch 1/1, batch {trained.batches_per_epoch}/{trained.batches_per_epoch} · η = 0.05"
    assert numbers["Loss (smoothed)"] == f"{trained.loss_now:.4f}"
    assert numbers["Test acc."] == f"{100 * trained.evaluation['accuracy']:.1f}%"
    assert numbers["Validation acc."] == f"{100 * trained.epochs_log[-1]['val_acc']:.1f}%"
    assert list(numbers) == ["Loss (smoothed)", "Batch accuracy", "Validation acc.", "Test acc.", "Samples / s",
                             "Elapsed"]


def test_the_batch_accuracy_over_the_last_batches_equals_the_average_over_all_of_them(trained):
    """EMA_TAIL keeps a request O(1); the digits shown are those of the full moving average."""
    rng = np.random.default_rng(0)
    accs = rng.uniform(0, 1, 5000)
    snap = replace(trained, batch_accs=accs)
    full = live_feed.smooth(accs)[-1]
    assert dict((k, v) for k, v, _ in live_feed.numbers(snap))["Batch accuracy"] == f"{100 * full:.1f}%"


def test_text_in_the_panel_is_escaped_and_only_markdown_bold_becomes_html():
    assert live_feed._bold("**paused** — <script>x</script> & more") == \
        "<b>paused</b> — &lt;script&gt;x&lt;/script&gt; &amp; more"


def test_the_panel_asks_the_feed_of_its_own_run_and_knows_the_page_s_hidden_buttons(trained):
    run = Run(trained)
    body = panel_html(run, trained)
    assert f'data-feed="{FEED_PATH}/{token(run)}"' in body and 'data-phase="ended"' in body
    script = body[body.index("<script>"):]
    for name in ("POLL_MS", "CURVES_MS", "SYNC_KEY", "STEER_KEY", "PAUSE_KEY"):     # all filled in
        assert name not in script
    assert f".st-key-{live_feed.SYNC_KEY} button" in script and f".st-key-{live_feed.PAUSE_KEY} button" in script


def test_app_py_serves_the_feed_beside_the_pages():
    import app
    assert any(getattr(r, "path", None) == FEED_PATH + "/{token}" for r in app.app._user_routes)


def test_the_views_inside_the_network_come_as_rows_of_svg_with_the_chosen_neuron_large(trained, data):
    run = Run(replace(trained, config=replace(trained.config, dropout=0.2)), data=data)
    body = json.loads(get(f"{FEED_PATH}/{token(run)}", "inside=1&neuron=3").body)
    charts = re.findall(r'<svg[^>]*aria-label="([^"]*)"', body["inside"])
    assert len(charts) == 9 and "Neuron 3, enlarged" in " ".join(charts)
    assert "Dropout p = 0.2 acts only while training" in body["inside"]
    assert "<li><b>Gradient size per layer</b>:" in body["explain"]
    assert "loss" not in body                                         # the curves come with their own requests
