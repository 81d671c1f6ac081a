"""The zip size check fails on what it must: run with `python -m unittest` (make infra-lint)."""

import io
import os
import tempfile
import unittest
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import lambda_sizes


def write_zip(root: Path, function: str, members: dict[str, bytes]) -> Path:
    path = root / function / "bootstrap.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = lambda_sizes.main(["lambda_sizes.py", *argv])
    return code, err.getvalue()


class ZipSizes(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def test_zips_within_the_limit_pass(self):
        for f in ("ingest", "sweep"):
            write_zip(self.root, f, {"bootstrap": b"x" * 1000})
        self.assertEqual(run(str(self.root), "2000", "ingest", "sweep"), (0, ""))

    def test_a_zip_over_the_limit_fails_and_is_named(self):
        write_zip(self.root, "ingest", {"bootstrap": b"x" * 100})
        big = write_zip(self.root, "notify", {"bootstrap": os.urandom(5000)})
        code, err = run(str(self.root), "4000", "ingest", "notify")
        self.assertEqual(code, 1)
        self.assertIn(f"{big}: {big.stat().st_size} bytes, over the 4000-byte limit", err)
        self.assertNotIn("ingest", err)

    def test_a_missing_zip_fails(self):
        code, err = run(str(self.root), "6000000", "sweep")
        self.assertEqual(code, 1)
        self.assertIn("sweep/bootstrap.zip: missing", err)

    def test_a_zip_without_bootstrap_fails(self):
        write_zip(self.root, "sweep", {"sweep": b"binary"})
        code, err = run(str(self.root), "6000000", "sweep")
        self.assertEqual(code, 1)
        self.assertIn("has no `bootstrap` at its root (sweep)", err)

    def test_a_file_that_is_not_a_zip_fails(self):
        path = self.root / "ingest" / "bootstrap.zip"
        path.parent.mkdir()
        path.write_bytes(b"not a zip")
        code, err = run(str(self.root), "6000000", "ingest")
        self.assertEqual(code, 1)
        self.assertIn("not a zip file", err)

    def test_bad_arguments_are_a_usage_error(self):
        self.assertEqual(run(str(self.root), "six MB", "ingest")[0], 2)
        self.assertEqual(run(str(self.root))[0], 2)


if __name__ == "__main__":
    unittest.main()
