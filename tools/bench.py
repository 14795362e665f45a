"""tools/run.py bench: wrk against addrservice and, in the same run, against nginx as this machine's ceiling.

Each workload (bench/*.lua) runs against a freshly started server that was preloaded over HTTP; wrk runs
on one core and the server on the other (when there are two). For every run: requests per second, p50 and
p99 latency, the server's CPU (share of one core) and peak RSS, and the ratio to nginx answering every
request with a fixed entry body. Memory figures (idle RSS, per stored entry, per idle connection) follow.
Results are printed as a table and written as JSON under build/release/bench/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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
}
STORES = ("memory", "sqlite", "fs")
IDLE_CONNECTIONS = 10000
MEMORY_ENTRIES = 10000


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


def answers(port: int, path: str) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
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

    def start(self, workdir: Path, core: int | None) -> Server:
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        if self.binary is None:
            return start_nginx(workdir, port, core)
        db = {"memory": "memory: null", "sqlite": f"sqlite: {workdir}/addressbook.db",
              "fs": f"fs: {workdir}/addresses"}[self.store]
        config = workdir / "addrservice.yaml"
        config.write_text(f"addr-db:\n  {db}\nlogging:\n  level: info\n  console: \"off\"\n"
                          f"  file: {workdir}/addrservice.log\n")
        log = (workdir / "stderr.log").open("w")
        process = subprocess.Popen(
            pinned(core, [str(self.binary), "--host", "127.0.0.1", "--port", str(port), "--config", str(config)]),
            stdout=log, stderr=log, cwd=workdir)
        server = Server(self.name, process, port, process.pid, workdir)
        try:
            wait_until(lambda: process.poll() is not None or answers(port, "/livez"), f"{self.name} to start")
        except RuntimeError:
            server.stop()
            raise
        if process.poll() is not None:
            raise RuntimeError(f"{self.name} exited at start: {(workdir / 'stderr.log').read_text().strip()}")
        return server


def start_nginx(workdir: Path, port: int, core: int | None) -> Server:
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
        listen 127.0.0.1:{port};
        location / {{
            default_type "application/json; charset=UTF-8";
            return 200 '{body}';
        }}
    }}
}}
""")
    process = subprocess.Popen(pinned(core, ["nginx", "-c", str(conf), "-p", str(workdir)]),
                               stdout=subprocess.DEVNULL, stderr=(workdir / "stderr.log").open("w"))
    server = Server("nginx", process, port, process.pid, workdir)
    try:
        wait_until(lambda: process.poll() is not None or answers(port, "/"), "nginx to start")
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        server.pid = int(children[0]) if children else process.pid
    except (RuntimeError, OSError):
        server.stop()
        raise
    return server


def preload(port: int, count: int) -> list[str]:
    """POSTs count entries over one keep-alive connection; returns their ids."""
    ids = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
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
    wrk_core: int | None
    server_core: int | None
    rundir: Path


def run_wrk(server: Server, workload: str, ids_file: Path, options: Options, duration: int) -> dict:
    script, _, mix = WORKLOADS[workload]
    env = dict(os.environ, LUA_PATH=f"{BENCH_DIR}/?.lua;;", BENCH_DIR=str(BENCH_DIR), BENCH_IDS=str(ids_file),
               BENCH_MIX=mix or "80,15,5")
    command = pinned(options.wrk_core, [
        "wrk", "-t1", f"-c{options.connections}", f"-d{duration}s", "--timeout", "10s",
        "-s", str(BENCH_DIR / script), f"http://127.0.0.1:{server.port}"])
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH "):])
    raise RuntimeError(f"wrk gave no result: {result.stdout}{result.stderr}")


def bench_one(target: Target, workload: str, options: Options, run_index: int) -> dict:
    _, preload_count, _ = WORKLOADS[workload]
    workdir = options.rundir / f"{run_index:02d}-{workload}-{target.name.replace('/', '-').replace(' ', '-')}"
    server = target.start(workdir, options.server_core)
    try:
        ids = preload(server.port, preload_count) if preload_count and target.binary else []
        ids_file = workdir / "ids.txt"
        ids_file.write_text("\n".join(ids or ["nginx-has-no-entries"]) + "\n")
        if workload not in ("post", "churn"):  # a warm-up that leaves the data as preloaded
            run_wrk(server, workload, ids_file, options, 1)
        cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
        result = run_wrk(server, workload, ids_file, options, options.duration)
        cpu = (cpu_seconds(server.pid) - cpu_before) / (time.monotonic() - wall_before)
        peak_rss = proc_status(server.pid, "VmHWM")
        if server.process.poll() is not None:
            raise RuntimeError(f"{target.name} died during {workload}")
    finally:
        server.stop()
    seconds = result["duration_us"] / 1e6
    errors = result["errors"]
    return {
        "workload": workload, "target": target.name, "requests": result["requests"],
        "rps": result["requests"] / seconds if seconds else 0.0,
        "p50_ms": result["latency_us"]["p50"] / 1000, "p99_ms": result["latency_us"]["p99"] / 1000,
        "max_ms": result["latency_us"]["max"] / 1000, "cpu": cpu, "peak_rss_mb": peak_rss / 2**20,
        "non_2xx": errors["status"],
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
    }


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


def table(results: list[dict], memory: list[dict]) -> str:
    ceiling = {(r["workload"], r["round"]): r["rps"] for r in results if r["target"] == "nginx"}
    for r in results:
        top = ceiling.get((r["workload"], r["round"]))
        r["vs_nginx"] = r["rps"] / top if top else None
    lines = [f"{'workload':<9} {'round':>5} {'target':<18} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'CPU':>5} "
             f"{'peak RSS':>9} {'vs nginx':>8} {'non-2xx':>8} {'errors':>6}"]
    for r in results:
        ratio = f"{r['vs_nginx']:.0%}" if r["vs_nginx"] else "-"
        lines.append(f"{r['workload']:<9} {r['round']:>5} {r['target']:<18} {r['rps']:>9.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
                     f"{r['cpu']:>5.0%} {r['peak_rss_mb']:>7.1f}MB {ratio:>8} {r['non_2xx']:>8} "
                     f"{r['socket_errors']:>6}")
    for m in memory:
        lines.append(f"memory {m['target']}: idle RSS {m['idle_rss_mb']:.1f} MB; "
                     f"{m['bytes_per_entry']:.0f} bytes per stored entry; {m['connections']} idle connections "
                     f"add {m['connections_mb']:.1f} MB ({m['bytes_per_connection']:.0f} bytes each)")
    return "\n".join(lines)


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cmd_bench(args: argparse.Namespace, ensure_packages, build) -> int:
    status = ensure_packages(PACKAGES_FILE) or build("release")
    if status:
        return status
    raise_file_limit()
    workloads = args.workload or list(WORKLOADS)
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        say(f"unknown workload {', '.join(unknown)}; one of {', '.join(WORKLOADS)}")
        return 2
    cores = os.cpu_count() or 1
    out = ROOT / "build" / "release" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    options = Options(args.duration, args.connections, 0 if cores > 1 else None, 1 if cores > 1 else None,
                      Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=out)))
    stores = args.store or ["memory"]
    binaries = [("addrservice", ROOT / "build" / "release" / "src" / "addrservice")]
    if args.vs:
        try:
            binaries.append((args.vs[:12], build_revision(args.vs, build)))
        except (RuntimeError, subprocess.CalledProcessError) as error:
            say(str(error))
            return 1
    targets = [Target(name if len(stores) == 1 else f"{name}/{store}", binary, store)
               for name, binary in binaries for store in stores]
    targets.append(Target("nginx", None))
    results: list[dict] = []
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
                        f"{args.connections} connections)")
                    result = bench_one(target, workload, options, index)
                    result["round"] = round_number
                    results.append(result)
        if not args.no_memory:
            for target in targets[:-1]:
                say(f"memory figures of {target.name}")
                memory.append(memory_figures(target, options))
    except (RuntimeError, OSError) as error:
        say(f"failed: {error} (files in {options.rundir})")
        return 1
    text = table(results, memory)  # also puts each run's ratio to nginx into results
    report = {"when": stamp, "duration_s": args.duration, "connections": args.connections, "stores": stores,
              "cores": cores, "results": results, "memory": memory}
    path = out / f"bench-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(text)
    say(f"results in {path.relative_to(ROOT)}")
    failures = [r for r in results if r["socket_errors"] or (r["non_2xx"] and r["workload"] != "404"
                                                               and r["target"] != "nginx")]
    if failures:
        say("some runs had errors: " + ", ".join(f"{r['workload']}/{r['target']}" for r in failures))
        return 1
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("bench", help="wrk workloads against addrservice and nginx",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", action="append", help=f"one of {', '.join(WORKLOADS)} (repeatable; default all)")
    p.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--store", choices=STORES, action="append",
                   help="addrservice's store (repeatable: each runs side by side; default memory)")
    p.add_argument("--vs", metavar="REV", help="also build REV and run it alternately with this tree")
    p.add_argument("--rounds", type=int, default=1, help="runs of each build per workload (default 1)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory figures")
    return p
