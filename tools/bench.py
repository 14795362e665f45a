"""tools/run.py bench: wrk against addrservice and, in the same run, against nginx as this machine's ceiling.

Each workload (bench/*.lua) runs against a freshly started server that was preloaded over HTTP; the server
runs on core 0 and the load generator on core 1 (when there are two). The workload scripts make their
requests once, before the run, so that wrk spends its time sending and reading; --pipeline N sends N
requests per write. For every run: requests per second, p50 and p99 latency, the server's CPU and the
generator's (shares of one core), the server's peak RSS, and the ratio to nginx answering every request with
a fixed entry body. nginx is the ceiling only when it is busy: a round whose nginx used less than 90 % of its
core was paced by something else (the generator, or other load), and its ratios are shown in parentheses and
left out of the summary.
--latency then runs each server open-loop (h2load sending on a fixed schedule over 1,000 connections) at 50 %
and 80 % of the maximum it just reached, and reports p50, p99 and p99.9 from every request's own timing.
Memory figures (idle RSS, per stored entry, per idle connection) follow. Results are printed as tables and
written as JSON under build/release/bench/.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cluster import ClusterError, Postgres

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
PACKAGES_FILE = ROOT / "tools" / "bench-packages.txt"
ENTRY_TEMPLATE = (BENCH_DIR / "entry.json").read_text().strip()

# workload -> (script, entries preloaded, BENCH_MIX for mixed.lua)
WORKLOADS = {
    "get": ("get.lua", 1000, ""),
    "post": ("post.lua", 0, ""),
    "put": ("mixed.lua", 1000, "0,100,0"),
    "churn": ("churn.lua", 1000, ""),
    "list-1k": ("list.lua", 1000, ""),
    "list-10k": ("list.lua", 10000, ""),
    "page": ("page.lua", 1000, ""),
    "404": ("notfound.lua", 0, ""),
    "mixed": ("mixed.lua", 1000, "80,15,5"),
    "get-tls": ("get.lua", 1000, ""),
}
# Workloads served over HTTPS (TLS, keep-alive), by addrservice and nginx alike, with a self-signed certificate.
TLS_WORKLOADS = {"get-tls"}
STORES = ("memory", "sqlite", "fs", "postgres")
IDLE_CONNECTIONS = 10000
MEMORY_ENTRIES = 10000
SERVER_CORE, CLIENT_CORE = 0, 1
# A round counts only if nginx, the ceiling, used at least this share of its core: below it, the
# generator was the limit for nginx and so, possibly, for every server of the round.
CEILING_BUSY = 0.90
OPEN_LOOP_CONNECTIONS = 1000
OPEN_LOOP_LOADS = (0.5, 0.8)  # of each server's own maximum
# Requests a connection may have in flight in the open-loop runs: one that waits for a late answer sends
# its next requests on time, pipelined behind it, rather than holding them back (and its latency hidden).
OPEN_LOOP_IN_FLIGHT = 16
OPEN_LOOP_WARM_UP = 1.0  # seconds after the last connection opened before the measurement starts
BEHIND = 0.95  # an open-loop run that sent less than this share of its rate fell behind


def say(message: str) -> None:
    print(f"run.py: bench: {message}", file=sys.stderr, flush=True)


def entry(n: int) -> str:
    values = {"n": n, "unit": n % 500, "street": 1000 + n % 9000, "phone": 5550000 + n % 10000}
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), ENTRY_TEMPLATE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def proc_status(pid: int, key: str) -> int:
    """A kB figure from /proc/PID/status (VmRSS, VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pinned(core: int | None, command: list[str]) -> list[str]:
    return command if core is None else ["taskset", "-c", str(core), *command]


@dataclass
class Server:
    """One running server: addrservice (a build of it) or nginx."""
    name: str
    process: subprocess.Popen
    port: int
    pid: int  # the process that serves (nginx's worker, not its master)
    workdir: Path
    tls: bool = False

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until(condition, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def connection(port: int, tls: bool, timeout: float) -> http.client.HTTPConnection:
    """A connection to the server; over TLS, trusting whatever certificate it shows (the bench made it)."""
    if tls:
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=ssl._create_unverified_context())  # noqa: SLF001
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def make_certificate(workdir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, in workdir."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def answers(port: int, path: str, tls: bool = False) -> bool:
    try:
        conn = connection(port, tls, 2)
        conn.request("GET", path)
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


@dataclass
class Target:
    """Something to benchmark: a build of addrservice, or nginx with a fixed body."""
    name: str
    binary: Path | None  # None for nginx
    store: str = "memory"
    database: Postgres | None = None  # the PostgreSQL server of the postgres store
    pool: int | None = None  # the postgres store's pool_size (None: its default)
    log_level: str = "info"  # logging.level; at warning or above a 2xx writes no line

    def start(self, workdir: Path, core: int | None, tls: bool = False) -> Server:
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        certificate = make_certificate(workdir) if tls else None
        if self.binary is None:
            return start_nginx(workdir, port, core, certificate)
        env = dict(os.environ)
        if self.store == "postgres":
            assert self.database is not None
            name = f"bench_{workdir.name.replace('-', '_').lower()[:50]}"  # a fresh database for every run
            self.database.create_database(name)
            pool = "" if self.pool is None else f", pool_size: {self.pool}"
            db = f"postgres: {{url: \"{self.database.url_of(name)}\"{pool}}}"
            env["PGPASSFILE"] = str(self.database.passfile)
        else:
            db = {"memory": "memory: null", "sqlite": f"sqlite: {workdir}/addressbook.db",
                  "fs": f"fs: {workdir}/addresses"}[self.store]
        config = workdir / "addrservice.yaml"
        config.write_text(f"addr-db:\n  {db}\nlogging:\n  level: {self.log_level}\n  console: \"off\"\n"
                          f"  file: {workdir}/addrservice.log\n")
        log = (workdir / "stderr.log").open("w")
        tls_flags = ["--tls-cert", str(certificate[0]), "--tls-key", str(certificate[1])] if certificate else []
        process = subprocess.Popen(
            pinned(core, [str(self.binary), "--host", "127.0.0.1", "--port", str(port), "--config", str(config),
                          *tls_flags]),
            stdout=log, stderr=log, cwd=workdir, env=env)
        server = Server(self.name, process, port, process.pid, workdir, tls)
        try:
            wait_until(lambda: process.poll() is not None or answers(port, "/livez", tls), f"{self.name} to start")
        except RuntimeError:
            server.stop()
            raise
        if process.poll() is not None:
            raise RuntimeError(f"{self.name} exited at start: {(workdir / 'stderr.log').read_text().strip()}")
        return server


def start_nginx(workdir: Path, port: int, core: int | None, certificate: tuple[Path, Path] | None = None) -> Server:
    body = entry(1).replace("\\", "\\\\").replace("'", "\\'")
    conf = workdir / "nginx.conf"
    temp = workdir / "temp"
    temp.mkdir(exist_ok=True)
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    keepalive_requests 100000000;
    server {{
        listen 127.0.0.1:{port}{" ssl" if certificate else ""};
        {f"ssl_certificate {certificate[0]}; ssl_certificate_key {certificate[1]}; ssl_protocols TLSv1.2 TLSv1.3;"
         if certificate else ""}
        location / {{
            default_type "application/json; charset=UTF-8";
            return 200 '{body}';
        }}
    }}
}}
""")
    process = subprocess.Popen(pinned(core, ["nginx", "-c", str(conf), "-p", str(workdir)]),
                               stdout=subprocess.DEVNULL, stderr=(workdir / "stderr.log").open("w"))
    server = Server("nginx", process, port, process.pid, workdir, certificate is not None)
    try:
        wait_until(lambda: process.poll() is not None or answers(port, "/", server.tls), "nginx to start")
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        server.pid = int(children[0]) if children else process.pid
    except (RuntimeError, OSError):
        server.stop()
        raise
    return server


def preload(port: int, count: int, tls: bool = False) -> list[str]:
    """POSTs count entries over one keep-alive connection; returns their ids."""
    ids = []
    conn = connection(port, tls, 30)
    for n in range(count):
        conn.request("POST", "/addresses", body=entry(n).encode(), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            raise RuntimeError(f"preload: POST answered {response.status}")
        ids.append(response.getheader("Location").rsplit("/", 1)[1])
    conn.close()
    return ids


@dataclass
class Options:
    duration: int
    connections: int
    pipeline: int
    latency: bool
    client_core: int | None
    server_core: int | None
    rundir: Path


def children_cpu_seconds() -> float:
    """CPU time of the children waited for so far (a generator's, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(server: Server, workload: str, ids_file: Path, options: Options, duration: int,
            paths_file: Path | None = None) -> dict:
    """One wrk run; its BENCH result with client_cpu, wrk's own CPU as a share of one core, added."""
    script, _, mix = WORKLOADS[workload]
    env = dict(os.environ, LUA_PATH=f"{BENCH_DIR}/?.lua;;", BENCH_DIR=str(BENCH_DIR), BENCH_IDS=str(ids_file),
               BENCH_MIX=mix or "80,15,5", BENCH_PIPELINE=str(options.pipeline),
               BENCH_PATHS=str(paths_file or ""))
    command = pinned(options.client_core, [
        "wrk", "-t1", f"-c{options.connections}", f"-d{duration}s", "--timeout", "10s",
        "-s", str(BENCH_DIR / script), server.origin])
    cpu_before, wall_before = children_cpu_seconds(), time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    client_cpu = (children_cpu_seconds() - cpu_before) / (time.monotonic() - wall_before)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[len("BENCH "):]), client_cpu=client_cpu)
    raise RuntimeError(f"wrk gave no result: {result.stdout}{result.stderr}")


def bench_one(target: Target, workload: str, options: Options, run_index: int) -> tuple[dict, list[dict]]:
    """The closed-loop run of workload on a fresh server, and with --latency its open-loop runs after it."""
    _, preload_count, _ = WORKLOADS[workload]
    workdir = options.rundir / f"{run_index:02d}-{workload}-{target.name.replace('/', '-').replace(' ', '-')}"
    server = target.start(workdir, options.server_core, workload in TLS_WORKLOADS)
    paths_file = workdir / "paths.txt" if options.latency else None
    open_loop_results = []
    try:
        ids = preload(server.port, preload_count, server.tls) if preload_count and target.binary else []
        ids_file = workdir / "ids.txt"
        ids_file.write_text("\n".join(ids or ["nginx-has-no-entries"]) + "\n")
        if workload not in ("post", "churn"):  # a warm-up that leaves the data as preloaded
            run_wrk(server, workload, ids_file, options, 1)
        database = target.database if target.store == "postgres" else None
        store_before = database.cpu_seconds() if database else 0.0
        cpu_before, wall_before, started = cpu_seconds(server.pid), time.monotonic(), time.time()
        result = run_wrk(server, workload, ids_file, options, options.duration, paths_file)
        ended = time.time()
        wall = time.monotonic() - wall_before
        cpu = (cpu_seconds(server.pid) - cpu_before) / wall
        store_cpu = (database.cpu_seconds() - store_before) / wall if database else None
        peak_rss = proc_status(server.pid, "VmHWM")
        if server.process.poll() is not None:
            raise RuntimeError(f"{target.name} died during {workload}")
        seconds = result["duration_us"] / 1e6
        rps = result["requests"] / seconds if seconds else 0.0
        if paths_file is not None:
            paths = open_loop_paths(workload, paths_file)
            for load in OPEN_LOOP_LOADS:
                say(f"{workload} on {target.name}, open loop at {load:.0%} of {rps:.0f} req/s "
                    f"({options.duration} s, {OPEN_LOOP_CONNECTIONS} connections)")
                run = open_loop(server, paths, load * rps, options, workdir / f"open-{load * 100:.0f}")
                if server.process.poll() is not None:
                    raise RuntimeError(f"{target.name} died during {workload}, open loop")
                open_loop_results.append(dict(run, workload=workload, target=target.name, load=load, max_rps=rps))
    finally:
        server.stop()
    errors = result["errors"]
    return {
        "workload": workload, "target": target.name, "requests": result["requests"], "rps": rps,
        **latency_ms(result["latency_us"]), "cpu": cpu, "client_cpu": result["client_cpu"],
        "store_cpu": store_cpu, "started": started, "ended": ended,
        "peak_rss_mb": peak_rss / 2**20, "non_2xx": errors["status"],
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
    }, open_loop_results


def latency_ms(latency_us: dict) -> dict:
    """wrk's p50, p99 and max in ms; None when it recorded no latency (no batch of requests completed)."""
    recorded = latency_us["max"] > 0
    return {f"{key}_ms": latency_us[key] / 1000 if recorded else None for key in ("p50", "p99", "max")}


def open_loop_paths(workload: str, paths_file: Path) -> list[str]:
    """The paths workload's script requested (it wrote them); the open-loop runs replay GETs only."""
    if not paths_file.exists():
        raise RuntimeError(f"--latency replays the requests a script prepares; {workload}'s makes them as it runs")
    paths = []
    for line in paths_file.read_text().splitlines():
        method, path = line.split(" ", 1)
        if method != "GET":
            raise RuntimeError(f"--latency replays GET requests only; {workload} sends {method}")
        paths.append(path)
    if not paths:
        raise RuntimeError(f"{workload}'s script wrote no requests")
    return paths


@dataclass
class Schedule:
    """When the open-loop connections send, so that the requests of all of them arrive evenly spaced at a
    fixed rate: connection i opens at i * spacing ms, and wave k of requests (one from each connection, in
    order of opening) starts at about k * period; `waves` waves overlap at any time, each offset within the
    spacing from the others. The rate is waves per spacing ms, the nearest such to the rate asked."""
    asked: float  # requests per second
    connections: int
    spacing_ms: int = field(init=False)
    waves: int = field(init=False)

    # A longer ramp (connections * spacing) buys a rate nearer the one asked; this much off is near enough.
    TOLERANCE = 0.02

    def __post_init__(self) -> None:
        candidates = [(spacing, max(1, round(self.asked * spacing / 1000)))
                      for spacing in range(1, max(10, round(1000 / self.asked)) + 1)]
        near = [c for c in candidates if abs(self.rate_of(*c) - self.asked) <= self.TOLERANCE * self.asked]
        self.spacing_ms, self.waves = near[0] if near else min(
            candidates, key=lambda c: abs(self.rate_of(*c) - self.asked))

    @staticmethod
    def rate_of(spacing_ms: int, waves: int) -> float:
        return waves * 1000 / spacing_ms

    @property
    def rate(self) -> float:
        return self.rate_of(self.spacing_ms, self.waves)

    @property
    def ramp(self) -> float:
        """Seconds until the last connection has opened."""
        return self.connections * self.spacing_ms / 1000

    def timeline(self, length: float) -> list[float]:
        """A connection's send times, in seconds from its opening, covering length seconds: about one per
        period, wave k nudged (by less than the spacing) to its own slot within the spacing."""
        period, spacing = self.ramp / self.waves, self.spacing_ms / 1000
        times = []
        for k in range(math.ceil(length / period) + 1):
            slot = (k % self.waves) * spacing / self.waves
            times.append(k * period + (slot - k * period) % spacing)
        return times


def percentile(ordered: list[int], share: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def open_loop(server: Server, paths: list[str], asked: float, options: Options, base: Path) -> dict:
    """h2load sending at about the rate asked on a fixed schedule; latency percentiles from its per-request
    log over the requests sent in the measured window (after every connection is open and a warm-up), and
    the server's and h2load's CPU over that window."""
    schedule = Schedule(asked, OPEN_LOOP_CONNECTIONS)
    measured_from = schedule.ramp + OPEN_LOOP_WARM_UP
    times = schedule.timeline(measured_from + options.duration + 0.5)
    script, log = base.with_suffix(".script"), base.with_suffix(".log")
    origin = server.origin
    script.write_text("".join(f"{t * 1000:.3f}\t{origin}{paths[k % len(paths)]}\n" for k, t in enumerate(times)))
    command = pinned(options.client_core, [
        "h2load", "--h1", "-t1", f"-c{OPEN_LOOP_CONNECTIONS}", f"-m{OPEN_LOOP_IN_FLIGHT}",
        "-r1", f"--rate-period={schedule.spacing_ms}ms", f"--timing-script-file={script}", f"--log-file={log}"])
    started = time.time()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(measured_from)
        before = (time.monotonic(), cpu_seconds(server.pid), cpu_seconds(process.pid))
        time.sleep(options.duration)
        after = (time.monotonic(), cpu_seconds(server.pid), cpu_seconds(process.pid))
        out, err = process.communicate(timeout=times[-1] + 60)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"h2load did not finish: {error}") from error
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"h2load failed: {err.strip() or out.strip()}")
    window_start = (started + measured_from) * 1e6
    latencies, failed, non_2xx = window_latencies(log, window_start, window_start + options.duration * 1e6)
    log.unlink()
    quantile = (lambda share: percentile(latencies, share) / 1000) if latencies else (lambda share: None)
    wall = after[0] - before[0]
    return {
        "target_rps": schedule.rate, "rps": (len(latencies) + failed) / options.duration,
        "requests": len(latencies), "failed": failed, "non_2xx": non_2xx,
        "p50_ms": quantile(0.50), "p99_ms": quantile(0.99), "p999_ms": quantile(0.999), "max_ms": quantile(1.0),
        "cpu": (after[1] - before[1]) / wall, "client_cpu": (after[2] - before[2]) / wall,
    }


def window_latencies(log: Path, start_us: float, end_us: float) -> tuple[list[int], int, int]:
    """From h2load's --log-file (start time in us since the epoch, status or -1 when the request failed,
    latency in us), the sorted latencies of the requests started in [start_us, end_us), how many of those
    failed, and how many were answered with a status other than 2xx."""
    latencies, failed, non_2xx = [], 0, 0
    with log.open() as rows:
        for row in rows:
            started, status, latency = row.split("\t")
            if not start_us <= int(started) < end_us:
                continue
            if status == "-1":
                failed += 1
                continue
            non_2xx += not status.startswith("2")
            latencies.append(int(latency))
    latencies.sort()
    return latencies, failed, non_2xx


def open_idle_connections(port: int, count: int) -> list[socket.socket]:
    """count keep-alive connections that each made one request and now wait."""
    sockets = []
    request = b"GET /livez HTTP/1.1\r\nHost: bench\r\n\r\n"
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(request)
        sockets.append(sock)
    for sock in sockets:
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                raise RuntimeError("an idle connection was closed")
            data += chunk
    return sockets


def memory_figures(target: Target, options: Options) -> dict:
    """Idle RSS, RSS per stored entry and per open idle connection."""
    server = target.start(options.rundir / f"memory-{target.name.replace('/', '-')}", options.server_core)
    try:
        idle = proc_status(server.pid, "VmRSS")  # started: it has answered /livez
        preload(server.port, MEMORY_ENTRIES)
        with_entries = proc_status(server.pid, "VmRSS")
        sockets = open_idle_connections(server.port, IDLE_CONNECTIONS)
        with_connections = proc_status(server.pid, "VmRSS")
        for sock in sockets:
            sock.close()
    finally:
        server.stop()
    return {
        "target": target.name, "idle_rss_mb": idle / 2**20,
        "bytes_per_entry": (with_entries - idle) / MEMORY_ENTRIES,
        "connections": IDLE_CONNECTIONS, "connections_mb": (with_connections - with_entries) / 2**20,
        "bytes_per_connection": (with_connections - with_entries) / IDLE_CONNECTIONS,
    }


def build_revision(rev: str, build) -> Path:
    """Checks out rev in a worktree under build/bench/ and builds its release binary."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    tree = ROOT / "build" / "bench" / f"rev-{sha[:12]}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), sha], cwd=ROOT, check=True)
    valijson = ROOT / ".deps" / "valijson" / "usr" / "include"
    extra = [f"-DVALIJSON_INCLUDE_DIR={valijson}"] if valijson.exists() else []
    if subprocess.run(["cmake", "--preset", "release", *extra], cwd=tree, check=False).returncode != 0 or \
            subprocess.run(["cmake", "--build", "--preset", "release"], cwd=tree, check=False).returncode != 0:
        raise RuntimeError(f"building {rev} failed")
    return tree / "build" / "release" / "src" / "addrservice"


def mark_rounds(results: list[dict], open_loop_results: list[dict]) -> None:
    """Puts into every result whether its round was client-bound (its nginx under CEILING_BUSY of its core)
    and, for the closed-loop runs, the ratio to that round's nginx."""
    ceiling = {(r["workload"], r["round"]): r for r in results if r["target"] == "nginx"}
    for r in results + open_loop_results:
        top = ceiling.get((r["workload"], r["round"]))
        r["client_bound"] = top is not None and top["cpu"] < CEILING_BUSY
    for r in results:
        top = ceiling.get((r["workload"], r["round"]))
        r["vs_nginx"] = r["rps"] / top["rps"] if top and top["rps"] and r is not top else None


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def ratio_text(r: dict) -> str:
    if r["target"] == "nginx":
        return "client-bound" if r["client_bound"] else "ceiling"
    if r["vs_nginx"] is None:
        return "-"
    return f"({r['vs_nginx']:.0%})" if r["client_bound"] else f"{r['vs_nginx']:.0%}"


def closed_loop_table(results: list[dict]) -> list[str]:
    lines = [f"{'workload':<9} {'round':>5} {'target':<22} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'CPU':>5} "
             f"{'DB CPU':>6} {'wrk CPU':>7} {'peak RSS':>9} {'vs nginx':>12} {'non-2xx':>8} {'errors':>6}"]
    for r in results:
        store_cpu = "-" if r.get("store_cpu") is None else f"{r['store_cpu']:.0%}"
        lines.append(f"{r['workload']:<9} {r['round']:>5} {r['target']:<22} {r['rps']:>9.0f} {ms(r['p50_ms']):>7} "
                     f"{ms(r['p99_ms']):>7} {r['cpu']:>5.0%} {store_cpu:>6} {r['client_cpu']:>7.0%} "
                     f"{r['peak_rss_mb']:>7.1f}MB {ratio_text(r):>12} {r['non_2xx']:>8} {r['socket_errors']:>6}")
    if any(r["client_bound"] for r in results):
        lines.append(f"(n%): client-bound round: its nginx used under {CEILING_BUSY * 100:.0f} % of its core, so "
                     "something else (wrk, or other load on the machine) set the pace; the ratio does not count")
    return lines


def summary(results: list[dict]) -> list[str]:
    """The median ratio to nginx per workload and build, over the rounds that count."""
    lines = [f"vs nginx, over the rounds whose nginx used {CEILING_BUSY * 100:.0f} % of its core or more:"]
    keys = dict.fromkeys((r["workload"], r["target"]) for r in results if r["target"] != "nginx")
    for workload, target in keys:
        runs = [r for r in results if (r["workload"], r["target"]) == (workload, target) and r["vs_nginx"]]
        counted = sorted(r["vs_nginx"] for r in runs if not r["client_bound"])
        if counted:
            median = (counted[(len(counted) - 1) // 2] + counted[len(counted) // 2]) / 2
            lines.append(f"  {workload}: {target} {median:.0%} (median of {len(counted)} of {len(runs)} rounds)")
        else:
            lines.append(f"  {workload}: {target}: no round counts")
    return lines


def answers_non_2xx(workload: str) -> bool:
    return workload == "404"


def open_loop_note(r: dict) -> str:
    notes = []
    if r["client_bound"]:
        notes.append("max client-bound")
    if r["rps"] < BEHIND * r["target_rps"]:
        notes.append("behind")
    if r["failed"]:
        notes.append(f"{r['failed']} failed")
    if r["non_2xx"] and not answers_non_2xx(r["workload"]):
        notes.append(f"{r['non_2xx']} non-2xx")
    return ", ".join(notes)


def open_loop_table(open_loop_results: list[dict]) -> list[str]:
    order = {w: i for i, w in enumerate(dict.fromkeys(r["workload"] for r in open_loop_results))}
    rows = sorted(open_loop_results, key=lambda r: (order[r["workload"]], r["round"], r["load"]))
    lines = [f"open loop, {OPEN_LOOP_CONNECTIONS} connections, latency of each request from when h2load sent it:",
             f"{'workload':<9} {'round':>5} {'load':>5} {'target':<18} {'max req/s':>9} {'asked/s':>8} {'sent/s':>8} "
             f"{'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} {'max ms':>7} {'CPU':>5} {'h2load CPU':>10}  note"]
    for r in rows:
        lines.append(f"{r['workload']:<9} {r['round']:>5} {r['load']:>5.0%} {r['target']:<18} {r['max_rps']:>9.0f} "
                     f"{r['target_rps']:>8.0f} {r['rps']:>8.0f} {ms(r['p50_ms']):>7} {ms(r['p99_ms']):>7} "
                     f"{ms(r['p999_ms']):>8} {ms(r['max_ms']):>7} {r['cpu']:>5.0%} {r['client_cpu']:>10.0%}  "
                     f"{open_loop_note(r)}")
    lines.append(f"max client-bound: the round's nginx used under {CEILING_BUSY * 100:.0f} % of its core in the "
                 "closed-loop run, so the maximum the loads are taken from may be wrk's; behind: h2load sent under "
                 f"{BEHIND * 100:.0f} % of the rate asked (the server or h2load fell behind)")
    return lines


def memory_lines(memory: list[dict]) -> list[str]:
    return [f"memory {m['target']}: idle RSS {m['idle_rss_mb']:.1f} MB; {m['bytes_per_entry']:.0f} bytes per stored "
            f"entry; {m['connections']} idle connections add {m['connections_mb']:.1f} MB "
            f"({m['bytes_per_connection']:.0f} bytes each)" for m in memory]


CHECKPOINT_LOG = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC .*checkpoint complete: .* sync=([\d.]+) s")


def checkpoint_syncs(log: Path) -> list[tuple[float, float]]:
    """The sync phases (start, end in seconds since the epoch) of the checkpoints PostgreSQL logged (it logs
    each by default): the phase in which it fsyncs its data files, and commits wait behind it."""
    phases = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        match = CHECKPOINT_LOG.match(line)
        if match:
            end = datetime.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            phases.append((end - float(match[2]), end))
    return phases


def mark_checkpoints(results: list[dict], log: Path) -> None:
    """Adds to each postgres run the seconds of checkpoint sync phases that overlapped it."""
    phases = checkpoint_syncs(log)
    for result in results:
        if result.get("store_cpu") is not None:
            result["checkpoint_sync_s"] = sum(max(0.0, min(end, result["ended"]) - max(start, result["started"]))
                                              for start, end in phases)


def checkpoint_lines(results: list[dict]) -> list[str]:
    during = [r for r in results if r.get("checkpoint_sync_s")]
    if not during:
        return []
    return ["", "postgres runs during a checkpoint's sync phase (PostgreSQL fsyncs its data files; commits "
                "wait behind it, so their p99 shows the disk):"] + [
        f"  {r['workload']} round {r['round']} {r['target']}: {r['checkpoint_sync_s']:.2f} s of it" for r in during]


def report_text(results: list[dict], open_loop_results: list[dict], memory: list[dict]) -> str:
    lines = closed_loop_table(results) + checkpoint_lines(results) + [""] + summary(results)
    if open_loop_results:
        lines += [""] + open_loop_table(open_loop_results)
    if memory:
        lines += [""] + memory_lines(memory)
    return "\n".join(lines)


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cmd_bench(args: argparse.Namespace, ensure_packages, build) -> int:
    if args.pipeline < 1 or args.connections < 1 or args.duration < 1 or args.rounds < 1:
        say("--pipeline, --connections, --duration and --rounds take a positive number")
        return 2
    workloads = args.workload or (["get"] if args.latency else list(WORKLOADS))
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        say(f"unknown workload {', '.join(unknown)}; one of {', '.join(WORKLOADS)}")
        return 2
    status = ensure_packages(PACKAGES_FILE) or build("release")
    if status:
        return status
    raise_file_limit()
    cores = os.cpu_count() or 1
    out = ROOT / "build" / "release" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    options = Options(args.duration, args.connections, args.pipeline, args.latency,
                      CLIENT_CORE if cores > 1 else None, SERVER_CORE if cores > 1 else None,
                      Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=out)))
    stores = args.store or ["memory"]
    binaries = [("addrservice", ROOT / "build" / "release" / "src" / "addrservice")]
    if args.vs:
        try:
            binaries.append((args.vs[:12], build_revision(args.vs, build)))
        except (RuntimeError, subprocess.CalledProcessError) as error:
            say(str(error))
            return 1
    database = None
    if "postgres" in stores:
        # PostgreSQL runs on the server's core: the service and its database share one core, as the
        # sqlite store's thread does, and the generator keeps the other. --pg-core client puts it beside
        # the generator instead, the service alone on its core, as with a database on a machine of its own.
        # Its directory is outside the build tree, which PostgreSQL's own user may not be allowed to enter.
        pg_core = options.client_core if args.pg_core == "client" else options.server_core
        database = Postgres(Path(tempfile.mkdtemp(prefix="addrservice-bench-pg-")), core=pg_core)
        try:
            database.start()
            warm_wal(database)
        except ClusterError as error:
            say(f"PostgreSQL did not start: {error}")
            database.stop()
            return 1
    targets = make_targets(binaries, stores, args.pg_pool or [None], args.log_level or ["info"], database)
    try:
        return run_targets(args, workloads, targets, options, out, stamp, stores, cores)
    finally:
        if database is not None and database.stop():
            shutil.rmtree(database.directory, ignore_errors=True)


def warm_wal(database: Postgres) -> None:
    """Writes about 1 GB of WAL and checkpoints, so that the runs write into recycled WAL segments, as on a
    server that has been running for a while. A new cluster has none: each 16 MB segment it starts is
    first zero-filled and fsynced, a stall that every commit waiting behind it shares (the POST p99 on
    postgres was 12.2 ms in a new cluster's first run, 2.9-3.3 ms in the next three)."""
    database.psql("CREATE TABLE bench_warm_wal AS SELECT repeat('w', 1000) AS filler FROM generate_series(1, 1000000)")
    database.psql("DROP TABLE bench_warm_wal")
    database.psql("CHECKPOINT")


def make_targets(binaries: list[tuple[str, Path]], stores: list[str], pools: list[int | None], levels: list[str],
                 database: Postgres | None) -> list[Target]:
    """Every build on every store (each pool size for postgres) at every logging level, then nginx. A name
    says what varies in the run: build, then /store, -pPOOL, @level."""
    targets = []
    for name, binary in binaries:
        for store in stores:
            label = name if len(stores) == 1 else f"{name}/{store}"
            store_pools = pools if store == "postgres" else [None]
            for pool in store_pools:
                pooled = label if pool is None or len(store_pools) == 1 else f"{label}-p{pool}"
                for level in levels:
                    targets.append(Target(pooled if len(levels) == 1 else f"{pooled}@{level}", binary, store,
                                          database if store == "postgres" else None, pool, level))
    targets.append(Target("nginx", None))
    return targets


def run_targets(args: argparse.Namespace, workloads: list[str], targets: list[Target], options: Options, out: Path,
                stamp: str, stores: list[str], cores: int) -> int:
    results: list[dict] = []
    open_loop_results: list[dict] = []
    memory: list[dict] = []
    try:
        index = 0
        for workload in workloads:
            for round_number in range(1, args.rounds + 1):
                # Every round runs each target once, nginx too (its ceiling moves with the machine's load);
                # the order alternates from round to round.
                order = targets if round_number % 2 == 1 else list(reversed(targets))
                for target in order:
                    index += 1
                    say(f"{workload} on {target.name}, round {round_number} ({args.duration} s, "
                        f"{args.connections} connections, pipeline {args.pipeline})")
                    result, open_loop_runs = bench_one(target, workload, options, index)
                    for run in (result, *open_loop_runs):
                        run["round"] = round_number
                    results.append(result)
                    open_loop_results.extend(open_loop_runs)
        if not args.no_memory:
            for target in targets[:-1]:
                say(f"memory figures of {target.name}")
                memory.append(memory_figures(target, options))
    except (RuntimeError, OSError) as error:
        say(f"failed: {error} (files in {options.rundir})")
        return 1
    mark_rounds(results, open_loop_results)
    database = next((t.database for t in targets if t.database is not None), None)
    if database is not None:
        mark_checkpoints(results, database.log)
    report = {"when": stamp, "duration_s": args.duration, "connections": args.connections,
              "pipeline": args.pipeline, "stores": stores, "cores": cores, "server_core": options.server_core,
              "client_core": options.client_core, "pg_core": args.pg_core, "ceiling_busy": CEILING_BUSY,
              "results": results,
              "open_loop": {"connections": OPEN_LOOP_CONNECTIONS, "in_flight": OPEN_LOOP_IN_FLIGHT,
                            "results": open_loop_results},
              "memory": memory}
    path = out / f"bench-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(report_text(results, open_loop_results, memory))
    say(f"results in {path.relative_to(ROOT)}")
    unexpected = [r for r in results + open_loop_results
                  if r["non_2xx"] and not answers_non_2xx(r["workload"]) and r["target"] != "nginx"]
    failures = [r for r in results if r["socket_errors"]] + [r for r in open_loop_results if r["failed"]] + unexpected
    if failures:
        say("some runs had errors: " + ", ".join(dict.fromkeys(f"{r['workload']}/{r['target']}" for r in failures)))
        return 1
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("bench", help="wrk workloads against addrservice and nginx",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", action="append",
                   help=f"one of {', '.join(WORKLOADS)} (repeatable; default all, or get with --latency)")
    p.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--pipeline", type=int, default=1, metavar="N",
                   help="requests wrk sends per write on each connection (default 1: no pipelining)")
    p.add_argument("--latency", action="store_true",
                   help=f"after each closed-loop run, open-loop runs at "
                        f"{' and '.join(f'{x * 100:.0f}%%' for x in OPEN_LOOP_LOADS)} of the rate it reached, "
                        f"{OPEN_LOOP_CONNECTIONS} connections (GET workloads)")
    p.add_argument("--store", choices=STORES, action="append",
                   help="addrservice's store (repeatable: each runs side by side; default memory)")
    p.add_argument("--pg-pool", type=int, action="append", metavar="N",
                   help="the postgres store's pool_size (repeatable: each runs side by side; default the store's)")
    p.add_argument("--pg-core", choices=("server", "client"), default="server",
                   help="the core PostgreSQL runs on: the server's (default: the service and its database share "
                        "it) or the load generator's (the service has its core to itself)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), action="append",
                   help="addrservice's logging level (repeatable: each runs side by side; default info). At "
                        "warning a GET that succeeds writes no line: info against warning is the cost of logging")
    p.add_argument("--vs", metavar="REV", help="also build REV and run it alternately with this tree")
    p.add_argument("--rounds", type=int, default=1, help="runs of each build per workload (default 1)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory figures")
    return p
