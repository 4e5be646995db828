"""`retainflow lint` on 1,000 files of reference size, cold, as CI runs it.

Run: `.venv/bin/python benchmarks/bench_lint.py [COUNT]`. Copies the reference workflows
round-robin into a temporary folder (each copy renamed so every file is distinct), then
times a fresh `retainflow lint --format json` process over the folder: interpreter start,
imports, parser construction and all the checks included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    sources = sorted((ROOT / "workflows").glob("*.rflow"))
    if not sources:
        raise SystemExit("no reference workflows in workflows/")
    texts = [path.read_text(encoding="utf-8") for path in sources]
    lines = sum(text.count("\n") for text in texts) / len(texts)
    folder = Path(tempfile.mkdtemp(prefix="rflow-bench-"))
    try:
        for index in range(count):
            text = texts[index % len(texts)]
            (folder / f"wf_{index:04d}.rflow").write_text(text, encoding="utf-8")
        command = [str(Path(sys.executable).parent / "retainflow"), "lint", "--format", "json"]
        began = time.perf_counter()
        result = subprocess.run(
            [*command, str(folder)], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - began
        document = json.loads(result.stdout)
    finally:
        shutil.rmtree(folder)
    print(
        f"{document['files']} files (about {lines:.0f} lines each), "
        f"{len(document['diagnostics'])} diagnostics, exit {result.returncode}"
    )
    print(f"cold lint: {elapsed:.2f} s on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
