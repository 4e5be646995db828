"""Write the check catalog page from the explanations in `retainflow.explain`.

Input: `retainflow.explain.checks_markdown()` (the catalog rows and their explanations).
Output: docs/checks.md. With `--check`, nothing is written: the exit code is 1 when
the file is missing or differs from what would be generated (for CI), else 0.

    python scripts/gen_checks_doc.py            # regenerate
    python scripts/gen_checks_doc.py --check    # fail if stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "checks.md"

try:
    from retainflow.explain import checks_markdown
except ImportError:  # a source checkout without the package installed
    sys.path.insert(0, str(ROOT / "src"))
    from retainflow.explain import checks_markdown


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report whether the file is up to date"
    )
    parser.add_argument(
        "--out", type=Path, default=DOC, help=f"where to write (default: {DOC.relative_to(ROOT)})"
    )
    args = parser.parse_args(argv)
    expected = checks_markdown()
    target: Path = args.out
    if args.check:
        try:
            current = target.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != expected:
            print(
                f"{_shown(target)} is out of date: run `python scripts/gen_checks_doc.py`",
                file=sys.stderr,
            )
            return 1
        print(f"{_shown(target)} is up to date")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(expected)
    print(f"wrote {_shown(target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
