"""tools/run.py cluster: N addrservice instances on one local PostgreSQL, behind nginx, until Ctrl-C.

Everything lives under ./var of the working directory:

    var/pg/         the database cluster (data/, initdb on first use), its socket, server log and .pgpass
    var/cluster/    each instance's config file and log
    var/nginx/      nginx's generated config, pid file, temp paths and logs

The balancer listens on 127.0.0.1:PORT and the instances on PORT+1 .. PORT+N; PostgreSQL on a free loopback
port and on a unix socket in var/pg. SIGINT (Ctrl-C) or SIGTERM stops nginx (QUIT: it finishes what it is
proxying), then the instances (SIGTERM: they drain), then PostgreSQL (pg_ctl stop -m fast), and exits 0.
"""

from __future__ import annotations

import http.client
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROLE = "addrbook"
DATABASE = "addressbook"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20  # above an instance's 10 s drain


class ClusterError(Exception):
    """A start-up step failed; the message says which and why."""


def say(message: str) -> None:
    print(f"cluster: {message}", flush=True)


def running_as_root() -> bool:
    return os.geteuid() == 0


def find_pg_bin() -> Path:
    """The newest installed server's programs (Debian: /usr/lib/postgresql/<major>/bin)."""
    candidates = [p / "bin" for p in Path("/usr/lib/postgresql").glob("*") if (p / "bin" / "initdb").exists()]
    candidates.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not candidates:
        raise ClusterError("no PostgreSQL server under /usr/lib/postgresql (tools/run.py setup installs postgresql-15)")
    return candidates[-1]


def as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if running_as_root() else command


def run_tool(command: list[str], what: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{what} failed ({result.returncode}): {(result.stdout + result.stderr).strip()}")
    return result.stdout


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_port_free(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as e:
            raise ClusterError(f"port {port} is in use ({e.strerror}); choose another with --port") from None


def http_status(port: int, path: str) -> int | None:
    """The status of GET path on 127.0.0.1:port, or None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def tail(path: Path, lines: int = 5) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Postgres:
    """The cluster in var/pg: initdb on first use, started on a free loopback port and a socket there."""

    directory: Path
    bin: Path = field(default_factory=find_pg_bin)
    port: int = 0
    running: bool = False
    core: int | None = None  # the server and every backend it forks run on this core only


    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "postgresql.log"

    @property
    def passfile(self) -> Path:
        return self.directory / ".pgpass"

    def url(self) -> str:
        return self.url_of(DATABASE)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if running_as_root():
            postgres = pwd.getpwnam("postgres")
            os.chown(self.directory, postgres.pw_uid, postgres.pw_gid)
        first_use = not (self.data / "PG_VERSION").exists()
        if first_use:
            self.initdb()
        if self.server_running():
            stop = " ".join(as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "stop"]))
            raise ClusterError(f"a PostgreSQL server is already running on {self.data} (another cluster?); "
                               f"stop it with: {stop}")
        self.port = free_loopback_port()
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c log_timezone=UTC"
        self.running = True  # from here on, stop() checks with pg_ctl status
        pin = [] if self.core is None else ["taskset", "-c", str(self.core)]
        run_tool(pin + as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                                       "-t", str(START_TIMEOUT_S), "-o", options, "start"]),
                 f"pg_ctl start (see {self.log})")
        if first_use:
            self.create_role()
        self.create_database()

    def initdb(self) -> None:
        run_tool(as_server_user([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8",
                                 "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                                 "--no-instructions"]),
                 "initdb")

    def psql(self, sql: str) -> str:
        # Over the socket as the superuser (trusted locally); -tA prints bare values.
        return run_tool([str(self.bin / "psql"), "-h", str(self.directory), "-p", str(self.port), "-U", "postgres",
                         "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc", sql], "psql").strip()

    def create_role(self) -> None:
        # The instances log in over TCP with a password, as against a real server; it is kept in a password
        # file (libpq's PGPASSFILE), never in a config file or on a command line.
        password = secrets.token_urlsafe(18)
        self.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'")
        self.passfile.write_text(f"*:*:*:{ROLE}:{password}\n")
        self.passfile.chmod(0o600)

    def create_database(self, name: str = DATABASE) -> None:
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            self.psql(f"CREATE DATABASE {name} OWNER {ROLE} ENCODING 'UTF8'")

    def url_of(self, database: str) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"

    def cpu_seconds(self) -> float:
        """CPU time of the server and of the processes it runs now (its backends)."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
            pids = [postmaster, *map(int, Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split())]
        except (OSError, ValueError, IndexError):
            return 0.0
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a backend that ended meanwhile
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def server_running(self) -> bool:
        status = as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"])
        return subprocess.run(status, capture_output=True, check=False).returncode == 0

    def stop(self) -> bool:
        if not self.running or not self.server_running():
            return True
        result = subprocess.run(as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                                                "-t", str(STOP_TIMEOUT_S), "stop"]),
                                capture_output=True, text=True, check=False)
        self.running = result.returncode != 0
        if self.running:
            say(f"pg_ctl stop failed: {(result.stdout + result.stderr).strip()}")
        return not self.running


@dataclass
class Child:
    """A process of ours (an instance or nginx) in a process group of its own, so that Ctrl-C at the
    terminal reaches only this script, which stops the children in order."""

    name: str
    process: subprocess.Popen
    log: Path

    def exited(self) -> bool:
        return self.process.poll() is not None

    def stop(self, signal_number: int) -> bool:
        """Sends the signal and waits; kills after STOP_TIMEOUT_S. True when it exited with status 0."""
        if not self.exited():
            self.process.send_signal(signal_number)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop within {STOP_TIMEOUT_S} s; killing it")
                self.process.kill()
                self.process.wait()
        if self.process.returncode != 0:
            say(f"{self.name} exited with status {self.process.returncode} (see {self.log})")
        return self.process.returncode == 0


def spawn(name: str, command: list[str], log: Path, env: dict[str, str] | None = None) -> Child:
    with log.open("a") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
    return Child(name, process, log)


def wait_ready(child: Child, port: int, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while http_status(port, path) != 200:
        if child.exited():
            raise ClusterError(f"{child.name} exited with status {child.process.returncode}:\n{tail(child.log)}")
        if time.monotonic() > deadline:
            raise ClusterError(f"{child.name} not ready on port {port} within {START_TIMEOUT_S} s (see {child.log})")
        time.sleep(0.1)


def start_instance(binary: Path, number: int, port: int, database: Postgres, directory: Path) -> Child:
    config = directory / f"instance-{number}.yaml"
    config.write_text(f"# Generated by tools/run.py cluster.\n"
                      f"service:\n  name: Address Book {number}\n"
                      f"addr-db:\n  postgres: '{database.url()}'\n")
    env = dict(os.environ, PGPASSFILE=str(database.passfile.resolve()))
    child = spawn(f"instance {number}",
                  [str(binary), "--host", "127.0.0.1", "--port", str(port), "--config", str(config)],
                  directory / f"instance-{number}.log", env)
    return child


def nginx_config(directory: Path, port: int, upstreams: list[int]) -> str:
    servers = "".join(f"        server 127.0.0.1:{p};\n" for p in upstreams)
    # Run as root, nginx's workers would switch to www-data; keep them as this user, with every path here.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if running_as_root() else ""
    temp = directory / "temp"
    return f"""# Generated by tools/run.py cluster.
{user}worker_processes auto;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log notice;
events {{ worker_connections 4096; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    upstream addrservice {{
{servers}        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;
        location / {{
            proxy_pass http://addrservice;
            # Keep-alive connections to the instances: HTTP/1.1 without "Connection: close".
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def start_nginx(directory: Path, port: int, upstreams: list[int]) -> Child:
    (directory / "temp").mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(nginx_config(directory, port, upstreams))
    # -e: the error log before the config is read (the default, /var/log/nginx, may not be writable).
    return spawn("nginx", ["nginx", "-e", str(directory / "error.log"), "-p", f"{directory}/", "-c", str(conf)],
                 directory / "stderr.log")


class Stop(Exception):
    """Raised by the SIGINT/SIGTERM handler to end the wait (or a start in progress)."""


def on_signal(signal_number: int, _frame) -> None:
    raise Stop(signal.Signals(signal_number).name)


def run_cluster(binary: Path, instances: int, port: int, var: Path) -> int:
    """Starts the database, the instances and nginx, waits for SIGINT or SIGTERM, stops them all."""
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    var = var.resolve()
    ports = list(range(port + 1, port + 1 + instances))
    database: Postgres | None = None
    children: list[Child] = []
    nginx: Child | None = None
    status = 0
    try:
        for p in [port, *ports]:
            check_port_free(p)
        database = Postgres(var / "pg")
        database.start()
        directory = var / "cluster"
        directory.mkdir(parents=True, exist_ok=True)
        for number, instance_port in enumerate(ports, start=1):
            children.append(start_instance(binary, number, instance_port, database, directory))
        for child, instance_port in zip(children, ports):
            wait_ready(child, instance_port, "/readyz")
        nginx = start_nginx(var / "nginx", port, ports)
        wait_ready(nginx, port, "/readyz")
        report(var, database, children, ports, port)
        while True:
            for child in [nginx, *children]:
                if child.exited():
                    raise ClusterError(f"{child.name} exited with status {child.process.returncode}:\n"
                                       f"{tail(child.log)}")
            time.sleep(0.5)
    except Stop as stop:
        say(f"{stop}: stopping")
    except ClusterError as e:
        say(str(e))
        status = 1
    finally:
        # A second Ctrl-C must not cut the stopping short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stopped = nginx.stop(signal.SIGQUIT) if nginx else True
        for child in children:
            stopped = child.stop(signal.SIGTERM) and stopped
        if database:
            stopped = database.stop() and stopped
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if status == 0 and stopped:
        say("stopped")
        return 0
    return status or 1


def report(var: Path, database: Postgres, children: list[Child], ports: list[int], port: int) -> None:
    def shown(path: Path) -> str:
        try:
            return "./" + str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    nginx_dir = var / "nginx"
    say(f"balancer    http://127.0.0.1:{port}/  nginx, config {shown(nginx_dir / 'nginx.conf')}, "
        f"logs {shown(nginx_dir / 'access.log')} {shown(nginx_dir / 'error.log')}")
    for child, instance_port in zip(children, ports):
        say(f"{child.name:<11} http://127.0.0.1:{instance_port}/  log {shown(child.log)}")
    say(f"database    {database.url()}  password in {shown(database.passfile)} (PGPASSFILE), "
        f"socket in {shown(database.directory)}, log {shown(database.log)}")
    say("Ctrl-C (or SIGTERM) stops them all")


def add_parser(sub) -> object:
    p = sub.add_parser("cluster", help="N instances on one local PostgreSQL behind nginx",
                       description=__doc__.split("\n\n")[0] + " The balancer listens on PORT, the instances on "
                       "PORT+1 .. PORT+N, all on 127.0.0.1; files go to ./var (pg, cluster, nginx).")
    p.add_argument("--instances", type=int, default=2, metavar="N", help="instances (default 2)")
    p.add_argument("--port", type=int, default=8080, metavar="P", help="the balancer's port (default 8080)")
    return p


def bad_args(args) -> str | None:
    """Why the arguments cannot be used, or None."""
    if not 1 <= args.instances <= 64:
        return "--instances must be 1-64"
    if args.port < 1 or args.port + args.instances > 65535:
        return "--port P needs P >= 1 and P + instances <= 65535"
    return None


if __name__ == "__main__":
    sys.exit("run it as tools/run.py cluster")
