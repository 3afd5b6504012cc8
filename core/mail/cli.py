"""`python -m core mailbox check | pull | push | voice`: the team's mailbox over IMAP, as the Email
page's Mailbox tab works it. Safe from cron: one run per mailbox at a time, exit 2 with one sentence
when the server refuses or times out, and what was done before is kept."""
from __future__ import annotations

import argparse
import json
import sys

from core.brand import current_brand, read_brand_file
from core.i18n import LANGUAGES, Msg, default_language, rendered
from core.jobs.cli import add_queue_option, submitted
from core.jobs.kinds import backend_inputs
from core.jobs.queue import submit
from core.llm import backend_names, resolve_spec
from core.mail import mailbox


def _language(args: argparse.Namespace) -> str:
    return args.language or default_language()


def _brand(args: argparse.Namespace):
    return read_brand_file(args.brand) if getattr(args, "brand", None) else current_brand()


def cmd_check(args: argparse.Namespace) -> int:
    print(mailbox.check().render(_language(args)))
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    spec = resolve_spec(args.backend, model=args.model) if args.backend else None
    if args.queue:
        return submitted(submit("mailbox_pull", {**backend_inputs(spec or resolve_spec()), "draft": not args.no_drafts}), args)

    def progress(done: int, total: int) -> None:
        if not args.json:
            print("\r" + Msg("Read {done} of {total} messages", done=done, total=total).render(_language(args)), end="", file=sys.stderr, flush=True)

    result = mailbox.pull(_brand(args), spec=spec, draft=not args.no_drafts, progress=progress)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    print(file=sys.stderr)
    print(
        Msg(
            "Read {read} new messages of {mailbox} without marking them read: {new} new to the queue, {needs_reply} need a reply, "
            "{drafted} drafted.",
            read=result.read,
            mailbox=result.mailbox,
            new=result.new,
            needs_reply=result.needs_reply,
            drafted=result.drafted,
        ).render(_language(args))
    )
    if result.unreadable:
        print(Msg("{count} messages Mercury could not read are left in the mailbox as they are.", count=result.unreadable).render(_language(args)))
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    if args.queue:
        return submitted(submit("mailbox_push", {"all_drafts": args.all_drafts}), args)
    result = mailbox.push(_brand(args), all_drafts=args.all_drafts)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    print(
        Msg(
            "Put {pushed} replies in {folder} of {mailbox} ({replaced} replacing an older copy, {unchanged} already there, {removed} rejected and "
            "taken out); nothing was sent.",
            pushed=result.pushed,
            folder=result.folder,
            mailbox=result.mailbox,
            replaced=result.replaced,
            unchanged=result.unchanged,
            removed=result.removed,
        ).render(_language(args))
    )
    return 0


def cmd_voice(args: argparse.Namespace) -> int:
    kept = mailbox.learn_voice(per_kind=args.per_kind)
    if args.json:
        print(json.dumps(rendered({"examples": kept}, _language(args)), ensure_ascii=False))
        return 0
    print(Msg("Kept {count} of the team's sent replies as the Brand profile's examples.", count=len(kept)).render(_language(args)))
    for example in kept:
        print(f"- [{example['intent']}, {example['language']}] {example['text'][:100]}")
    return 0


def register(commands) -> None:
    box = commands.add_parser("mailbox", help="the team's mailbox over IMAP (MERCURY_IMAP_URL): pull new mail, push drafts to Drafts; never sends")
    actions = box.add_subparsers(dest="action", required=True)
    language = dict(choices=list(LANGUAGES), help="the language of its sentences (default: MERCURY_LANGUAGE, else en)")

    check = actions.add_parser("check", help="connect and log in; one sentence on what the folder holds")
    check.add_argument("--language", **language)
    check.set_defaults(handler=cmd_check)

    pull = actions.add_parser("pull", help="read new messages (never marked read), triage them and draft replies as the Email page does")
    pull.add_argument("--brand", help="a BRAND.json; default: the stored Brand profile")
    pull.add_argument("--backend", choices=backend_names(), help="which model backend drafts and triages")
    pull.add_argument("--model", help="model id or path (local), or model name (openai)")
    pull.add_argument("--no-drafts", action="store_true", help="triage only; draft later on the Email page")
    pull.add_argument("--json", action="store_true", help="print mailbox, read, new, needs_reply, drafted, unreadable and ids as JSON")
    pull.add_argument("--language", **language)
    add_queue_option(pull)
    pull.set_defaults(handler=cmd_pull)

    push = actions.add_parser("push", help="append approved replies to the Drafts folder, threaded under the mail they answer; nothing is sent")
    push.add_argument("--brand", help="a BRAND.json for the From address; default: the stored Brand profile")
    push.add_argument("--all-drafts", action="store_true", help="also drafts still waiting for approval (marked so in a header)")
    push.add_argument("--json", action="store_true", help="print mailbox, folder, pushed, replaced, unchanged and removed as JSON")
    push.add_argument("--language", **language)
    add_queue_option(push)
    push.set_defaults(handler=cmd_push)

    voice = actions.add_parser("voice", help="keep a few of the team's replies from Sent (read only) as the Brand profile's examples")
    voice.add_argument("--per-kind", type=int, default=1, help="replies kept per intent and language (default 1)")
    voice.add_argument("--json", action="store_true")
    voice.add_argument("--language", **language)
    voice.set_defaults(handler=cmd_voice)
