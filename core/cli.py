"""`python -m core <command>`: Mercury's capabilities without a browser.

Each command module registers its sub-parser here; a user error ends with exit code 2 and one
sentence on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from core import usage
from core.brand import current_brand, read_brand_file
from core.capacity import cli as capacity_commands
from core.classifiers import get_classifier
from core.content.brief import Brief
from core.content.checks import failed_checks
from core.content.writing import generate
from core.db import get_engine, ping
from core.errors import MercuryError, UserError
from core.exports import check_output_path, write_table
from core.i18n import LANGUAGES, N_, Joined, LanguageName, Msg, compile_catalogs, default_language, language_code, render, rendered
from core.ingest import read_input, read_table
from core.jobs import cli as job_commands
from core.jobs.kinds import backend_inputs, labelled_payload
from core.jobs.queue import submit
from core.lab.evaluate import evaluate, evaluate_generation, evaluate_triage, labelled_rows
from core.lab.finetune import finetune, finetune_causal, instruction_pairs
from core.llm import backend_names, complete, resolve_spec
from core.llm.embedded import prepare_embedded_model
from core.mail import cli as mailbox_commands
from core.mail.export import batch_frame
from core.mail.queue import add_emails, draft_pending, reply_to
from core.mail.reading import read_emails, read_mail_path
from core.sentiment import cli as review_commands

EXIT_USER_ERROR = 2


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=backend_names(), help="which model backend to use")
    parser.add_argument("--model", help="model id or path (local), or model name (openai)")


def cmd_generate(args: argparse.Namespace) -> int:
    spec = resolve_spec(args.backend, model=args.model)
    completion = complete(
        [{"role": "user", "content": args.prompt}],
        spec=spec,
        page="cli",
        max_tokens=args.max_tokens,
        temperature=args.temperature,
    )
    if args.json:
        print(json.dumps(completion.as_dict(), ensure_ascii=False))
    else:
        for note in completion.notes:
            print(f"note: {note}", file=sys.stderr)
        print(completion.text)
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """Prepare what the app needs offline: the converted embedded model and the database."""
    path = prepare_embedded_model()
    get_engine()
    compile_catalogs()
    print(f"embedded model ready in {path}; database: {ping()}; interface languages: {', '.join(LANGUAGES)}")
    return 0


def _read_brand(path: str | None):
    return read_brand_file(path) if path else current_brand()


def cmd_reply(args: argparse.Namespace) -> int:
    language = _language(args)
    brand = _read_brand(args.brand)
    spec = _spec(args) if args.backend else None
    if args.queue:
        if not args.batch or args.out or args.brand:
            raise UserError(
                Msg(
                    "--queue goes with --batch and drafts with the stored Brand profile into the queue, to review on the Email page; "
                    "it takes no --out or --brand."
                )
            )
        mails, _ = read_mail_path(args.batch)
        ids = add_emails(mails, f"batch: {Path(args.batch).name}", spec=spec)
        return job_commands.submitted(submit("drafts", {**backend_inputs(spec or resolve_spec()), "ids": ids}), args)
    if args.batch:
        if not args.out:
            raise UserError(Msg("--batch needs --out DRAFTS.csv for the drafts."))
        check_output_path(args.out)
        mails, frame = read_mail_path(args.batch)
        # A rerun after a crash finds its mails by identity: nothing is queued, triaged or drafted twice.
        ids = add_emails(mails, f"batch: {Path(args.batch).name}", spec=spec)

        def progress(done: int, total: int) -> None:
            write_table(batch_frame(frame, ids, language), args.out)  # the file grows as drafts land
            print("\r" + Msg("Drafted {done} of {total}", done=done, total=total).render(language), end="", file=sys.stderr, flush=True)

        try:
            draft_pending(brand, spec=spec, ids=ids, progress=progress)
        finally:
            print(file=sys.stderr)
            out = batch_frame(frame, ids, language)
            write_table(out, args.out)
        print(
            json.dumps(
                {
                    "emails": len(ids),
                    "drafted": int((out["draft"] != "").sum()),
                    "needs_reply": int(out["needs_reply"].sum()),
                    "needs_review": int(out["needs_review"].sum()),
                    "out": args.out,
                    "intents": out["intent"].value_counts().to_dict(),
                }
            )
        )
        return 0
    if not args.email_file:
        raise UserError(Msg("Give an email file (.eml or .txt), or --batch MAIL --out DRAFTS.csv."))
    mails = read_emails(read_input(args.email_file), Path(args.email_file).name)
    if len(mails) > 1:
        raise UserError(Msg("{file} holds {count} emails: use --batch for more than one.", file=args.email_file, count=len(mails)))
    result = reply_to(mails[0], brand, spec=spec)
    if args.json:
        print(json.dumps(rendered(result, language), ensure_ascii=False))
        return 0
    say = lambda text, **values: print(Msg(text, **values).render(language))  # noqa: E731
    say(
        "{intent}, {urgency} urgency, {sentiment}, language: {language}; {reason}",
        intent=Msg(result["intent"].replace("_", " ")),
        urgency=Msg(result["urgency"]),
        sentiment=Msg(result["sentiment"]),
        language=LanguageName(result["language"]),
        reason=result["reason"],
    )
    if result["needs_review"]:
        say("Needs review: {reasons}", reasons=Joined(result["review_reasons"]))
    if result["needs_reply"]:
        say("Draft ({source}):", source=Msg("written by the model") if result["draft_why"] is None else Msg("written by code: {why}", why=result["draft_why"]))
        print("\n" + result["draft"])
        for fact in result["facts_used"]:
            say("Fact used: {fact}", fact=fact)
    elif result["no_reply_reason"] is not None:
        say("No reply needed: {reason}.", reason=result["no_reply_reason"])
    else:
        say("No reply needed.")
    saved = N_("Saved as email {id}, waiting for approval on the Email page.") if result["needs_reply"] else N_("Saved as email {id}.")
    print(Msg(saved, id=str(result["id"])).render(language), file=sys.stderr)
    return 0


def cmd_content(args: argparse.Namespace) -> int:
    language = _language(args)
    brief = Brief(
        kind=args.kind,
        topic=args.topic,
        platform=args.platform or "",
        keywords=(args.keywords or "").split(","),
        language=args.language,
        audience=args.audience or "",
        goal=args.goal or "",
        words=args.words,
        variants=args.variants,
        reference=read_input(args.reference).decode("utf-8", "replace") if args.reference else "",
    )
    variants = generate(brief, _read_brand(args.brand), spec=_spec(args) if args.backend else None)
    if args.json:
        print(
            json.dumps(
                rendered(
                    {"variants": [{"text": v.text, "source": v.source, "checks": v.checks, "reasons": v.reasons, "notes": v.notes} for v in variants]}, language
                ),
                ensure_ascii=False,
            )
        )
        return 0
    for number, variant in enumerate(variants, 1):
        checks = variant.checks
        verdict = Msg("passes every check") if checks["passed"] else Msg("FAILS: {problems}", problems=Joined(failed_checks(checks)))
        by = Msg("the model") if variant.source == "model" else Msg("code from the brief")
        print(
            Msg(
                "--- variant {number}, written by {source} ({characters} characters, {words} words; {verdict})",
                number=number,
                source=by,
                characters=checks["characters"],
                words=checks["words"],
                verdict=verdict,
            ).render(language)
        )
        for reason in variant.reasons:
            print("    " + Msg("the model's draft was refused: {reason}", reason=reason).render(language))
        print(variant.text)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    table = read_table(args.input)
    spec = _spec(args) if args.backend and args.backend != "embedded" else None
    if args.task == "triage":
        result = evaluate_triage(table, args.text_column, args.label_column, spec=spec)
    elif args.task == "generation":
        result = evaluate_generation(table, args.text_column, args.label_column, spec=_spec(args) if args.backend else None)
    else:
        result = evaluate(table, args.text_column, args.label_column, get_classifier(args.backend or "embedded", model_dir=args.model_dir, spec=spec))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif args.task == "generation":
        print(
            f"{result['model']}: BLEU {result['bleu']}, ROUGE-1 {result['rouge1']:.3f}, ROUGE-2 {result['rouge2']:.3f}, ROUGE-L {result['rouge_l']:.3f} "
            f"on {result['n']:,} prompts"
        )
    else:
        print(
            f"{result['model']}: accuracy {result['accuracy']:.3f}, macro F1 {result['macro_f1']:.3f} on {result['n']:,} rows ({result['rows_per_s']:,} rows/s)"
        )
        for label, row in result["per_class"].items():
            print(f"  {label:<18} precision {row['precision']:.3f} recall {row['recall']:.3f} f1 {row['f1']:.3f} support {row['support']}")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    if args.task == "lm":
        if args.queue:
            inputs = {"out": str(Path(args.out).resolve()), "backend": args.backend, "model": args.model, "epochs": args.epochs, "lora_r": args.lora_r}
            return job_commands.submitted(submit("finetune_lm", inputs), args)
        summary = finetune_causal(instruction_pairs(), args.out, spec=_spec(args) if args.backend else None, epochs=args.epochs, lora_r=args.lora_r)
        summary.pop("history")
        print(
            json.dumps(summary)
            if args.json
            else f"saved the adapter to {summary['adapter']} in {summary['seconds']:.0f} s; test perplexity {summary['test_perplexity']} "
            f"(split {summary['split']}); use it with --backend local --model {summary['adapter']}"
        )
        return 0
    if not (args.input and args.text_column and args.label_column):
        raise UserError(Msg("--task sentiment needs --input, --text-column and --label-column."))
    texts, labels = labelled_rows(read_table(args.input), args.text_column, args.label_column)
    if args.queue:
        inputs = {"out": str(Path(args.out).resolve()), "epochs": args.epochs, "lora_r": args.lora_r, "learning_rate": args.learning_rate}
        return job_commands.submitted(submit("finetune", inputs, payload=labelled_payload(texts, labels)), args)

    def progress(row: dict) -> None:
        if "loss" in row and row["step"] % 10 == 0:
            print(f"\repoch {row['epoch']} step {row['step']} loss {row['loss']:.3f}", end="", file=sys.stderr, flush=True)
        elif "val_macro_f1" in row:
            print(f"\nepoch {row['epoch']}: validation macro F1 {row['val_macro_f1']:.3f}", file=sys.stderr, flush=True)

    result = finetune(texts, labels, args.out, epochs=args.epochs, lora_r=args.lora_r, learning_rate=args.learning_rate or 1e-3, on_step=progress)
    summary = {k: v for k, v in asdict(result).items() if k != "history"}
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"saved {result.model_id} to {result.out_dir} in {result.seconds:.0f} s (best epoch {result.best_epoch} of {result.epochs_run}; split "
            f"{result.split})"
        )
        print(f"validation: accuracy {result.validation['accuracy']:.3f}, macro F1 {result.validation['macro_f1']:.3f}")
        print(
            f"test: accuracy {result.test['accuracy']:.3f}, macro F1 {result.test['macro_f1']:.3f} (embedded head on the same rows: "
            f"{result.baseline_test['accuracy']:.3f}, {result.baseline_test['macro_f1']:.3f})"
        )
    return 0


def _spec(args: argparse.Namespace):
    return resolve_spec(args.backend, model=args.model)


def _language(args: argparse.Namespace) -> str:
    """The language a command writes its sentences in: its --language when that is an interface language, else MERCURY_LANGUAGE's."""
    return language_code(getattr(args, "language", None)) or default_language()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Mercury's LLM desk from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="complete one prompt with the chosen backend")
    generate.add_argument("prompt", help="the prompt text")
    add_backend_options(generate)
    generate.add_argument("--max-tokens", type=int, default=128)
    generate.add_argument("--temperature", type=float, default=0.2)
    generate.add_argument("--json", action="store_true", help="print text, backend, model, tokens and latency as JSON")
    generate.set_defaults(handler=cmd_generate)

    review_commands.register(commands)
    mailbox_commands.register(commands)
    job_commands.register(commands)
    capacity_commands.register(commands)

    reply = commands.add_parser("reply", help="triage an email and draft a reply in the brand's voice (never sent)")
    reply.add_argument("email_file", nargs="?", help="an .eml file, or a .txt file: a Subject: line, a blank line, the body")
    reply.add_argument("--brand", help="a BRAND.json (name, tone, sign_off, facts, internal_notes); default: the stored Brand profile")
    reply.add_argument(
        "--batch",
        metavar="MAIL",
        help="mail to triage and draft: .eml files in a folder, an .eml, an mbox, a .txt, or a CSV of emails (from, subject, body, date)",
    )
    reply.add_argument("--out", metavar="DRAFTS.csv", help="with --batch: the input columns plus intent, urgency, needs_review and draft")
    add_backend_options(reply)
    reply.add_argument(
        "--language",
        choices=list(LANGUAGES),
        default=default_language(),
        help="the language its sentences are in: en, ro, pl or zh (default: MERCURY_LANGUAGE, else en); the draft follows the mail's",
    )
    reply.add_argument(
        "--json", action="store_true", help="print intent, urgency, sentiment, language, needs_reply, needs_review, draft and facts_used as JSON"
    )
    job_commands.add_queue_option(reply)
    reply.set_defaults(handler=cmd_reply)

    content = commands.add_parser("content", help="marketing content variants in the brand's voice, checked by code")
    content.add_argument("--kind", choices=["blog", "social", "email", "product", "ad"], required=True)
    content.add_argument("--topic", required=True, help="the brief or topic")
    content.add_argument("--platform", choices=["x", "linkedin", "instagram", "facebook"], help="for social posts (default x)")
    content.add_argument("--variants", type=int, default=3)
    content.add_argument("--keywords", help="comma-separated: k1,k2")
    content.add_argument(
        "--language", default="en", help="the content's language, a two-letter code (e.g. pl, de); en, ro, pl and zh also set the language of its sentences"
    )
    content.add_argument("--audience")
    content.add_argument("--goal")
    content.add_argument("--words", type=int, default=0, help="target length in words (default per kind)")
    content.add_argument("--reference", help="a text file to score BLEU and ROUGE against")
    content.add_argument("--brand", help="a BRAND.json; default: the stored Brand profile")
    add_backend_options(content)
    content.add_argument("--json", action="store_true", help='print {"variants": [{"text", "source" (model or code), "checks", "reasons", "notes"}, ...]}')
    content.set_defaults(handler=cmd_content)

    evaluate = commands.add_parser("evaluate", help="measure a classifier on a labelled file: accuracy, macro F1, per class")
    evaluate.add_argument("--task", choices=["sentiment", "triage", "generation"], default="sentiment")
    evaluate.add_argument("--input", required=True, help="csv, tsv, xlsx or jsonl with a text and a label column")
    evaluate.add_argument("--text-column", required=True, help="the text (the prompt for generation)")
    evaluate.add_argument(
        "--label-column", required=True, help="sentiment: positive/negative/neutral, 1/0 or 1-5 stars; triage: the intent; generation: the reference text"
    )
    evaluate.add_argument("--backend", choices=backend_names())
    evaluate.add_argument("--model", dest="model_dir", help="a fine-tuned model folder (from finetune)")
    evaluate.add_argument("--llm-model", dest="model", help="model name or id for the local or openai backend")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=cmd_evaluate)

    tune = commands.add_parser("finetune", help="LoRA fine-tune of the MiniLM sentiment classifier on labelled rows")
    tune.add_argument(
        "--task",
        choices=["sentiment", "lm"],
        default="sentiment",
        help="lm: LoRA on the embedded or local language model from approved replies and saved content",
    )
    tune.add_argument("--input")
    tune.add_argument("--text-column")
    tune.add_argument("--label-column")
    add_backend_options(tune)
    tune.add_argument("--out", required=True, help="folder for the adapter, head and figures")
    tune.add_argument("--epochs", type=int, default=4)
    tune.add_argument("--lora-r", type=int, default=8)
    tune.add_argument("--learning-rate", type=float, help="default 1e-3 (sentiment)")
    tune.add_argument("--json", action="store_true")
    job_commands.add_queue_option(tune)
    tune.set_defaults(handler=cmd_finetune)

    setup = commands.add_parser("setup", help="convert the embedded model once and create the database")
    setup.set_defaults(handler=cmd_setup)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    usage.install()
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except MercuryError as error:  # in the command's --language where it has one, else MERCURY_LANGUAGE's
        print(f"error: {render(error, _language(args))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
