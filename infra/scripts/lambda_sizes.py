#!/usr/bin/env python3
"""Fails when a function's deployment zip is missing or larger than the limit.

    lambda_sizes.py LAMBDA_DIR LIMIT_BYTES FUNCTION...

LAMBDA_DIR is cargo-lambda's output (target/lambda), holding <function>/bootstrap.zip. The
limit is leadscore's own (6 MB, issue 7): small zips keep cold starts short, and a zip that
grows past it means a dependency crept in. Lambda's own limit is 50 MB.
"""

import sys
import zipfile
from pathlib import Path


def check(lambda_dir: Path, limit: int, functions: list[str]) -> list[str]:
    """The problems found, one line each; prints each function's sizes as it goes."""
    problems = []
    for name in functions:
        path = lambda_dir / name / "bootstrap.zip"
        if not path.is_file():
            problems.append(f"{path}: missing (did `cargo lambda build --output-format zip` run?)")
            continue
        size = path.stat().st_size
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                unzipped = sum(i.file_size for i in z.infolist())
        except zipfile.BadZipFile as e:
            problems.append(f"{path}: not a zip file ({e})")
            continue
        print(f"{name:<8} {size / 1e6:6.2f} MB zipped, {unzipped / 1e6:6.2f} MB unzipped  {path}")
        if "bootstrap" not in names:
            problems.append(f"{path}: has no `bootstrap` at its root ({', '.join(names)})")
        if size > limit:
            problems.append(f"{path}: {size} bytes, over the {limit}-byte limit")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 4 or not argv[2].isdigit():
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    problems = check(Path(argv[1]), int(argv[2]), argv[3:])
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
