"""Tests of tools/run.py's own commands that need no build: token. (Run by CTest as tools_run; or
python3 -m unittest run_test in tools/.)
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import unittest
from pathlib import Path

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


if __name__ == "__main__":
    unittest.main()
