"""Tests of tools/bench.py's own reckoning: the open-loop schedule, the latency window and percentiles, and
which rounds count against nginx. (Run by CTest as bench_harness; or python3 -m unittest bench_test in tools/.)
"""

from __future__ import annotations

import datetime
import http.server
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path

import bench


def send_times(schedule: bench.Schedule, length: float) -> list[float]:
    """Every request's send time, in seconds from the first connection's opening, as h2load runs the schedule."""
    timeline = schedule.timeline(length)
    return sorted(i * schedule.spacing_ms / 1000 + t for i in range(schedule.connections) for t in timeline)


class ScheduleTest(unittest.TestCase):
    def test_requests_of_all_connections_arrive_evenly_spaced_at_about_the_rate_asked(self) -> None:
        for asked in (60, 1234, 6073, 50000, 112000):
            with self.subTest(asked=asked):
                schedule = bench.Schedule(asked, 1000)
                self.assertLessEqual(abs(schedule.rate - asked), bench.Schedule.TOLERANCE * asked)
                start = schedule.ramp + 1
                sent = [t for t in send_times(schedule, start + 3.5) if start <= t < start + 3]
                gaps = [b - a for a, b in zip(sent, sent[1:])]
                self.assertAlmostEqual(len(sent) / 3, schedule.rate, delta=2 / 3)
                self.assertAlmostEqual(min(gaps), 1 / schedule.rate, delta=1e-9)
                self.assertAlmostEqual(max(gaps), 1 / schedule.rate, delta=1e-9)

    def test_a_connection_sends_about_once_a_period_in_order(self) -> None:
        schedule = bench.Schedule(50000, 1000)
        timeline = schedule.timeline(10)
        period = schedule.connections / schedule.rate
        self.assertEqual(timeline, sorted(timeline))
        self.assertGreaterEqual(timeline[-1], 10)
        for k, t in enumerate(timeline):
            self.assertTrue(k * period <= t < k * period + schedule.spacing_ms / 1000, (k, t))

    def test_a_slow_rate_opens_the_connections_further_apart(self) -> None:
        schedule = bench.Schedule(100, 1000)
        self.assertEqual((schedule.spacing_ms, schedule.waves, schedule.rate), (10, 1, 100))
        self.assertEqual(schedule.ramp, 10)


class LatencyTest(unittest.TestCase):
    def test_percentiles_are_nearest_rank(self) -> None:
        ordered = list(range(1, 1001))
        self.assertEqual(bench.percentile(ordered, 0.5), 500)
        self.assertEqual(bench.percentile(ordered, 0.99), 990)
        self.assertEqual(bench.percentile(ordered, 0.999), 999)
        self.assertEqual(bench.percentile(ordered, 1.0), 1000)
        self.assertEqual(bench.percentile([7], 0.999), 7)

    def test_only_requests_sent_in_the_window_count(self) -> None:
        rows = [(999_999, 200, 50), (1_000_000, 200, 30), (1_500_000, -1, 0), (1_600_000, 404, 10),
                (1_999_999, 200, 20), (2_000_000, 200, 99)]
        with tempfile.TemporaryDirectory() as directory:
            log = Path(directory) / "h2load.log"
            log.write_text("".join(f"{start}\t{status}\t{latency}\n" for start, status, latency in rows))
            latencies, failed, non_2xx = bench.window_latencies(log, 1_000_000, 2_000_000)
        self.assertEqual((latencies, failed, non_2xx), ([10, 20, 30], 1, 1))


def run(target: str, round_number: int, rps: float, cpu: float, workload: str = "get") -> dict:
    return {"workload": workload, "target": target, "round": round_number, "rps": rps, "cpu": cpu}


class RoundsTest(unittest.TestCase):
    def test_a_round_whose_nginx_was_not_busy_is_marked_and_left_out_of_the_summary(self) -> None:
        results = [run("addrservice", 1, 80000, 0.99), run("nginx", 1, 100000, 0.97),
                   run("addrservice", 2, 60000, 0.70), run("nginx", 2, 62000, 0.60),
                   run("addrservice", 3, 90000, 0.99), run("nginx", 3, 100000, 0.92)]
        open_loop = [dict(run("addrservice", 2, 30000, 0.5), load=0.5)]
        bench.mark_rounds(results, open_loop)
        self.assertEqual([r["client_bound"] for r in results], [False, False, True, True, False, False])
        self.assertTrue(open_loop[0]["client_bound"])
        self.assertEqual([bench.ratio_text(r) for r in results],
                         ["80%", "ceiling", "(97%)", "client-bound", "90%", "ceiling"])
        self.assertIn("  get: addrservice 85% (median of 2 of 3 rounds)", bench.summary(results))

    def test_a_workload_with_no_busy_nginx_has_no_figure(self) -> None:
        results = [run("addrservice", 1, 9000, 0.2), run("nginx", 1, 10000, 0.2)]
        bench.mark_rounds(results, [])
        self.assertIn("  get: addrservice: no round counts", bench.summary(results))


class CheckpointTest(unittest.TestCase):
    def test_a_run_is_marked_with_the_seconds_of_sync_phases_it_overlapped(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            log = Path(directory) / "postgresql.log"
            log.write_text(
                "2026-12-02 14:36:04.563 UTC [12794] LOG:  checkpoint starting: wal\n"
                "2026-12-02 14:36:18.627 UTC [12794] LOG:  checkpoint complete: wrote 46 buffers (0.3%); "
                "0 WAL file(s) added, 0 removed, 33 recycled; write=13.536 s, sync=0.465 s, total=14.064 s\n"
                "2026-12-02 14:36:30.000 UTC [12794] LOG:  checkpoint complete: wrote 8 buffers (0.0%); "
                "write=0.001 s, sync=2.000 s, total=2.010 s\n")
            at = datetime.datetime(2026, 12, 2, 14, 36, tzinfo=datetime.timezone.utc).timestamp()
            results = [
                {"store_cpu": 0.4, "started": at + 10, "ended": at + 18.3},  # holds 0.138 s of the first
                {"store_cpu": 0.4, "started": at + 18.3, "ended": at + 29},  # the rest of it, 1 s of the second
                {"store_cpu": 0.4, "started": at + 40, "ended": at + 50},  # none
                {"store_cpu": None, "started": at + 10, "ended": at + 30},  # not on postgres
            ]
            bench.mark_checkpoints(results, log)
        self.assertAlmostEqual(results[0]["checkpoint_sync_s"], 0.138, places=3)
        self.assertAlmostEqual(results[1]["checkpoint_sync_s"], 0.327 + 1.0, places=3)
        self.assertEqual(results[2]["checkpoint_sync_s"], 0)
        self.assertNotIn("checkpoint_sync_s", results[3])

    def test_no_log_marks_nothing(self) -> None:
        results = [{"store_cpu": 0.4, "started": 0.0, "ended": 1.0}]
        bench.mark_checkpoints(results, Path("/nonexistent/postgresql.log"))
        self.assertEqual(results[0]["checkpoint_sync_s"], 0)


class TargetsTest(unittest.TestCase):
    def test_a_name_says_what_varies_in_the_run(self) -> None:
        binaries = [("addrservice", Path("/a")), ("HEAD~1", Path("/b"))]
        self.assertEqual([t.name for t in bench.make_targets(binaries[:1], ["memory"], [None], ["info"], None)],
                         ["addrservice", "nginx"])
        targets = bench.make_targets(binaries, ["memory"], [None], ["info", "warning"], None)
        self.assertEqual([(t.name, t.binary, t.log_level) for t in targets],
                         [("addrservice@info", Path("/a"), "info"), ("addrservice@warning", Path("/a"), "warning"),
                          ("HEAD~1@info", Path("/b"), "info"), ("HEAD~1@warning", Path("/b"), "warning"),
                          ("nginx", None, "info")])

    def test_pool_sizes_apply_to_the_postgres_store_only(self) -> None:
        targets = bench.make_targets([("addrservice", Path("/a"))], ["sqlite", "postgres"], [4, 16], ["info"], None)
        self.assertEqual([(t.name, t.store, t.pool) for t in targets],
                         [("addrservice/sqlite", "sqlite", None), ("addrservice/postgres-p4", "postgres", 4),
                          ("addrservice/postgres-p16", "postgres", 16), ("nginx", "memory", None)])


class PathsTest(unittest.TestCase):
    def test_only_get_requests_are_replayed(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            paths = Path(directory) / "paths.txt"
            paths.write_text("GET /addresses/a\nGET /addresses/b\n")
            self.assertEqual(bench.open_loop_paths("get", paths), ["/addresses/a", "/addresses/b"])
            paths.write_text("GET /addresses/a\nPOST /addresses\n")
            with self.assertRaisesRegex(RuntimeError, "GET requests only; post sends POST"):
                bench.open_loop_paths("post", paths)
            with self.assertRaisesRegex(RuntimeError, "makes them as it runs"):
                bench.open_loop_paths("churn", Path(directory) / "absent.txt")


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers everything (201 and a Location for a POST, 200 otherwise) and records each request in order."""
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, bytes]] = []

    def answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.command, self.path, body))
        self.send_response(201 if self.command == "POST" else 200)
        if self.command == "POST":
            self.send_header("Location", f"/addresses/made{len(self.seen)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = answer

    def log_message(self, *args) -> None:
        pass


@unittest.skipUnless(shutil.which("wrk"), "wrk is not installed (tools/run.py bench installs it)")
class WorkloadScriptTest(unittest.TestCase):
    """The workload scripts as wrk runs them, over one connection to a server that records the requests."""

    def run_script(self, script: str, pipeline: int, ids: list[str], mix: str = "") -> list[tuple[str, str, bytes]]:
        server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
        Recorder.seen = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with tempfile.TemporaryDirectory() as directory:
                ids_file, self.paths_file = Path(directory) / "ids.txt", Path(directory) / "paths.txt"
                ids_file.write_text("\n".join(ids) + "\n")
                env = dict(os.environ, LUA_PATH=f"{bench.BENCH_DIR}/?.lua;;", BENCH_DIR=str(bench.BENCH_DIR),
                           BENCH_IDS=str(ids_file), BENCH_PIPELINE=str(pipeline), BENCH_MIX=mix,
                           BENCH_PATHS=str(self.paths_file))
                result = subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", str(bench.BENCH_DIR / script),
                                         f"http://127.0.0.1:{server.server_address[1]}"],
                                        env=env, capture_output=True, text=True, check=False)
                self.assertIn("BENCH {", result.stdout, result.stderr)
                self.paths = self.paths_file.read_text().splitlines() if self.paths_file.exists() else None
        finally:
            server.shutdown()
            server.server_close()
        self.assertGreater(len(Recorder.seen), 3 * pipeline)
        return Recorder.seen

    def test_get_sends_the_prepared_requests_in_order_in_batches(self) -> None:
        ids = ["a1", "b2", "c3", "d4", "e5"]
        for pipeline in (1, 3):
            with self.subTest(pipeline=pipeline):
                seen = self.run_script("get.lua", pipeline, ids)
                expected = itertools.cycle(f"/addresses/{id}" for id in ids)
                self.assertEqual([path for _, path, _ in seen], [next(expected) for _ in seen])
                self.assertEqual(self.paths, [f"GET /addresses/{id}" for id in ids])

    def test_a_single_request_is_sent_as_it_is(self) -> None:
        for pipeline in (1, 4):
            with self.subTest(pipeline=pipeline):
                seen = self.run_script("notfound.lua", pipeline, ["a1"])
                self.assertEqual({(method, path) for method, path, _ in seen}, {("GET", "/no/such/endpoint")})
                self.assertEqual(self.paths, ["GET /no/such/endpoint"])

    def test_put_replaces_the_preloaded_entries_with_valid_bodies(self) -> None:
        seen = self.run_script("mixed.lua", 2, ["a1", "b2"], "0,100,0")
        self.assertEqual({(method, path) for method, path, _ in seen},
                         {("PUT", "/addresses/a1"), ("PUT", "/addresses/b2")})
        self.assertTrue(all(body.startswith(b'{"full_name":"Rowan Quillfeather ') for _, _, body in seen))

    def test_churn_deletes_only_entries_that_exist(self) -> None:
        for pipeline in (1, 3):
            with self.subTest(pipeline=pipeline):
                seen = self.run_script("churn.lua", pipeline, ["a1", "b2"])
                existing = {"a1", "b2"}
                for n, (method, path, _) in enumerate(seen, 1):
                    if method == "POST":
                        existing.add(f"made{n}")
                    else:
                        self.assertEqual(method, "DELETE")
                        existing.remove(path.rsplit("/", 1)[1])
                # A DELETE waits for a POST's answer; one connection with a deep pipeline has few to hand.
                self.assertGreater(sum(method == "DELETE" for method, _, _ in seen), len(seen) // 5)


if __name__ == "__main__":
    unittest.main()
