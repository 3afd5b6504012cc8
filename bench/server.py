"""A shared server's figures: CPU used while idle, and time to first render for many visitors at once.

Run: .venv/bin/python bench/server.py [--sessions 20] [--idle 20]
- idle CPU: the `streamlit run` process's CPU seconds over --idle seconds with nobody connected,
  as `make run` starts it (file watcher off) and with the watcher on (`make run WATCH=1`);
- first render: --sessions fresh browser sessions (headless Chromium, one context each) open the
  home page at the same moment, after warm-up visits; seconds from navigation until the page
  shows its content; p50, p95 and max; beside it one visitor alone, and the server's own CPU
  seconds per visit (the browsers share the same 2 cores, so the crowd's times include them).
Everything is on loopback; the numbers depend on the machine (2 cores here).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import first_renders, process_cpu_seconds, streamlit_server  # noqa: E402


def idle_cpu_share(process, seconds: float) -> float:
    time.sleep(5)  # let start-up work finish
    before = process_cpu_seconds(process.pid)
    time.sleep(seconds)
    return (process_cpu_seconds(process.pid) - before) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--idle", type=float, default=20)
    args = parser.parse_args()
    figures: dict = {}
    with tempfile.TemporaryDirectory() as scratch:
        database = f"sqlite:///{scratch}/bench.db"
        with streamlit_server(database, {"STREAMLIT_SERVER_FILE_WATCHER_TYPE": "auto"}, with_process=True) as (_, process):
            figures["idle_cpu_share_watcher_on"] = round(idle_cpu_share(process, args.idle), 4)
        with streamlit_server(database, with_process=True) as (url, process):
            figures["idle_cpu_share"] = round(idle_cpu_share(process, args.idle), 4)
            alone = [first_renders(url, 1)[0].seconds for _ in range(4)][1:]  # the first visit imports the pages
            before = process_cpu_seconds(process.pid)
            seconds = sorted(v.seconds for v in first_renders(url, args.sessions, timeout_s=300))
            figures["server_cpu_s_per_visit"] = round((process_cpu_seconds(process.pid) - before) / args.sessions, 3)
            figures["first_render_alone_s"] = round(statistics.median(alone), 2)
            figures["idle_cpu_share_after_visits"] = round(idle_cpu_share(process, args.idle), 4)
    figures.update(
        sessions=args.sessions,
        first_render_p50_s=round(statistics.median(seconds), 2),
        first_render_p95_s=round(seconds[max(0, round(0.95 * len(seconds)) - 1)], 2),
        first_render_max_s=round(seconds[-1], 2),
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
