"""Serving a class from more than one process: deploy/ checked as far as this machine can, and run for real.

The Dockerfile cannot be built here (no Docker), so its checks are what can be read: the files it
copies exist, its command is the README's, its health check probes the endpoint HAProxy and the
local script probe. The replicas run for real: deploy/replicas.py starts two app processes behind
Debian's HAProxy, and simulated learners (deploy/learner.py: Streamlit's own websocket protocol)
use them with and without the affinity cookie.
"""
import asyncio
import json
import re
import shlex
import time
from pathlib import Path

import pytest

from deploy import replicas
from deploy.learner import Learner, LearnerError



def run_async(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API (the browser tests earlier in the same
    pytest process) leaves an event loop running in the main thread, where asyncio.run refuses to start."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
needs_haproxy = pytest.mark.skipif(replicas.haproxy_binary() is None, reason="needs Debian's haproxy (.ci/run installs it)")
PHOTO_LABEL = "Photo or scan of one handwritten digit"


def dockerfile_instructions():
    """[(INSTRUCTION, arguments)] of deploy/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    return [tuple(line.split(None, 1)) for line in text.splitlines() if line.strip() and not line.startswith("#")]


def load_yaml(path):
    yaml = pytest.importorskip("yaml")
    return list(yaml.safe_load_all(path.read_text()))


# ---- what can be checked without building -----------------------------------------------------

def test_every_file_the_dockerfile_copies_exists_in_the_repository():
    sources = [args.split()[:-1] for op, args in dockerfile_instructions() if op == "COPY"]
    assert sources, "the Dockerfile copies nothing"
    for paths in sources:
        for path in paths:
            assert (REPO / path).exists(), f"COPY {path}: not in the repository"
    copied = {p.rstrip("/") for paths in sources for p in paths}
    # Everything app.py imports or reads at run time: the bundled sample and default model make it run offline.
    assert {"app.py", ".streamlit", "core", "lab", "pages", "assets", "requirements.txt"} <= copied


def test_the_container_command_is_the_readme_command_with_the_local_scripts_options():
    (cmd,) = [json.loads(args) for op, args in dockerfile_instructions() if op == "CMD"]
    assert cmd[:3] == ["streamlit", "run", "app.py"]
    assert "\nstreamlit run app.py\n" in (REPO / "README.md").read_text()
    local = replicas.app_command(port=8501, address="0.0.0.0")
    assert local[local.index("run"):] == cmd[1:]          # same options as the replicas the tests run


def test_the_container_runs_as_a_user_without_privileges():
    users = [args.strip() for op, args in dockerfile_instructions() if op == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_every_health_probe_asks_the_endpoint_the_local_script_waits_for():
    (check,) = [args for op, args in dockerfile_instructions() if op == "HEALTHCHECK"]
    assert f"127.0.0.1:8501{replicas.HEALTH}" in check
    assert f"option httpchk GET {replicas.HEALTH}" in (DEPLOY / "haproxy.cfg").read_text()
    (deployment, _, _) = load_yaml(DEPLOY / "kubernetes" / "backprop-lab.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == replicas.HEALTH


def test_the_compose_files_haproxy_config_is_the_one_the_local_script_writes():
    assert (DEPLOY / "haproxy.cfg").read_text() == replicas.compose_haproxy_config()
    (compose,) = load_yaml(DEPLOY / "compose.yaml")
    apps = sorted(name for name in compose["services"] if name.startswith("app"))
    assert apps == [f"app{i}" for i in range(1, replicas.COMPOSE_REPLICAS + 1)]
    for name in apps:
        assert compose["services"][name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in compose["services"]["haproxy"]["volumes"]


def test_the_balancer_pins_by_cookie_and_keeps_idle_websockets_open():
    config = replicas.haproxy_config([("app1", "127.0.0.1:1"), ("app2", "127.0.0.1:2")], "127.0.0.1:3")
    assert f"cookie {replicas.COOKIE} insert" in config
    assert "balance source" not in config                 # by IP would send a whole school to one replica
    assert re.search(r"timeout tunnel\s+1h", config)
    plain = replicas.haproxy_config([("app1", "127.0.0.1:1")], "127.0.0.1:3", sticky=False)
    assert "cookie" not in plain


def test_the_ingress_pins_learners_to_a_pod_by_cookie():
    (_, service, ingress) = load_yaml(DEPLOY / "kubernetes" / "backprop-lab.yaml")
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]


def test_a_learner_drops_its_fragment_timers_when_a_whole_page_run_starts_as_the_browser_does():
    """The browser clears every fragment timer when a whole-page run starts (its App's cleanupAutoReruns) and
    restarts those the run asks for again. A learner that kept them asked for reruns of fragments that no
    longer refresh (after Stop), which cut every whole-page run short: Stop seemed to take 2–38 s."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    async def scenario():
        learner = Learner("http://127.0.0.1:9")
        tick = ForwardMsg()
        tick.auto_rerun.interval, tick.auto_rerun.fragment_id = 0.5, "status"
        learner._receive(tick)
        timer = learner._tickers["status"]
        start = ForwardMsg()
        start.new_session.initialize.session_id = "the same session, a new whole-page run"
        learner._receive(start)
        await asyncio.sleep(0.01)
        left = dict(learner._tickers)
        learner._receive(tick)                                # the new run asks for it again: it ticks again
        again = dict(learner._tickers)
        for task in again.values():
            task.cancel()
        return timer, left, again

    timer, left, again = run_async(scenario())
    assert timer.done() and left == {} and list(again) == ["status"]


def test_no_replicas_gets_a_clear_message():
    with pytest.raises(ValueError, match="at least one replica"):
        replicas.start(0)


# ---- two replicas behind the local HAProxy, for real --------------------------------------------

@pytest.fixture(scope="module")
def sticky():
    if replicas.haproxy_binary() is None:
        pytest.skip("needs Debian's haproxy (.ci/run installs it)")
    with replicas.start(2) as cluster:
        yield cluster


def photo():
    from benchmarks.bench_capacity import digit_photo
    return digit_photo()


async def learner_with_an_upload(url):
    """A learner who opens the app, goes to the Draw page and uploads a digit photo there."""
    learner = Learner(url, timeout=45)
    await learner.open()
    await learner.go_to("Draw a digit")
    await learner.choose("Digit from", "Upload a photo")
    await learner.upload(PHOTO_LABEL, "seven.png", photo(), "image/png")
    return learner


def shows_the_photo(learner):
    return learner.shows("seven.png")          # the Draw page's caption names the uploaded file


@needs_haproxy
def test_a_small_class_plays_the_whole_lesson_through_the_balancer(sticky):
    from benchmarks.bench_capacity import one_class
    pids = [r.process.pid for r in sticky.replicas]
    result = run_async(one_class(sticky.url, pids, n=2, watch=2.0, stagger=0.3, seed=0))
    record = result["record"]
    assert record["errors"] == []
    counts = [len(record[kind]) for kind in ("interaction", "action", "page", "queue")]
    assert counts == [2 * 5, 2 * 3, 2 * 4, 2]              # every learner played the whole lesson
    assert all(0 < t < 45 for t in record["interaction"] + record["action"] + record["page"])


@needs_haproxy
def test_learners_stay_on_their_replica_and_their_uploads_reach_it(sticky):
    async def scenario():
        learners = [await learner_with_an_upload(sticky.url) for _ in range(4)]
        homes = [learner.cookie(replicas.COOKIE) for learner in learners]
        sessions = [learner.session_id for learner in learners]
        for learner in learners:                         # the session goes on where it was
            await learner.set_slider("Stroke width", 30)
        shown = [shows_the_photo(learner) for learner in learners]
        after = [(learner.cookie(replicas.COOKIE), learner.session_id) for learner in learners]
        errors = [e for learner in learners for e in learner.errors]
        for learner in learners:
            await learner.close()
        return homes, sessions, shown, after, errors

    homes, sessions, shown, after, errors = run_async(scenario())
    assert set(homes) == {"app1", "app2"}                # new learners are spread over both replicas
    assert shown == [True] * 4
    assert after == list(zip(homes, sessions))
    assert errors == []


@needs_haproxy
def test_without_the_cookie_uploads_reach_a_process_that_does_not_know_the_session():
    with replicas.start(2, sticky=False) as cluster:
        async def scenario():
            outcomes = []
            for _ in range(4):
                try:
                    learner = await learner_with_an_upload(cluster.url)
                    outcomes.append("ok" if shows_the_photo(learner) else "not shown")
                    await learner.close()
                except LearnerError as e:
                    outcomes.append(str(e))
            return outcomes

        outcomes = run_async(scenario())
    assert any(o.startswith("the upload was refused with HTTP 400") and "session" in o for o in outcomes), outcomes


@needs_haproxy
def test_killing_a_replica_leaves_the_other_replicas_learners_alone():
    with replicas.start(2) as cluster:
        async def scenario():
            learners = [await learner_with_an_upload(cluster.url) for _ in range(4)]
            by_home = {}
            for learner in learners:
                by_home.setdefault(learner.cookie(replicas.COOKIE), []).append(learner)
            assert set(by_home) == {"app1", "app2"}
            survivors_before = [learner.session_id for learner in by_home["app2"]]
            cluster.kill("app1")
            t0 = time.monotonic()
            while any(learner.connected for learner in by_home["app1"]) and time.monotonic() - t0 < 15:
                await asyncio.sleep(0.1)
            noticed = time.monotonic() - t0
            dropped = [learner.connected for learner in by_home["app1"]]
            for learner in by_home["app2"]:                  # the others carry on in the same session
                await learner.set_slider("Stroke width", 12)
            survivors = [(learner.session_id, shows_the_photo(learner), learner.errors) for learner in by_home["app2"]]
            old = [learner.session_id for learner in by_home["app1"]]
            for learner in by_home["app1"]:                  # the browser reconnects through the balancer
                await learner.reconnect()
            moved = [(learner.cookie(replicas.COOKIE), learner.session_id, learner.pages != {})
                     for learner in by_home["app1"]]
            for learner in learners:
                await learner.close()
            return noticed, dropped, survivors_before, survivors, old, moved

        noticed, dropped, survivors_before, survivors, old, moved = run_async(scenario())
    assert dropped == [False] * len(dropped) and noticed < 5        # a closed connection at once, not a hang
    assert [s[0] for s in survivors] == survivors_before
    assert all(shown and errors == [] for _, shown, errors in survivors)
    for (home, session, has_pages), before in zip(moved, old):
        assert home == "app2" and session != before and has_pages   # a fresh session on the live replica


def test_the_readmes_replica_commands_are_ones_the_local_script_accepts():
    commands = [shlex.split(line)[3:] for line in (REPO / "README.md").read_text().splitlines()
                if line.startswith("python -m deploy.replicas")]
    assert commands, "the README does not say how to start replicas"
    for argv in commands:
        replicas.command_line().parse_args(argv)          # argparse exits (SystemExit) on a wrong option
