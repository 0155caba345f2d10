"""The Train page's live feed (pages/ui/live_feed.py): what the browser's panel fetches while a run is live."""
import gc
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from starlette.requests import Request

from lab.live import LiveRun
from lab.trainer import Trainer
from pages.ui import live_feed
from pages.ui import train_session as session
from pages.ui.live_feed import FEED_PATH, panel_html, panel_state, serve, token
from runs import sample_slice, small, wait_for


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


def get(path, query="", method="GET"):
    """serve() answering GET (or POST) path?query, as Starlette calls it."""
    token_ = path.rsplit("/", 1)[1]
    request = Request({"type": "http", "method": method, "path": path, "query_string": query.encode(),
                       "headers": [], "path_params": {"token": token_}})
    return serve(request)


def post(run, query):
    """(HTTP status, answer) of a POST to the run's feed, as the panel's script sends it."""
    answer = get(f"{FEED_PATH}/{token(run)}", query, method="POST")
    return answer.status_code, json.loads(answer.body)


def test_a_run_keeps_one_unguessable_token_and_two_runs_get_different_ones(trained):
    a, b = Run(trained), Run(trained)
    assert token(a) == token(a) != token(b)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token(a))            # 16 random bytes, URL-safe


def test_the_feed_serves_a_run_by_its_token_and_nothing_for_an_unknown_or_forgotten_one(trained):
    run = Run(trained)
    answer = get(f"{FEED_PATH}/{token(run)}")
    body = json.loads(answer.body)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert body["phase"] == "ended" and body["paused"] is False and body["lr"] == 0.05    # the η the run was set
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
    for name in ("POLL_MS", "CURVES_MS", "SYNC_KEY", "STEER_KEY", "PAUSE_KEY", "RESUME_KEY", "LR_KEY"):  # all filled in
        assert name not in script
    assert f".st-key-{live_feed.SYNC_KEY} button" in script and f".st-key-{live_feed.PAUSE_KEY} button" in script
    assert f".st-key-{live_feed.RESUME_KEY} button" in script
    assert f".st-key-{live_feed.LR_KEY} input[type=range]" in script     # the η slider the page draws (its key)


def test_the_panel_steers_the_widgets_the_train_page_draws():
    """The script finds the η slider, Pause and Resume by their keys: the page must give them those keys."""
    source = Path("pages/train_mnist.py").read_text()
    assert "key=live_feed.PAUSE_KEY" in source and "key=live_feed.RESUME_KEY" in source
    assert live_feed.LR_KEY == session.K + "lr" and 'key=K + "lr"' in source


@pytest.fixture
def live(data):
    """A real run in a worker process, at 20 batches/s for a long while: it is surely live while a test steers it."""
    run = LiveRun(small(epochs=500), data, slots=None, speed=20)
    run.start()
    assert wait_for(lambda: run.snapshot().step > 0)
    yield run
    run.stop(wait=True)


def test_a_post_sets_the_runs_eta_and_the_answer_already_quotes_the_workers_report_of_it(live):
    status, body = post(live, "lr=0.02")
    assert status == 200 and body["phase"] == "live"
    assert "η = 0.02" in body["status"]                    # settled: the worker itself reports the new η
    snap = live.snapshot()
    assert snap.config.lr == snap.lr_now == 0.02 and snap.lr_marks[-1][1] == 0.02
    marks = len(snap.lr_marks)
    assert post(live, "lr=0.02")[0] == 200                # the same η again (the page's own rerun may also send
    assert len(live.snapshot().lr_marks) == marks          # it): no second mark on the loss curve


def test_a_post_pauses_and_resumes_the_run_and_an_eta_sent_while_paused_shows_at_once(live):
    status, body = post(live, "do=pause")
    assert status == 200 and body["paused"] is True and "<b>paused</b>" in body["status"]
    step = live.snapshot().step
    status, body = post(live, "lr=0.5")
    assert "<b>paused</b>" in body["status"] and "η = 0.5" in body["status"]
    time.sleep(0.3)
    assert live.snapshot().step == step                     # still paused: no step taken meanwhile
    status, body = post(live, "lr=0.2&do=resume")
    assert body["paused"] is False and "<b>running</b>" in body["status"] and "η = 0.2" in body["status"]
    assert wait_for(lambda: live.snapshot().step > step)


@pytest.mark.parametrize("query, words", [("lr=abc", "lr must be a number"), ("lr=nan", "lr"), ("lr=-1", "lr"),
                                          ("lr=1e999", "lr"), ("do=explode", "do must be pause or resume")])
def test_a_post_the_page_never_sends_gets_a_400_that_says_why_and_changes_nothing(live, query, words):
    before = live.snapshot().config.lr
    status, body = post(live, query)
    assert status == 400 and words in body["error"]
    assert live.snapshot().config.lr == before and not live.paused


def test_a_post_to_an_ended_run_changes_nothing_and_to_an_unknown_one_finds_nothing(live):
    live.stop(wait=True)
    status, body = post(live, "lr=0.3&do=resume")
    assert status == 200 and body["phase"] == "ended" and live.snapshot().config.lr == 0.1
    assert get(f"{FEED_PATH}/not-a-token", "lr=0.3", method="POST").status_code == 404


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
