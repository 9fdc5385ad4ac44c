"""Time `make book` three ways, in a scratch copy of the working tree (``make timings``).

1. from clean (no ``_build``): every chapter executes;
2. again with nothing changed: nothing executes, nothing is rewritten;
3. after an edit to optlib's source (a comment appended to ``optlib/problems.py`` in the
   copy): the execution cache is cleared and every chapter executes again.

The copy shares this repository's ``.venv`` (a symlink); its ``requirements.txt`` and
``pyproject.toml`` are back-dated so that ``make book``'s set-up step has nothing to do (it
must never reinstall the shared environment from the copy). Prints a Markdown table for the
README's "Build speed" section. The copy is deleted at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "_build", "__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info",
    ".ipynb_checkpoints",
)


def make_book(copy: Path, allow_warnings: bool = False) -> tuple[float, int, int, str]:
    """Run ``make book`` in ``copy``; wall time, notebooks executed, cache hits, output."""
    start = time.perf_counter()
    proc = subprocess.run(
        ["make", "book"], cwd=copy, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    only_warnings = re.search(r"build finished with problems, \d+ warnings?\.", out)
    if proc.returncode != 0 and not (allow_warnings and only_warnings):
        sys.exit(f"make book failed in {copy}:\n{out[-3000:]}")
    # MyST-NB's own executions, and those the book's extension runs side by side beforehand
    # (which MyST-NB then reads back from the cache: not cache hits of an earlier build)
    ahead = len(re.findall(r"\[rolling_site\] executed ", out))
    executed = ahead + len(re.findall(r"Executed notebook in", out))
    cached = len(re.findall(r"Using cached notebook", out)) - ahead
    return seconds, executed, cached, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument(
        "--allow-warnings",
        action="store_true",
        help="time builds that finish with Sphinx warnings (e.g. labels of unwritten chapters)",
    )
    args = parser.parse_args()

    copy = Path(tempfile.mkdtemp(prefix="rd-timings-"))
    try:
        shutil.copytree(ROOT, copy, ignore=IGNORE, dirs_exist_ok=True)
        os.symlink(ROOT / ".venv", copy / ".venv")
        for name in ("requirements.txt", "pyproject.toml"):
            os.utime(copy / name, (0, 0))
        stamp = subprocess.run(["make", "-q", ".venv/.installed"], cwd=copy, check=False)
        if stamp.returncode != 0:
            sys.exit("the shared .venv is not set up (run `make setup` in the repository first)")
        rows = []
        t, e, c, _ = make_book(copy, args.allow_warnings)
        rows.append(("from clean (no `_build/`)", t, e, c))
        pages = len(list((copy / "_build" / "html" / "chapters").glob("*.html")))
        t, e, c, _ = make_book(copy, args.allow_warnings)
        rows.append(("again, nothing changed", t, e, c))
        with open(copy / "optlib" / "problems.py", "a", encoding="utf-8") as f:
            f.write("\n# edited by benchmarks/build_timings.py\n")
        t, e, c, _ = make_book(copy, args.allow_warnings)
        rows.append(("after an edit to `optlib/`", t, e, c))
    finally:
        if not args.keep:
            shutil.rmtree(copy, ignore_errors=True)
    cpus = os.cpu_count()
    print(f"`make book` on {cpus} cores, {pages} chapter pages ({time.strftime('%Y-%m-%d')}):\n")
    print("| build | wall time | notebooks executed | taken from the cache |")
    print("|---|---:|---:|---:|")
    for name, seconds, executed, cached in rows:
        print(f"| {name} | {seconds:.0f} s | {executed} | {cached} |")
    if args.keep:
        print(f"\nscratch copy kept: {copy}")


if __name__ == "__main__":
    main()
