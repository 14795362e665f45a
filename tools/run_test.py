"""Tests of tools/run.py's own parts that need no build: token, and when coverage may report the counts of
the last test run. (Run by CTest as tools_run; or python3 -m unittest run_test in tools/.)
"""

from __future__ import annotations

import hashlib
import re
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import run

RUN = Path(__file__).resolve().parent / "run.py"


def token(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(RUN), "token", *args], capture_output=True, text=True, check=False)


class TokenTest(unittest.TestCase):
    def test_prints_a_new_token_and_the_tokens_file_line_that_holds_its_sha256(self) -> None:
        result = token("Billing Robot", "--scope", "write")
        self.assertEqual(result.returncode, 0, result.stderr)
        secret, line = result.stdout.splitlines()
        self.assertRegex(secret, r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(line, f"write {hashlib.sha256(secret.encode()).hexdigest()} Billing Robot")
        self.assertNotIn(secret, result.stderr)
        self.assertIn("once", result.stderr)

    def test_each_token_is_new(self) -> None:
        tokens = {token("reader", "--scope", "read").stdout.splitlines()[0] for _ in range(3)}
        self.assertEqual(len(tokens), 3)
        line = token("reader", "--scope", "read").stdout.splitlines()[1]
        self.assertTrue(re.fullmatch(r"read [0-9a-f]{64} reader", line), line)

    def test_a_missing_scope_or_an_unusable_name_is_refused_with_status_2(self) -> None:
        for args, message in ((["reader"], "--scope"), (["reader", "--scope", "admin"], "invalid choice"),
                              (["  ", "--scope", "read"], "the client name is empty"),
                              (["a\nb", "--scope", "read"], "control character")):
            with self.subTest(args=args):
                result = token(*args)
                self.assertEqual(result.returncode, 2)
                self.assertEqual(result.stdout, "")
                self.assertIn(message, result.stderr)


class CoverageCountsTest(unittest.TestCase):
    """coverage reports the counts of the last test run only when that run was whole, passed, and the
    programs were not rebuilt since; every test run starts its counts from zero."""

    def setUp(self) -> None:
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.build = Path(scratch.name)
        for name in run.DEV_EXECUTABLES:
            (self.build / name).parent.mkdir(parents=True, exist_ok=True)
            (self.build / name).write_text("program")
            os.utime(self.build / name, (1_000_000, 1_000_000))
        self.counts = self.build / "src" / "CMakeFiles" / "store.cpp.gcda"
        self.counts.parent.mkdir(parents=True)
        self.counts.write_text("counts of an earlier run")
        for name, value in (("DEV_BUILD_DIR", self.build), ("COVERAGE_STAMP", self.build / "stamp")):
            patcher = mock.patch.object(run, name, value)
            patcher.start()
            self.addCleanup(patcher.stop)
        self.counts_seen_by_ctest: list[bool] = []

    def run_tests(self, suites: list[str], status: int) -> int:
        def fake_ctest(*_args: object, **_kwargs: object) -> int:
            self.counts_seen_by_ctest.append(self.counts.exists())
            return status
        with mock.patch.object(run, "ctest", fake_ctest):
            return run.counted_ctest(suites, False)

    def test_a_whole_passing_run_is_what_coverage_reports(self) -> None:
        self.assertFalse(run.counts_are_current())
        self.assertEqual(self.run_tests(["all"], 0), 0)
        self.assertEqual(self.counts_seen_by_ctest, [False])
        self.assertTrue(run.counts_are_current())

    def test_a_rebuilt_program_makes_the_counts_stale(self) -> None:
        self.run_tests(["all"], 0)
        os.utime(self.build / "tests" / "e2e_tests")
        self.assertFalse(run.counts_are_current())

    def test_a_partial_or_failing_run_is_not_reported(self) -> None:
        self.run_tests(["all"], 0)
        self.run_tests(["unit"], 0)
        self.assertFalse(run.counts_are_current())
        self.run_tests(["all"], 8)
        self.assertFalse(run.counts_are_current())
        self.assertEqual(self.counts_seen_by_ctest, [False, False, False])


if __name__ == "__main__":
    unittest.main()
