"""`python -m core sentiment | calibrate | report`: review files scored, fitted to their stars, and
reported on, as the Sentiment and Reports pages do."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from core.classifiers import get_classifier
from core.columns import parse_map, resolve_mapping
from core.errors import UserError
from core.exports import check_output_path, write_bytes, write_table
from core.i18n import LANGUAGES, LanguageCounts, Msg, default_language
from core.ingest import read_input, read_table
from core.jobs.cli import add_queue_option, submitted
from core.jobs.kinds import backend_inputs
from core.jobs.queue import submit
from core.llm import backend_names, resolve_spec
from core.reports.build import build_report
from core.sentiment.calibration import fit_dataset, undo_calibration
from core.sentiment.datasets import analyse_table, export_frame, get_dataset

MAP_HELP = "column roles, e.g. text=reviews.text,date=reviews.date,product=name,rating=reviews.rating,channel=none (detected when omitted)"


def _spec(args: argparse.Namespace):
    return resolve_spec(args.backend, model=args.model)


def cmd_sentiment(args: argparse.Namespace) -> int:
    if args.queue:
        given = parse_map(args.map) if args.map else {}
        if args.text_column:
            given["text"] = args.text_column
        if args.out or args.model:
            raise UserError(Msg("--queue stores the result as a dataset: export it from the Sentiment page; it takes no --out or --llm-model."))
        inputs = {"name": Path(args.input).name, "map": given, "backend": args.backend, "model_dir": args.model_dir, "language": args.language}
        return submitted(submit("sentiment", inputs, payload=read_input(args.input)), args)
    if args.out:
        check_output_path(args.out)
    table = read_table(args.input)
    mapping = _mapping(table, args)
    print(f"columns: {mapping.describe()}", file=sys.stderr)
    for note in filter(None, (table.header_note(), table.mended_note())):
        print(f"note: {note.render(args.language)}", file=sys.stderr)
    if table.skipped:
        print(f"skipped: {table.skip_summary(args.language)}", file=sys.stderr)
    classifier = get_classifier(args.backend or "embedded", model_dir=args.model_dir, spec=None if not args.model else _spec(args))
    started: list[int] = []

    def progress(done: int, total: int) -> None:
        print(f"\rscored {done:,} of {total:,}", end="", file=sys.stderr, flush=True)

    try:
        dataset_id, summary = analyse_table(table, mapping=mapping, classifier=classifier, progress=progress, on_stored=started.append, language=args.language)
    finally:  # a failed run still leaves its --out file: every row, scored as far as it got
        print(file=sys.stderr)
        if args.out and started:
            write_table(export_frame(started[0]).drop(columns=["model"]), args.out)
    print(json.dumps(summary, ensure_ascii=False))
    if not args.json:
        counts = summary["counts"]
        print(
            Msg(
                "{rows} rows scored ({positive} positive, {neutral} neutral, {negative} negative), {skipped} skipped; stored as dataset {dataset}. "
                "Languages: {languages}.",
                rows=summary["rows"],
                positive=counts["positive"],
                neutral=counts["neutral"],
                negative=counts["negative"],
                skipped=summary["skipped"],
                dataset=str(dataset_id),
                languages=LanguageCounts(summary["languages"]),
            ).render(args.language),
            file=sys.stderr,
        )
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _mapping(table, args: argparse.Namespace):
    """The column roles: read from the file, with --map and --text-column laid over them."""
    given = parse_map(args.map) if args.map else {}
    if args.text_column:
        given["text"] = args.text_column
    return resolve_mapping(table.frame, table.source, given)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit a stored dataset to its star ratings (applied only when held-out macro F1 improves), or undo it."""
    dataset = get_dataset(args.dataset)
    if args.undo:
        restored = undo_calibration(dataset.id)
        print(json.dumps({"dataset_id": dataset.id, "undone": True, "reviews": restored}))
        return 0
    if args.queue:
        return submitted(submit("calibrate", {"dataset_id": dataset.id}), args)
    result = fit_dataset(dataset.id)
    print(json.dumps({"dataset_id": dataset.id, "applied": result["kept"], **result}))
    if not args.json:
        verdict = "applied (undo with --undo)" if result["kept"] else "not applied: it did not improve macro F1 on held-out rated reviews"
        print(f"macro F1 {result['before']['macro_f1']} -> {result['after']['macro_f1']} on {result['test_rows']:,} held-out rows; {verdict}.", file=sys.stderr)
    return 0


def _parse_period(text: str | None):
    if not text:
        return None, None
    try:
        start, end = (date.fromisoformat(part.strip()) for part in text.split(":"))
    except ValueError as error:
        raise UserError(Msg("--period must be START:END as dates, e.g. 2026-10-01:2026-10-31, not '{text}'.", text=text)) from error
    if end < start:
        raise UserError(Msg("--period ends before it starts."))
    return start, end


def cmd_report(args: argparse.Namespace) -> int:
    start, end = _parse_period(args.period)
    check_output_path(args.out)
    if args.queue:
        if not args.input.isdigit():
            raise UserError(Msg("--queue builds the report of a stored dataset: give its id (a file is analysed first with sentiment --queue)."))
        inputs = {
            "dataset_id": get_dataset(int(args.input)).id, "start": start and start.isoformat(), "end": end and end.isoformat(),
            "language": args.language, "out": str(Path(args.out).resolve()), "format": args.format,
            **backend_inputs(_spec(args) if args.backend else resolve_spec()),
        }
        return submitted(submit("report", inputs), argparse.Namespace(json=True))  # report prints JSON, queued too
    if args.input.isdigit() and not Path(args.input).exists():
        dataset_id = get_dataset(int(args.input)).id
    else:
        table = read_table(args.input)
        dataset_id, _ = analyse_table(table, mapping=_mapping(table, args))
    spec = _spec(args) if args.backend else None
    try:
        report = build_report(dataset_id, start=start, end=end, spec=spec, language=args.language)
    except ValueError as error:
        raise UserError(str(error)) from error
    from core.reports.render import render  # plotly and the document writers: only this command needs them

    write_bytes(args.out, render(report, args.format))
    print(
        json.dumps(
            {
                "dataset_id": dataset_id,
                "out": args.out,
                "format": args.format,
                "summary_source": report.summary_source,
                "summary": report.summary,
                "reviews": report.facts["reviews"],
                "notes": report.notes,
            }
        )
    )
    return 0


def add_language_option(parser) -> None:
    """--language for a command that writes for a person (MERCURY_LANGUAGE, else English, by default)."""
    parser.add_argument(
        "--language",
        choices=list(LANGUAGES),
        default=default_language(),
        help="the language it writes in: en, ro, pl or zh (default: MERCURY_LANGUAGE, else en)",
    )


def register(commands) -> None:
    sentiment = commands.add_parser("sentiment", help="score the sentiment of every review in a file")
    sentiment.add_argument("input", help="csv, tsv, xlsx or jsonl file of reviews")
    sentiment.add_argument("--text-column", help="the column holding the review text (detected when omitted)")
    sentiment.add_argument("--map", help=MAP_HELP)
    sentiment.add_argument("--backend", choices=backend_names(), help="embedded classifier (default) or an LLM backend")
    sentiment.add_argument("--model", dest="model_dir", help="folder of a fine-tuned sentiment model (from `python -m core finetune`)")
    sentiment.add_argument("--llm-model", dest="model", help="model name or id for the local or openai backend")
    sentiment.add_argument("--out", help="write every input column plus sentiment and score to this CSV or XLSX file")
    sentiment.add_argument("--json", action="store_true", help="print only the JSON summary (no human-readable line on stderr)")
    add_queue_option(sentiment)
    add_language_option(sentiment)
    sentiment.set_defaults(handler=cmd_sentiment)

    report = commands.add_parser("report", help="an executive sentiment report as PDF, DOCX, HTML or Excel")
    report.add_argument("input", help="a stored dataset's id, or a review file (scored when needed)")
    report.add_argument("--format", choices=["pdf", "docx", "html", "xlsx"], required=True)
    report.add_argument("--out", required=True, help="the file to write")
    report.add_argument("--text-column", help="the review text column of a file (detected when omitted)")
    report.add_argument("--map", help=MAP_HELP)
    report.add_argument(
        "--period", help="START:END dates, e.g. 2026-10-01:2026-10-31 (default: the latest 30, 90 or 365 days that hold most reviews, else all)"
    )
    report.add_argument("--backend", choices=backend_names(), help="the model that writes the summary")
    report.add_argument("--model", help="model id or name for the local or openai backend")
    add_language_option(report)
    add_queue_option(report)
    report.set_defaults(handler=cmd_report)

    fit = commands.add_parser("calibrate", help="fit a stored dataset's scores to its star ratings, or undo the fit")
    fit.add_argument("dataset", type=int, help="a stored dataset's id")
    fit.add_argument("--undo", action="store_true", help="put back the classifier's own scores")
    fit.add_argument("--json", action="store_true", help="print only the JSON result")
    add_queue_option(fit)
    fit.set_defaults(handler=cmd_calibrate)
