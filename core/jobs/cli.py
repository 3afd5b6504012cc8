"""`python -m core jobs [wait ID | cancel ID]` and `python -m core worker`, and the `--queue` that
long commands take to run as a job instead of in the terminal."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from core.errors import UserError
from core.i18n import LANGUAGES, Msg, default_language, render, rendered
from core.jobs import store

WAIT_POLL_S = 0.5


def add_queue_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", action="store_true", help='submit it as a job for a worker instead and print its id ({"job": ID} with --json)')


def submitted(job_id: int, args: argparse.Namespace) -> int:
    """What a command run with --queue prints."""
    if getattr(args, "json", False):
        print(json.dumps({"job": job_id}))
    else:
        print(Msg("Submitted as job {job}: follow it with python -m core jobs wait {job}.", job=str(job_id)).render(_language(args)))
    return 0


def _language(args: argparse.Namespace) -> str:
    return getattr(args, "language", None) or default_language()


def _line(view: store.JobView, language: str) -> str:
    seconds = "" if view.seconds is None else f" {view.seconds:.0f} s"
    said = render(view.error if view.state in ("failed", "cancelled") else view.progress, language)
    return f"{view.id:>5}  {view.kind:<13} {view.state:<9}{seconds:>8}  {said}"


def cmd_jobs(args: argparse.Namespace) -> int:
    views = [store.JobView.of(job) for job in store.recent_jobs(args.limit)]
    if args.json:
        print(json.dumps(rendered([v.as_dict() for v in views], _language(args)), ensure_ascii=False))
    else:
        for view in views:
            print(_line(view, _language(args)))
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    """Exit 0 with the result when the job is done, 2 with its error when it failed or was cancelled."""
    deadline = time.monotonic() + args.timeout if args.timeout else None
    while True:
        view = store.JobView.of(store.get_job(args.id))
        if view.state == "done":
            print(json.dumps(view.result, ensure_ascii=False))
            return 0
        if view.state in ("failed", "cancelled"):
            raise UserError(Msg("Job {job} {state}: {error}", job=str(view.id), state=Msg(view.state), error=view.error))
        if deadline and time.monotonic() > deadline:
            raise UserError(Msg("Job {job} is still {state} after {seconds} s.", job=str(view.id), state=Msg(view.state), seconds=args.timeout))
        if not args.quiet:
            print("\r" + _line(view, _language(args)), end="", file=sys.stderr, flush=True)
        time.sleep(WAIT_POLL_S)


def cmd_cancel(args: argparse.Namespace) -> int:
    view = store.JobView.of(store.cancel(args.id))
    print(_line(view, _language(args)))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from core.jobs.queue import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_worker(threads=args.threads)
    return 0


def register(commands) -> None:
    jobs = commands.add_parser("jobs", help="the recent jobs with their state, progress and duration; wait for one, or cancel it")
    jobs.add_argument("--limit", type=int, default=50)
    jobs.add_argument("--json", action="store_true")
    jobs.add_argument("--language", choices=list(LANGUAGES), help="the language of its sentences")
    jobs.set_defaults(handler=cmd_jobs)
    actions = jobs.add_subparsers(dest="action")
    wait = actions.add_parser("wait", help="wait for a job: exit 0 and print its result when done, 2 with its error when it failed")
    wait.add_argument("id", type=int)
    wait.add_argument("--timeout", type=float, help="give up after this many seconds (exit 2)")
    wait.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    wait.add_argument("--language", choices=list(LANGUAGES))
    wait.set_defaults(handler=cmd_wait)
    cancel = actions.add_parser("cancel", help="stop a job at its next chunk; what is done is kept")
    cancel.add_argument("id", type=int)
    cancel.add_argument("--language", choices=list(LANGUAGES))
    cancel.set_defaults(handler=cmd_cancel)

    worker = commands.add_parser("worker", help="run jobs: one at a time, torch on the cores this process is given (make run starts one)")
    worker.add_argument("--threads", type=int, help="torch threads (default: the cores this process may use)")
    worker.set_defaults(handler=cmd_worker)
