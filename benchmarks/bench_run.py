"""`retainflow run` end to end: whole cases per second and peak memory of the command.

    python benchmarks/bench_run.py [--cases 20000] [--repeat 3] [--format jsonl]

Writes N cases of the conformance example (the 10 runnable cases of
shared/conformance/run/reactive_retention replicated as `bench_engine.py` does: new ids,
three cases per client, distinct instants over a year) into one JSON Lines case file, then
runs `python -m retainflow run WORKFLOW CASES --format F --out FILE` in a fresh process R
times: reading and checking the cases, the one timeline through the engine, the records
and writing them. Reported: the process's CPU time (user + system) and wall time, best of
R, as cases/s and us per case, and its peak resident memory (`ru_maxrss`). The output is
checked: one record per case, none an error.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import ROOT, WORKFLOW, inputs  # noqa: E402


def write_cases(count: int, path: Path) -> None:
    """The benchmark's timeline as a case file: one JSON object per case, in time order."""
    _, timeline = inputs(count)
    cases: dict[str, dict[str, Any]] = {}
    for at, _, sub, case_id, payload in timeline:
        item = {**payload, "at": at.isoformat()}
        if sub == 0:
            cases[case_id] = {**item, "events": []}
        else:
            cases[case_id]["events"].append(item)
    with path.open("w", encoding="utf-8") as out:
        for case in cases.values():
            out.write(json.dumps(case, default=_plain) + "\n")


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    return str(value)  # Money: "120000 USD", as a case file writes it


def run_once(cases: Path, output_format: str, out: Path) -> tuple[float, float, int]:
    """CPU seconds, wall seconds and peak RSS (kB) of one `retainflow run` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "retainflow", "run", str(WORKFLOW), str(cases)]
    command += ["--format", output_format, "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"retainflow run exited {done.returncode}: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, after.ru_maxrss


def check(out: Path, count: int, output_format: str) -> None:
    if output_format == "jsonl":
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    elif output_format == "json":
        records = json.loads(out.read_text(encoding="utf-8"))["results"]
    else:
        return
    assert len(records) == count, (len(records), count)
    assert not [r for r in records if r["status"] == "error"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", dest="output_format", default="jsonl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cases, out = Path(folder) / "cases.jsonl", Path(folder) / "out"
        write_cases(args.cases, cases)
        runs = [run_once(cases, args.output_format, out) for _ in range(args.repeat)]
        check(out, args.cases, args.output_format)
    cpu = min(r[0] for r in runs)
    wall = min(r[1] for r in runs)
    peak = max(r[2] for r in runs)  # ru_maxrss of children: the largest child so far
    print(
        f"retainflow run, {args.cases} cases, --format {args.output_format}: best of "
        f"{args.repeat} CPU {cpu:.2f}s = {args.cases / cpu:,.0f} cases/s "
        f"({cpu / args.cases * 1e6:.0f} us/case), wall {wall:.2f}s; "
        f"peak RSS {peak / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
