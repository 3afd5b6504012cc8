"""Email figures: drafting speed and the precision and recall of the facts drafts are built from
(triage has its own: bench/triage.py).

Run: .venv/bin/python bench/email_replies.py
Drafting is timed on the embedded
model, streamed as the page streams it. Fact retrieval is scored on bench/data/fact_pairs.tsv: 34
emails to the sample brand (English, informal English, Romanian, Polish, Chinese, German, French,
Spanish) with the facts that answer them, written for this benchmark; FACT_STRONG was chosen on
this file, so its figures flatter retrieval.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DRAFT_MAILS = [
    ("Dana <dana@example.com>", "Pairing", "Hi, my new Pulse earbuds won't pair with my phone. What should I do?"),
    ("Tom <tom@example.com>", "Refund", "I returned my headset last week. When will I get my money back?"),
    ("Priya <priya@example.com>", "Student discount", "Do you have a student discount on the Pulse earbuds?"),
    ("Aisha <aisha@example.com>", "Delivery", "How long does standard delivery take, and is it free?"),
    ("Jo <jo@example.com>", "Demo", "Can I book a demo of the Aria headset in your store on Saturday?"),
]


def drafting_figures() -> dict:
    from core.brand import read_brand_file, relevant_facts
    from core.llm import BackendSpec, get_backend, stream
    from core.mail.drafting import draft_messages, draft_reply
    from core.mail.reading import ParsedEmail

    spec = BackendSpec(kind="embedded", model="SmolLM2-135M-Instruct")
    get_backend(spec)
    brand = read_brand_file(ROOT / "sample_data" / "brand.json")
    first_tokens, full_120, tokens, drafts, sources = [], [], [], [], []
    for sender, subject, body in DRAFT_MAILS:
        mail = ParsedEmail(sender=sender, subject=subject, body=body)
        messages = draft_messages(mail, brand, relevant_facts(brand, f"{subject}\n{body}"), "en")
        started = time.perf_counter()
        first = None
        generator = stream(messages, spec=spec, page="bench", max_tokens=120, temperature=0.3)
        while True:
            try:
                next(generator)
            except StopIteration as done:
                tokens.append(done.value.tokens_out)
                break
            first = first or time.perf_counter() - started
        full_120.append(time.perf_counter() - started)
        first_tokens.append(first)
        started = time.perf_counter()
        draft = draft_reply(mail, brand, "en", spec=spec)
        drafts.append(time.perf_counter() - started)
        sources.append(draft.source)
    return {
        "first_token_s": round(max(first_tokens), 2),
        "draft_120_tokens_s": round(max(full_120), 2),  # the slowest of the five
        "tokens_generated": tokens,
        "whole_draft_s_mean": round(sum(drafts) / len(drafts), 2),
        "model_drafts_kept": f"{sum(s == 'model' for s in sources)} of {len(sources)}",
        "why_replaced": sources,
    }


FACT_KEYS = "ship delivery returns refund prices student warranty pair reset phone store partners".split()


def fact_figures() -> dict:
    """Precision and recall of relevant_facts against the labelled email-to-fact pairs."""
    from core.brand import fact_space, read_brand_file, relevant_facts

    brand = read_brand_file(ROOT / "sample_data" / "brand.json")
    translations = fact_space(brand)[2]  # the brand's Romanian, Polish and Chinese facts count as the English fact they translate
    key = [FACT_KEYS[i] if i < len(FACT_KEYS) else FACT_KEYS[min(translations[i])] for i in range(len(brand.facts))]
    with open(ROOT / "bench" / "data" / "fact_pairs.tsv", encoding="utf-8") as handle:
        rows = [r for r in csv.reader((line for line in handle if not line.startswith("#")), delimiter="\t")][1:]
    hits = extra = missed = 0
    for text, labels in rows:
        wanted = set() if labels == "-" else set(labels.split())
        found = {key[brand.facts.index(f)] for f in relevant_facts(brand, text)}
        hits, extra, missed = hits + len(wanted & found), extra + len(found - wanted), missed + len(wanted - found)
    return {"emails": len(rows), "precision": round(hits / max(hits + extra, 1), 3), "recall": round(hits / max(hits + missed, 1), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-drafting", action="store_true")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    import torch

    figures = {"torch_threads": torch.get_num_threads(), "fact_retrieval": fact_figures()}
    if not args.skip_drafting:
        figures["drafting_embedded"] = drafting_figures()
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
