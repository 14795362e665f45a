#!/usr/bin/env python3
"""Build, run, test and check addrservice.

    tools/run.py setup                 install the Debian packages and the node tools the project needs
    tools/run.py build [--preset P]    configure and build (dev, release, asan, tsan, fuzz)
    tools/run.py serve [ARGS...]       build the release binary and run it with ARGS
    tools/run.py test [--preset P] [--suite S]...
                                       build and run the tests (all, unit, integration, e2e); with
                                       --preset asan or tsan under sanitizers (unit and integration)
    tools/run.py lint                  check formatting with clang-format, lint docs/openapi.yaml with Redocly
    tools/run.py typecheck             run clang-tidy over both layers
    tools/run.py coverage              line coverage of a whole test run (the last `test` run when it was
                                       whole and passed on the current build); fail under 90 % of lines
    tools/run.py fuzz [--target T] [--seconds N] [--jobs J]
                                       build the libFuzzer targets and run each (or T) for N seconds
    tools/run.py bench [OPTIONS]       wrk workloads against addrservice and nginx (see bench --help)
    tools/run.py cluster [--instances N] [--port P]
                                       N instances on a local PostgreSQL behind nginx, until Ctrl-C
    tools/run.py token NAME --scope read|write
                                       make a bearer token for client NAME: prints the token (once) and
                                       the line for the tokens file (auth.tokens_file)

Every sub-command exits non-zero when what it runs fails.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench
import cluster

ROOT = Path(__file__).resolve().parent.parent
PACKAGES_FILE = ROOT / "tools" / "debian-packages.txt"
VALIJSON_PACKAGE_FILE = ROOT / "tools" / "valijson-package.txt"
VALIJSON_DIR = ROOT / ".deps" / "valijson"
VALIJSON_HEADER = Path("usr/include/valijson/validator.hpp")
PRESETS = ("dev", "release", "asan", "tsan", "fuzz")
TEST_PRESETS = ("dev", "asan", "tsan")
SANITIZER_PRESETS = ("asan", "tsan")
SUITES = ("all", "unit", "integration", "e2e")
SUITE_TARGETS = {"unit": "unit_tests", "integration": "integration_tests", "e2e": "e2e_tests"}
# Node tools (tools/package.json, pinned in tools/package-lock.json): Redocly lints docs/openapi.yaml,
# Prism checks the service against it in an e2e test. npm ci installs them into tools/node_modules.
NODE_DIR = ROOT / "tools"
NODE_TOOLS = (NODE_DIR / "node_modules" / ".bin" / "redocly", NODE_DIR / "node_modules" / ".bin" / "prism")
NODE_LOCK = NODE_DIR / "package-lock.json"
NODE_INSTALLED_LOCK = NODE_DIR / "node_modules" / ".package-lock.json"  # npm's record of what it installed
NODE_PACKAGES = ["nodejs", "npm"]  # Debian's, when no npm is on the PATH
OPENAPI_FILE = ROOT / "docs" / "openapi.yaml"
COVERAGE_FLOOR = 90
SOURCE_DIRS = ("src", "tests", "fuzz")
FUZZ_TARGETS = ("http", "body", "config", "logfmt", "row")
FUZZ_DIR = ROOT / "fuzz"
FUZZ_BUILD_DIR = ROOT / "build" / "fuzz"
# clang-16's runtime looks for its own symbolizer (llvm-16) and finds none on PATH under that name.
FUZZ_SYMBOLIZER = Path("/usr/lib/llvm-16/bin/llvm-symbolizer")
TSAN_SUPPRESSIONS = ROOT / "tools" / "tsan.supp"
# Above this many bits of mmap randomisation the ThreadSanitizer of g++ 12 cannot lay out its shadow
# memory ("FATAL: ThreadSanitizer: unexpected memory mapping"); such kernels run it without ASLR.
TSAN_MAX_MMAP_RND_BITS = 28
# Per file: the slowest file takes about 90 s on one core.
CLANG_TIDY_TIMEOUT_S = 600
DEV_BUILD_DIR = ROOT / "build" / "dev"


def say(message: str) -> None:
    print(f"run.py: {message}", file=sys.stderr, flush=True)


def run(command: list[str], **kwargs) -> int:
    say("$ " + " ".join(str(part) for part in command))
    return subprocess.run(command, check=False, **kwargs).returncode


def read_list(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def missing_packages(path: Path = PACKAGES_FILE) -> list[str]:
    missing = []
    for package in read_list(path):
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def valijson_present() -> bool:
    return (VALIJSON_DIR / VALIJSON_HEADER).exists() or (Path("/") / VALIJSON_HEADER).exists()


def node_tools_present() -> bool:
    """True when npm ci has installed tools/package-lock.json as it is now."""
    return (all(tool.exists() for tool in NODE_TOOLS) and NODE_INSTALLED_LOCK.exists()
            and NODE_INSTALLED_LOCK.stat().st_mtime >= NODE_LOCK.stat().st_mtime)


def install_node_tools() -> int:
    if shutil.which("npm") is None:
        status = install_packages(NODE_PACKAGES)
        if status:
            return status
    if run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR) != 0:
        say("setup: npm ci in tools/ failed")
        return 1
    return 0


def needs_setup() -> bool:
    return bool(missing_packages()) or not valijson_present()


def ensure_node_tools() -> int:
    """The node tools, for the commands that use them (lint, test): building needs none."""
    return 0 if node_tools_present() else install_node_tools()


def install_packages(missing: list[str]) -> int:
    """apt-get install as root; otherwise prints the command and returns 2."""
    if os.geteuid() != 0:
        command = "apt-get update && apt-get install -y --no-install-recommends " + " ".join(missing)
        say(f"installing packages needs root; run as root:\n    {command}")
        return 2
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run(["apt-get", "update", "-qq"], env=env) != 0:
        say("setup: apt-get update failed")
        return 1
    if missing and run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env) != 0:
        say("setup: apt-get install failed")
        return 1
    return 0


def ensure_packages(path: Path) -> int:
    missing = missing_packages(path)
    return install_packages(missing) if missing else 0


def cmd_setup(args: argparse.Namespace) -> int:
    with_node = not getattr(args, "no_node_tools", False)
    missing = missing_packages()
    if not missing and valijson_present() and (node_tools_present() or not with_node):
        say("setup: every package is installed")
        return 0
    # apt-get update comes with an install, and valijson's download needs it too.
    status = install_packages(missing) if missing or not valijson_present() else 0
    if status:
        return status
    if with_node and not node_tools_present():
        status = install_node_tools()
        if status:
            return status
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not valijson_present():
        package = read_list(VALIJSON_PACKAGE_FILE)[0]
        with tempfile.TemporaryDirectory() as tmp:
            # Downloaded as root, apt hands the file to its sandbox user; let it write here.
            os.chmod(tmp, 0o777)
            if run(["apt-get", "download", "-qq", package], cwd=tmp, env=env) != 0:
                say(f"setup: apt-get download {package} failed")
                return 1
            debs = list(Path(tmp).glob("*.deb"))
            if not debs:
                say(f"setup: no .deb for {package}")
                return 1
            shutil.rmtree(VALIJSON_DIR, ignore_errors=True)
            VALIJSON_DIR.mkdir(parents=True)
            if run(["dpkg-deb", "-x", str(debs[0]), str(VALIJSON_DIR)]) != 0:
                return 1
    say("setup: done")
    return 0


def ensure_setup() -> int:
    if needs_setup():
        return cmd_setup(argparse.Namespace(no_node_tools=True))
    return 0


def build(preset: str, targets: list[str] | None = None) -> int:
    if run(["cmake", "--preset", preset], cwd=ROOT) != 0:
        return 1
    return run(["cmake", "--build", "--preset", preset, *(["--target", *targets] if targets else [])], cwd=ROOT)


def cmd_build(args: argparse.Namespace) -> int:
    return ensure_setup() or build(args.preset)


def cmd_serve(args: argparse.Namespace) -> int:
    status = ensure_setup() or build("release")
    if status:
        return status
    binary = ROOT / "build" / "release" / "src" / "addrservice"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(binary, [str(binary), *args.args])
    return 1  # not reached


def ctest(preset: str, suites: list[str], verbose: bool, env: dict[str, str] | None = None,
          wrapper: list[str] | None = None) -> int:
    command = [*(wrapper or []), "ctest", "--preset", preset]
    if "all" not in suites:
        command += ["-L", "^(" + "|".join(suites) + ")$"]
    if verbose:
        command.append("-V")
    return run(command, cwd=ROOT, env=env)


def sanitizer_env(preset: str) -> dict[str, str]:
    """The sanitizers' options: every report fails the test that caused it."""
    env = dict(os.environ)
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    if preset == "asan":
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:strict_init_order=1:detect_stack_use_after_return=1")
    if preset == "tsan":
        env.setdefault("TSAN_OPTIONS", f"suppressions={TSAN_SUPPRESSIONS}:second_deadlock_stack=1:history_size=4")
    return env


def tsan_wrapper() -> list[str]:
    """setarch -R (no ASLR for ctest and the tests it starts) where the kernel randomises mmap more
    than ThreadSanitizer allows; lowering vm.mmap_rnd_bits instead would change the whole machine."""
    try:
        bits = int(Path("/proc/sys/vm/mmap_rnd_bits").read_text())
    except (OSError, ValueError):
        return []
    if bits <= TSAN_MAX_MMAP_RND_BITS:
        return []
    machine = os.uname().machine
    if subprocess.run(["setarch", machine, "-R", "true"], capture_output=True, check=False).returncode != 0:
        say(f"test: vm.mmap_rnd_bits is {bits} and setarch -R is refused; ThreadSanitizer may not start")
        return []
    return ["setarch", machine, "-R"]


def cmd_test(args: argparse.Namespace) -> int:
    preset = args.preset
    suites = args.suite or (["unit", "integration"] if preset in SANITIZER_PRESETS else ["all"])
    # Sanitizer builds build only the suites they run; dev builds everything, as the other commands do.
    targets = None
    if preset in SANITIZER_PRESETS:
        chosen = SUITES[1:] if "all" in suites else suites
        targets = [SUITE_TARGETS[suite] for suite in chosen]
    # The node tools serve the e2e suite only (Prism's session test).
    needs_node = "all" in suites or "e2e" in suites
    status = ensure_setup() or (ensure_node_tools() if needs_node else 0) or build(preset, targets)
    if status:
        return status
    if preset == "dev":
        return counted_ctest(suites, args.verbose)
    wrapper = tsan_wrapper() if preset == "tsan" else []
    return ctest(preset, suites, args.verbose, env=sanitizer_env(preset), wrapper=wrapper)


def source_files(suffixes: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for directory in SOURCE_DIRS:
        files += sorted(p for p in (ROOT / directory).rglob("*") if p.suffix in suffixes and p.is_file())
    return files


def cmd_lint(_args: argparse.Namespace) -> int:
    files = source_files((".cpp", ".hpp", ".in"))
    files = [f for f in files if f.suffix != ".in"]
    status = run(["clang-format", "--dry-run", "--Werror", *map(str, files)])
    if status == 0:
        say(f"lint: {len(files)} files formatted")
    # Redocly's recommended rules, less those redocly.yaml turns off (each with its reason).
    node_status = ensure_node_tools()
    if node_status:
        return node_status
    # No usage reports or update checks: they would reach for the network.
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    redocly = run([str(NODE_TOOLS[0]), "lint", "--format=codeframe", str(OPENAPI_FILE.relative_to(ROOT))], cwd=ROOT,
                  env=env)
    if redocly == 0:
        say("lint: docs/openapi.yaml passes Redocly's lint")
    return status or redocly


def clang_tidy_one(path: Path, build_dir: Path) -> tuple[Path, int, str]:
    start = time.monotonic()
    try:
        result = subprocess.run(
            ["clang-tidy-16", "--quiet", "-p", str(build_dir), "--warnings-as-errors=*", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=CLANG_TIDY_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        # A check whose analysis does not end (clang-tidy 16's solver has no work limit) fails the file
        # with its name rather than holding the whole run.
        return path, 1, f"clang-tidy did not finish {path.relative_to(ROOT)} in {CLANG_TIDY_TIMEOUT_S} s"
    say(f"typecheck: {path.relative_to(ROOT)} ({time.monotonic() - start:.0f} s)")
    return path, result.returncode, result.stdout + result.stderr


def cmd_typecheck(_args: argparse.Namespace) -> int:
    # clang-tidy reads compile_commands.json and the headers that configuring generates; it needs no build.
    status = ensure_setup() or run(["cmake", "--preset", "dev"], cwd=ROOT)
    if status:
        return status
    build_dir = DEV_BUILD_DIR
    database = json.loads((build_dir / "compile_commands.json").read_text())
    compiled = {Path(entry["file"]).resolve() for entry in database}
    # These only compile the libraries (separate compilation); they hold no code of ours.
    libraries = ("asio_impl.cpp", "beast_impl.cpp", "boost_json_impl.cpp")
    files = [p for p in source_files((".cpp",)) if p in compiled and p.name not in libraries
             and p.parts[len(ROOT.parts)] == "src"]
    failures = 0
    # A finding counts when it is located in our sources; the static analyzer sometimes follows a path
    # of ours into a library header (Asio's coroutine machinery) and reports a false positive there.
    ours = re.compile(r"^(" + re.escape(str(ROOT / "src")) + r"/[^:]+):\d+:\d+: (warning|error): ")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for path, code, output in pool.map(lambda p: clang_tidy_one(p, build_dir), files):
            lines = [line for line in output.splitlines() if not line.endswith("warnings generated.")
                     and "Suppressed" not in line and "Use -header-filter" not in line
                     and "Use -system-headers" not in line]
            findings = [line for line in lines if ours.match(line)]
            if findings or (code != 0 and not any(": error: " in line or ": warning: " in line for line in lines)):
                failures += 1
                say(f"typecheck: {path.relative_to(ROOT)} failed")
                print("\n".join(lines), flush=True)
    say(f"typecheck: {len(files)} files, {failures} with findings")
    return 1 if failures else 0


# Written after a whole test run of the dev build passed; its counts are then the coverage of that build.
COVERAGE_STAMP = DEV_BUILD_DIR / "whole-test-run.stamp"
DEV_EXECUTABLES = ("src/addrservice", "tests/unit_tests", "tests/integration_tests", "tests/e2e_tests")


def counted_ctest(suites: list[str], verbose: bool) -> int:
    """Runs suites of the dev build, whose objects count the lines they run (gcov): the counts start
    from zero, so that after a whole run they are that run's coverage."""
    COVERAGE_STAMP.unlink(missing_ok=True)
    for counts in DEV_BUILD_DIR.rglob("*.gcda"):
        counts.unlink()
    status = ctest("dev", suites, verbose)
    if status == 0 and "all" in suites:
        COVERAGE_STAMP.write_text("every suite passed\n")
    return status


def counts_are_current() -> bool:
    """Whether the counts are those of a whole passing run of the executables as they are now built."""
    if not COVERAGE_STAMP.exists():
        return False
    stamp = COVERAGE_STAMP.stat().st_mtime
    return all((DEV_BUILD_DIR / name).exists() and (DEV_BUILD_DIR / name).stat().st_mtime < stamp
               for name in DEV_EXECUTABLES)


def cmd_coverage(_args: argparse.Namespace) -> int:
    status = ensure_setup() or ensure_node_tools() or build("dev")
    if status:
        return status
    if counts_are_current():
        say("coverage: counting the lines of the whole test run just made on this build")
    else:
        status = counted_ctest(["all"], False)
        if status:
            return status
    html = DEV_BUILD_DIR / "coverage" / "index.html"
    html.parent.mkdir(parents=True, exist_ok=True)
    return run([
        "gcovr", "--root", str(ROOT), "--filter", str(ROOT / "src"), "--exclude", str(ROOT / "src" / "server" / "main.cpp"),
        "--exclude-throw-branches", "--print-summary", "--fail-under-line", str(COVERAGE_FLOOR),
        "--html-details", str(html), str(DEV_BUILD_DIR),
    ])


def copy_seeds(target: str) -> Path:
    """The working corpus build/fuzz/corpus/<target>: the repository's seeds plus what earlier runs found."""
    corpus = FUZZ_BUILD_DIR / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in sorted((FUZZ_DIR / "corpus" / target).iterdir()):
        if seed.is_file():
            shutil.copyfile(seed, corpus / seed.name)
    return corpus


def fuzz_stats(output: str) -> dict[str, str]:
    """Executions and coverage from libFuzzer's output: its final statistics, else its last status line."""
    stats: dict[str, str] = {}
    for match in re.finditer(r"^#(\d+):?\s+(?:\w+\s+)?cov: (\d+) ft: (\d+)", output, re.MULTILINE):
        stats = {"executions": match.group(1), "cov": match.group(2), "ft": match.group(3)}
    executed = re.search(r"stat::number_of_executed_units: (\d+)", output)
    if executed:
        stats["executions"] = executed.group(1)
    return stats


def run_fuzzer(target: str, seconds: int, jobs: int, keep_going: bool) -> bool:
    """Runs one target on its working corpus; True when it found nothing."""
    binary = FUZZ_BUILD_DIR / "fuzz" / f"fuzz_{target}"
    corpus = copy_seeds(target)
    artifacts = FUZZ_BUILD_DIR / "artifacts" / target
    artifacts.mkdir(parents=True, exist_ok=True)
    before = set(artifacts.iterdir())
    log = FUZZ_BUILD_DIR / "logs" / f"{target}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [str(binary), str(corpus), f"-max_total_time={seconds}", f"-artifact_prefix={artifacts}/",
               "-print_final_stats=1", "-timeout=25", "-rss_limit_mb=2048"]
    dictionary = FUZZ_DIR / "dict" / f"{target}.dict"
    if dictionary.exists():
        command.append(f"-dict={dictionary}")
    if jobs > 1 or keep_going:
        # Fork mode: jobs processes, and with keep_going a crash is kept and the run goes on.
        command.append(f"-fork={jobs}")
    if keep_going:
        command += ["-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    if FUZZ_SYMBOLIZER.exists():
        env["ASAN_SYMBOLIZER_PATH"] = str(FUZZ_SYMBOLIZER)
    say("$ " + " ".join(command) + f"  > {log.relative_to(ROOT)}")
    with log.open("w") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, check=False,
                              cwd=FUZZ_BUILD_DIR).returncode
    output = log.read_text(errors="replace")
    stats = fuzz_stats(output)
    found = sorted(set(artifacts.iterdir()) - before)
    report = re.search(r"^(FINDING: .*|==\d+==ERROR: .*|SUMMARY: .*|.*runtime error: .*)$", output, re.MULTILINE)
    print(f"fuzz {target}: executions {stats.get('executions', '?')}, cov: {stats.get('cov', '?')}, "
          f"ft: {stats.get('ft', '?')}, exit {code}", flush=True)
    for artifact in found:
        print(f"fuzz {target}: crash file {artifact.relative_to(ROOT)}", flush=True)
    if code != 0 or found:
        if report:
            print(f"fuzz {target}: {report.group(1)}", flush=True)
        print(f"fuzz {target}: the whole output is in {log.relative_to(ROOT)}", flush=True)
        return False
    return True


def cmd_fuzz(args: argparse.Namespace) -> int:
    status = ensure_setup() or build("fuzz")
    if status:
        return status
    targets = [args.target] if args.target else list(FUZZ_TARGETS)
    failed = [target for target in targets if not run_fuzzer(target, args.seconds, args.jobs, args.keep_going)]
    if failed:
        say("fuzz: found something in " + ", ".join(failed) + "; keep each crash file under fuzz/regressions/<target>/")
        return 1
    say(f"fuzz: {len(targets)} target(s), nothing found")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    return ensure_setup() or bench.cmd_bench(args, ensure_packages, build)


def cmd_cluster(args: argparse.Namespace) -> int:
    problem = cluster.bad_args(args)
    if problem:
        say(f"cluster: {problem}")
        return 2
    status = ensure_setup() or build("release")
    return status or cluster.run_cluster(ROOT / "build" / "release" / "src" / "addrservice", args.instances,
                                         args.port, Path.cwd() / "var")


TOKEN_BYTES = 32  # 256 random bits, 43 characters of base64url


def token_line(token: str, name: str, scope: str) -> str:
    """The tokens file's line for a token: its scope, its SHA-256 and its holder (never the token)."""
    return f"{scope} {hashlib.sha256(token.encode()).hexdigest()} {name}"


def bad_client_name(name: str) -> str | None:
    """Why name cannot be a client name in the tokens file, or None when it can."""
    if not name.strip():
        return "the client name is empty"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "the client name has a control character"
    return None


def cmd_token(args: argparse.Namespace) -> int:
    problem = bad_client_name(args.name)
    if problem:
        say(f"token: {problem}")
        return 2
    token = secrets.token_urlsafe(TOKEN_BYTES)
    say(f"token: the {args.scope} token of {args.name.strip()!r} is printed once, here; the tokens file keeps only "
        "its SHA-256: add the second line to it, then send the service SIGHUP")
    print(token)
    print(token_line(token, args.name.strip(), args.scope))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tools/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("setup", help="install the Debian packages and node tools the project needs")
    p.add_argument("--no-node-tools", action="store_true", help="only what building needs (the container)")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("build", help="configure and build")
    p.add_argument("--preset", choices=PRESETS, default="dev")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="build the release binary and run it",
                       description="Build the release binary and run it; ARGS go to addrservice.")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for addrservice, e.g. --port 8080")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("test", help="build and run the tests")
    p.add_argument("--preset", choices=TEST_PRESETS, default="dev",
                   help="dev, or asan / tsan to run under sanitizers (default suites: unit and integration)")
    p.add_argument("--suite", choices=SUITES, action="append", help="may be given more than once (default: all)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_test)

    sub.add_parser("lint", help="clang-format check, Redocly lint of docs/openapi.yaml").set_defaults(func=cmd_lint)
    sub.add_parser("typecheck", help="run clang-tidy over both layers").set_defaults(func=cmd_typecheck)
    sub.add_parser("coverage", help="tests with coverage, 90 %% line floor").set_defaults(func=cmd_coverage)
    p = sub.add_parser("fuzz", help="build and run the libFuzzer targets")
    p.add_argument("--target", choices=FUZZ_TARGETS, help="one target (default: each in turn)")
    p.add_argument("--seconds", type=int, default=60, help="how long each target runs (default 60)")
    p.add_argument("--jobs", type=int, default=1, help="parallel fuzzing processes per target (default 1)")
    p.add_argument("--keep-going", action="store_true",
                   help="keep fuzzing after a crash (libFuzzer's fork mode), to collect every crash file of the run")
    p.set_defaults(func=cmd_fuzz)
    bench.add_parser(sub).set_defaults(func=cmd_bench)
    cluster.add_parser(sub).set_defaults(func=cmd_cluster)
    p = sub.add_parser("token", help="make a bearer token and its tokens-file line",
                       description="Print a new random bearer token (once) and the line that grants it in the "
                                   "tokens file (auth.tokens_file); the file holds the token's SHA-256, never the "
                                   "token.")
    p.add_argument("name", help="the client's name, as the RESPONSE log lines will show it")
    p.add_argument("--scope", choices=("read", "write"), required=True,
                   help="read: GET and HEAD; write: every method")
    p.set_defaults(func=cmd_token)

    # serve hands every argument it does not know to the binary (argparse's REMAINDER alone would
    # refuse a leading option such as --port).
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command != "serve":
            parser.error("unrecognized arguments: " + " ".join(unknown))
        args.args = unknown + args.args
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
