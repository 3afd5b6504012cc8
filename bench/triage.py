"""Triage figures on text the shipped intent head never saw: accuracy and macro F1 per source, per
intent and per language, the confusions people make (pricing and appointment, complaint and refund),
how often triage says a call is close, spam caught and customer mail taken for spam, and speed.

Run: .venv/bin/python bench/triage.py [--unseen] [--backend openai --model gpt-4o-mini]
Sources (scripts/train_intent_head.py keeps a fifth of each out of training and writes it to
bench/data/heldout/; the Model lab's triage evaluation reads the same files and gives the same figures):
- bitext: real-register customer requests (Bitext, CDLA-Sharing-1.0), intents mapped to Mercury's;
- lingspam: real spam (Ling-Spam), the test split it came with;
- own: our examples in eight languages, and informal Romanian, Polish and Chinese;
- register: our English requests in customers' register (scripts/make_register_examples.py);
- emails and informal: bench/data/emails.tsv (80 full emails) and emails_informal.tsv (120 one-liners),
  written for Mercury and never trained on.
--unseen: each Bitext intent in turn left out of training and scored as unseen wording (needs
../shared/data; trains 14 heads).
Speed: 500 distinct held-out mails through triage, the encoder loaded first.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.llm import backend_names  # noqa: E402

NAMED_LANGUAGES = ("en", "ro", "pl", "zh", "de", "fr", "es")  # the rest (short texts lingua cannot place) as "other"
CONFUSED = (("pricing", "appointment"), ("complaint", "refund_return"), ("order_status", "technical_support"))


def labelled_sets() -> dict[str, tuple[list, list[str]]]:
    from core.mail.reading import ParsedEmail

    sets = {}
    for path in sorted((ROOT / "bench" / "data" / "heldout").glob("triage_*.csv")):
        with open(path, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        sets[path.stem.removeprefix("triage_")] = ([ParsedEmail(body=r["text"]) for r in rows], [r["intent"] for r in rows])
    with open(ROOT / "bench" / "data" / "emails.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    sets["emails"] = ([ParsedEmail(subject=r["subject"], body=r["body"]) for r in rows], [r["intent"] for r in rows])
    with open(ROOT / "bench" / "data" / "emails_informal.tsv", encoding="utf-8") as handle:
        informal = [line.rstrip("\n").split("\t", 1) for line in handle if line.strip() and not line.startswith("#")]
    sets["informal"] = ([ParsedEmail(body=text) for _, text in informal], [intent for intent, _ in informal])
    return sets


def figures(truth: list[str], predicted: list[str], close: list[bool]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    present = sorted(set(truth))
    sure = [i for i, c in enumerate(close) if not c]
    spam = [p for t, p in zip(truth, predicted) if t == "spam_other"]
    customer = [p for t, p in zip(truth, predicted) if t != "spam_other"]
    return {
        "mails": len(truth),
        "accuracy": round(accuracy_score(truth, predicted), 3),
        "macro_f1": round(f1_score(truth, predicted, labels=present, average="macro", zero_division=0), 3),
        "close_calls": round(sum(close) / len(close), 3),
        "accuracy_when_sure": round(accuracy_score([truth[i] for i in sure], [predicted[i] for i in sure]), 3) if sure else None,
        "spam_recall": round(spam.count("spam_other") / len(spam), 3) if spam else None,
        "customer_read_as_spam": round(customer.count("spam_other") / len(customer), 3) if customer else None,
    }


def per_group(keys: list[str], truth: list[str], predicted: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    out = {}
    for key in sorted(set(keys)):
        index = [i for i, k in enumerate(keys) if k == key]
        t, p = [truth[i] for i in index], [predicted[i] for i in index]
        out[key] = {
            "mails": len(index),
            "accuracy": round(accuracy_score(t, p), 3),
            "macro_f1": round(f1_score(t, p, labels=sorted(set(t)), average="macro"), 3),
        }
    return out


def per_intent(truth: list[str], predicted: list[str]) -> dict:
    from sklearn.metrics import classification_report

    report = classification_report(truth, predicted, output_dict=True, zero_division=0)
    return {
        k: {"precision": round(v["precision"], 3), "recall": round(v["recall"], 3), "f1": round(v["f1-score"], 3), "mails": int(v["support"])}
        for k, v in report.items()
        if isinstance(v, dict) and k in set(truth)
    }


def unseen() -> dict:
    """Each Bitext intent left out of training in turn: its rows scored by a head that never saw its wording."""
    import numpy as np

    from core.models.encoders import encoder
    from scripts.train_intent_head import BITEXT_INTENTS, SHARED, fit, sources

    base = [(t, i) for name, rows in sources().items() if name != "bitext" for t, i, test in rows if not test]
    with open(SHARED / "support" / "bitext_requests.tsv", encoding="utf-8") as handle:
        bitext = [r for r in csv.DictReader(handle, delimiter="\t") if r["source_intent"] in BITEXT_INTENTS]
    out, right = {}, 0
    for source, intent in BITEXT_INTENTS.items():
        rows = base + [(r["text"], BITEXT_INTENTS[r["source_intent"]]) for r in bitext if r["source_intent"] != source]
        model = fit([t for t, _ in rows], [i for _, i in rows])
        held = [r["text"] for r in bitext if r["source_intent"] == source]
        predicted = model.predict(encoder().encode(held))
        out[f"{source} -> {intent}"] = round(float(np.mean(predicted == intent)), 3)
        right += int((predicted == intent).sum())
    out["all"] = round(right / len(bitext), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=backend_names(), default="embedded", help="the backend that decides intent and urgency")
    parser.add_argument("--model", help="model for the local or openai backend")
    parser.add_argument("--unseen", action="store_true", help="also score each Bitext intent as unseen wording (trains 14 heads)")
    args = parser.parse_args()
    from core.i18n import rendered
    from core.llm import resolve_spec
    from core.mail.triage import triage_many

    spec = resolve_spec(args.backend, model=args.model)
    sets = labelled_sets()
    triage_many(sets["emails"][0][:2], spec)  # load the encoder and heads outside the timing
    distinct = list({m.body: m for name in ("bitext", "own", "register", "lingspam") for m in sets[name][0]}.values())[:500]
    started = time.perf_counter()
    triage_many(distinct, spec)
    speed = round(len(distinct) / (time.perf_counter() - started), 1)

    result, pooled = {"sources": {}}, ([], [], [], [], [])
    for name, (mails, truth) in sets.items():
        triaged = triage_many(mails, spec)
        predicted = [t.intent for t in triaged]
        close = [bool(t.close_to) for t in triaged]
        result["sources"][name] = figures(truth, predicted, close)
        for part, values in zip(pooled, (truth, predicted, close, [t.language for t in triaged], [name] * len(mails))):
            part.extend(values)
    truth, predicted, close, languages, _ = pooled
    result["all"] = figures(truth, predicted, close)
    result["per_intent"] = per_intent(truth, predicted)
    result["per_language"] = per_group([code if code in NAMED_LANGUAGES else "other" for code in languages], truth, predicted)
    result["confusions"] = {
        f"{a} / {b}": {
            f"{a} read as {b}": sum(t == a and p == b for t, p in zip(truth, predicted)),
            f"{b} read as {a}": sum(t == b and p == a for t, p in zip(truth, predicted)),
        }
        for a, b in CONFUSED
    }
    result["backend"], result["mails_per_second"] = rendered(spec.label), speed
    if args.unseen:
        result["unseen_bitext_intents"] = unseen()
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
