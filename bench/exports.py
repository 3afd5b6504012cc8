"""A vendor-shaped review export end to end: which columns Mercury picks, how its result agrees with
the stars, what fitting to the ratings does, what the first view holds, how noisy alerts are, and
how long and how long-running the report is.

The export is tests/exports.py's: Datafiniti's twelve Amazon-device columns with a byte-order mark
and a decoy date column, 5,000 rows over four years, ratings skewed to five stars, and texts composed
from sentences written for Mercury's tests (so agreement figures flatter the classifier: the wording
is plainer than real reviews).

    .venv/bin/python bench/exports.py [--rows 5000]
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mercury-bench-exports-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"

    from pypdf import PdfReader

    from core.columns import propose_roles
    from core.db import AlertRule
    from core.ingest import read_table
    from core.reports.build import build_report
    from core.reports.render import render
    from core.sentiment.alerts import evaluate_alerts
    from core.sentiment.calibration import calibrate
    from core.sentiment.datasets import analyse_table, reviews_frame
    from core.sentiment.insights import dashboard, default_period
    from tests.exports import amazon_export, write_export

    path = folder / "export.csv"
    write_export(path, amazon_export(args.rows))
    table = read_table(path)
    started = time.perf_counter()
    roles = propose_roles(table.frame)
    print(f"columns ({time.perf_counter() - started:.2f} s): {roles.describe()}")

    started = time.perf_counter()
    dataset_id, summary = analyse_table(table)
    print(
        f"scored {summary['rows']:,} rows in {time.perf_counter() - started:.0f} s; rating agreement {summary['rating_agreement']}; warnings "
        f"{summary['warnings']}"
    )
    for wrong in ("categories", "reviews.title"):
        _, bad = analyse_table(read_table(path), mapping=_given(table, wrong), name=wrong)
        print(
            f"scored on '{wrong}': balanced agreement {bad['rating_agreement']['balanced_agreement']}, warned: "
            f"{any('agrees with the stars' in w for w in bad['warnings'])}"
        )

    fit = calibrate(reviews_frame(dataset_id))
    print(
        f"fit to the ratings: macro F1 {fit['before']['macro_f1']} -> {fit['after']['macro_f1']}, balanced accuracy "
        f"{fit['before']['balanced_accuracy']} -> {fit['after']['balanced_accuracy']} on {fit['test_rows']} held-out rows; kept: {fit['kept']}"
    )

    start, end = default_period(dataset_id)
    board = dashboard(dataset_id, start=start, end=end)
    print(f"first view: {start} to {end}, {board.kpis.volume:,} of {summary['rows']:,} reviews, {len(board.over_time)} {board.every} points")

    reviews = reviews_frame(dataset_id)
    for minimum in (1, 20):
        rule = AlertRule(name="weekly 10%", kind="negative_share_above", threshold=10, period="W", min_reviews=minimum)
        print(f"alerts, negative share above 10% a week, periods of {minimum}+ reviews: {len(evaluate_alerts(reviews, [rule]))} fired")

    started = time.perf_counter()
    report = build_report(dataset_id)
    built = time.perf_counter() - started
    pdf = render(report, "pdf")
    print(f"report: built in {built:.1f} s (summary by {report.summary_source}); PDF {len(PdfReader(io.BytesIO(pdf)).pages)} pages, {len(pdf) / 1e3:.0f} kB")


def _given(table, text_column: str):
    from core.columns import resolve_mapping

    return resolve_mapping(table.frame, table.source, {"text": text_column})


if __name__ == "__main__":
    main()
