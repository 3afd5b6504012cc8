"""Reports figure: one report on a 100,000-review dataset in all four formats, embedded backend.

Run: .venv/bin/python bench/reports.py [--rows 100000] [--period START:END]

The dataset is built once in a scratch database by `python -m core sentiment` from a file of
--rows reviews (5,000 distinct texts spread over a year, 20 products and 4 channels; repeats are
answered from the sentiment cache, as in a real export full of duplicates). What is timed is the
report itself, in a fresh process each time, model load included:
- `python -m core report ID --format F` for each of pdf, docx, html and xlsx (each builds the
  report again: figures, summary by the embedded model, charts, file);
- all four formats from one build, in process (what the page does: build once, four downloads).
Run it under `taskset -c 0,1` to hold it to two cores.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.train_sentiment_head import load_labelled  # noqa: E402

CHANNELS = ["email", "app store", "web", "social"]
TAILS = ["", " Overall that is my view.", " Just my experience.", " Bought it last month.", " Would say the same again."]


def write_reviews(path: Path, n: int) -> None:
    texts, _ = load_labelled()
    distinct = [t.replace('"', "'") + tail for tail in TAILS for t in texts]
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,date,product,channel,rating,review\n")
        for i in range(n):
            day = (i * 7919) % 365
            stamp = time.strftime("%Y-%m-%d", time.gmtime(1_767_225_600 + day * 86_400))  # 2026
            handle.write(f'{i},{stamp},P{1 + i % 20},{CHANNELS[i % 4]},{1 + i % 5},"{distinct[i % len(distinct)]}"\n')


def run(args: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(result.stderr)
    return elapsed, result.stdout.strip().splitlines()[-1]


IN_PROCESS = """
import json, sys, time
from datetime import date
from core.reports.build import build_report
from core.reports.render import FORMATS, render
start, end = (date.fromisoformat(x) for x in sys.argv[2].split(":"))
t0 = time.perf_counter()
report = build_report(int(sys.argv[1]), start=start, end=end)
built = time.perf_counter() - t0
sizes = {}
for fmt in FORMATS:
    sizes[fmt] = len(render(report, fmt))
print(json.dumps({"reviews": report.facts["reviews"], "summary_source": report.summary_source,
                  "build_s": round(built, 1), "total_s": round(time.perf_counter() - t0, 1), "bytes": sizes}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--period", default="2026-01-01:2026-12-31", help="the report's period (default: the whole year, every row)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            "DATABASE_URL": f"sqlite:///{scratch}/bench.db",
            "HF_HUB_OFFLINE": "1",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MERCURY_DATA_DIR": scratch,
        }
        source = Path(scratch) / "reviews.csv"
        write_reviews(source, args.rows)
        scoring_s, _ = run(["-m", "core", "sentiment", str(source), "--json"], env)
        figures: dict = {"rows": args.rows, "cores": len(os.sched_getaffinity(0)), "scoring_s": round(scoring_s, 1)}
        dataset_id = 1  # the first dataset of a fresh database
        for fmt in ("pdf", "docx", "html", "xlsx"):
            out = Path(scratch) / f"report.{fmt}"
            seconds, line = run(["-m", "core", "report", str(dataset_id), "--format", fmt, "--out", str(out), "--period", args.period], env)
            figures[f"cli_{fmt}_s"] = round(seconds, 1)
            figures[f"{fmt}_kib"] = round(out.stat().st_size / 1024)
        figures["cli_reviews"] = json.loads(line)["reviews"]
        seconds, line = run(["-c", IN_PROCESS, str(dataset_id), args.period], env)
        figures["all_four_one_process_s"] = round(seconds, 1)
        figures["all_four_detail"] = json.loads(line)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
