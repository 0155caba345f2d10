"""K replicas of the app behind HAProxy on one machine, without Docker: `python -m deploy.replicas -k 3`.

    learners ──▶ HAProxy :PORT ──cookie lab_replica=app2──▶ streamlit run app.py (replica 2, its own port)
                               ──cookie lab_replica=app1──▶ streamlit run app.py (replica 1)
                               ...

Why a cookie: Streamlit keeps each session (its widgets, its uploads, its live run) in the memory of
the process that serves it; the websocket, the uploads (PUT /_stcore/upload_file/<session>/…) and a
reconnection must all reach that process. In a school every learner shares one public IP address,
so affinity by IP would send the whole class to one replica: HAProxy inserts a cookie on the first
answer instead, and routes by it. When a replica dies, its learners are sent to another replica
(`option redispatch`), where the browser reconnects and gets a fresh session.

The same configuration text (haproxy_config) serves deploy/haproxy.cfg for the compose file, with
the replicas' container names instead of local ports (regenerate it with
`python -m deploy.replicas --write-compose-config`). The tests use start() and Cluster.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEALTH = "/_stcore/health"           # Streamlit's health endpoint: HAProxy, Docker and Kubernetes probe it
COOKIE = "lab_replica"               # the affinity cookie HAProxy sets (its value names the replica)
START_TIMEOUT = 60.0                 # seconds for a replica to answer its health check (imports take ~3 s idle,
                                     # ~15 s with four busy neighbours on 2 cores)
# How long an idle websocket may stay open through HAProxy. A learner reads a lesson for many minutes
# without a message on the socket (Streamlit sends no keep-alive of its own while nothing changes);
# HAProxy's default would cut it and the page would flash "Connecting". One hour covers a lesson.
TUNNEL_TIMEOUT = "1h"


def app_command(port, address="127.0.0.1", allowed_hosts=()):
    """The command that serves the app: the README's `streamlit run app.py`, with the replica's port.

    allowed_hosts: the host names learners type, when they are not this computer's (they replace the
    list in .streamlit/config.toml; the app refuses a websocket with any other Host header).
    """
    hosts = [option for host in allowed_hosts for option in ("--server.allowedHosts", host)]
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", address, "--server.port", str(port),
            "--server.headless", "true", "--server.fileWatcherType", "none"] + hosts


def haproxy_config(servers, bind, sticky=True):
    """HAProxy's configuration: `servers` is [(name, "host:port")], `bind` the "address:port" learners use.

    sticky=False leaves out the affinity cookie (plain round robin): only for the test that shows why
    it is needed.
    """
    affinity = f"    cookie {COOKIE} insert indirect nocache httponly\n" if sticky else ""
    lines = "".join(f"    server {name} {address} check inter 2s fall 3 rise 2"
                    + (f" cookie {name}" if sticky else "") + "\n" for name, address in servers)
    return f"""\
# HAProxy in front of the app's replicas: written by haproxy_config() in deploy/replicas.py (see its docstring).
global
    maxconn 4096

defaults
    mode http
    option redispatch                 # a dead replica's learners go to a live one (and start a fresh session)
    retries 2
    timeout connect 5s
    timeout http-request 30s
    timeout client 1h
    timeout server 1h
    timeout tunnel {TUNNEL_TIMEOUT}                 # the websocket, once upgraded
    timeout client-fin 10s
    # A replica busy with a class answers its health check late (seen: 2-4 s with 20 learners on 2 busy
    # cores); declared down, its learners' uploads and reconnections went to another replica, which does
    # not hold their sessions (HTTP 400/503). A dead replica refuses connections at once: those requests
    # are redispatched whatever the check says.
    timeout check 5s

frontend learners
    bind {bind}
    default_backend app

backend app
    balance roundrobin
{affinity}    default-server init-addr last,libc,none  # start even while a replica's name does not resolve yet
    option httpchk GET {HEALTH}
    http-check expect status 200
{lines}"""


COMPOSE_CONFIG = REPO / "deploy" / "haproxy.cfg"
COMPOSE_REPLICAS = 3                 # services app1..app3 in deploy/compose.yaml


def compose_haproxy_config():
    """deploy/haproxy.cfg: the compose file's replicas by their service names, HAProxy on port 8080."""
    return haproxy_config([(f"app{i}", f"app{i}:8501") for i in range(1, COMPOSE_REPLICAS + 1)], "*:8080")


def haproxy_binary():
    """Debian's haproxy (in /usr/sbin, which a user's PATH may lack), or None when it is not installed."""
    found = shutil.which("haproxy")
    if found is None and os.access("/usr/sbin/haproxy", os.X_OK):
        found = "/usr/sbin/haproxy"
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url + HEALTH, timeout=timeout) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_healthy(url, process, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with code {process.returncode} before answering {HEALTH}")
        if healthy(url):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer {HEALTH} within {timeout:.0f} s")


def _spawn(command, log, env=None):
    """A process in a process group of its own, so stop() ends it with its children (training workers)."""
    return subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)


def _end(process, timeout=10.0):
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    """K replicas and HAProxy in front of them; `url` is where learners go."""
    url: str
    replicas: list
    haproxy: subprocess.Popen
    folder: str
    logs: list = field(default_factory=list)

    def replica(self, name):
        return next(r for r in self.replicas if r.name == name)

    def kill(self, name):
        """Kill one replica at once (SIGKILL to its process group), as a crash would."""
        process = self.replica(name).process
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self):
        for process in [self.haproxy] + [r.process for r in self.replicas]:
            _end(process)
        for log in self.logs:
            log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(k=2, port=None, address="127.0.0.1", sticky=True, env=None, allowed_hosts=()):
    """Start k replicas on free local ports and HAProxy on `port` (a free one if None); a Cluster.

    Everything started is stopped again if any part fails to come up.
    """
    if k < 1:
        raise ValueError(f"expected at least one replica, got k={k}")
    haproxy = haproxy_binary()
    if haproxy is None:
        raise FileNotFoundError("haproxy is not installed (Debian: apt-get install haproxy)")
    folder = tempfile.mkdtemp(prefix="backprop-lab-replicas-")
    cluster = Cluster(url="", replicas=[], haproxy=None, folder=folder)
    try:
        for i in range(1, k + 1):
            log = open(os.path.join(folder, f"app{i}.log"), "wb")
            cluster.logs.append(log)
            replica_port = free_port()
            process = _spawn(app_command(replica_port, allowed_hosts=allowed_hosts), log, env)
            cluster.replicas.append(Replica(f"app{i}", replica_port, process))
        for r in cluster.replicas:
            wait_healthy(r.url, r.process)
        port = port or free_port()
        config = os.path.join(folder, "haproxy.cfg")
        Path(config).write_text(haproxy_config([(r.name, f"127.0.0.1:{r.port}") for r in cluster.replicas],
                                               f"{address}:{port}", sticky))
        log = open(os.path.join(folder, "haproxy.log"), "wb")
        cluster.logs.append(log)
        cluster.haproxy = _spawn([haproxy, "-db", "-f", config], log)
        cluster.url = f"http://127.0.0.1:{port}"
        wait_healthy(cluster.url, cluster.haproxy, timeout=15.0)
        return cluster
    except BaseException:
        cluster.haproxy = cluster.haproxy or subprocess.Popen(["true"])
        cluster.stop()
        raise


def command_line():
    parser = argparse.ArgumentParser(description="Serve the app from K replicas behind HAProxy (no Docker).")
    parser.add_argument("-k", "--replicas", type=int, default=2, help="how many app processes (about one per core)")
    parser.add_argument("--port", type=int, default=8501, help="the port learners open")
    parser.add_argument("--address", default="127.0.0.1",
                        help="where HAProxy listens: 0.0.0.0 for the school's network (the replicas stay on 127.0.0.1)")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a host name learners type (repeat for several; add localhost to keep opening it here)")
    parser.add_argument("--write-compose-config", action="store_true",
                        help=f"write {COMPOSE_CONFIG.relative_to(REPO)} for compose.yaml's {COMPOSE_REPLICAS} replicas and exit")
    return parser


def main(argv=None):
    args = command_line().parse_args(argv)
    if args.write_compose_config:
        COMPOSE_CONFIG.write_text(compose_haproxy_config())
        return 0
    cluster = start(args.replicas, args.port, args.address, allowed_hosts=args.allowed_host)
    print(f"{args.replicas} replicas behind HAProxy: open {cluster.url.replace('127.0.0.1', args.address)}"
          f" (logs in {cluster.folder}); Ctrl-C stops them all.", flush=True)
    try:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(r.process.poll() is None for r in cluster.replicas) and cluster.haproxy.poll() is None:
            time.sleep(1.0)
        print("A replica or HAProxy exited; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
