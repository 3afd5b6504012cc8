"""Re-create core/assets/intent_head.json: the email intent classifier's logistic-regression head over
the multilingual encoder, trained on the training split of every source below and never on a
held-out row (bench/triage.py scores those).

Sources (each held out by the same rule, a fifth of its rows chosen by a hash of the text, unless
the source came with a split):
- own: core/assets/email_intents.tsv (written for Mercury, eight languages) and
  core/assets/email_intents_ro_pl_zh.tsv (informal Romanian, Polish and Chinese, written for Mercury);
- register: core/assets/email_intents_register.tsv (English in customers' register, made by
  scripts/make_register_examples.py from our own phrases);
- bitext: ../shared/data/support/bitext_requests.tsv (real-register requests, CDLA-Sharing-1.0),
  its intents mapped to Mercury's by BITEXT_INTENTS (the rest left out);
- lingspam: ../shared/data/spam/lingspam_subset.tsv, its spam as spam_other, with the split it came
  with; its legitimate mail (a linguistics mailing list) is left out: it is not a customer request.

Run: .venv/bin/python scripts/train_intent_head.py
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
C = 4.0
HELD_OUT = ROOT / "bench" / "data" / "heldout"
TEXT_CHARS = 600  # what triage reads of a mail

# How Bitext's intents relate to Mercury's (see ../shared/data/support/README.md); absent ones are left out:
# contact_customer_service, contact_human_agent, place_order and review are not one of Mercury's intents.
BITEXT_INTENTS = {
    "check_payment_methods": "pricing",
    "check_invoice": "pricing",
    "get_invoice": "pricing",
    "delivery_options": "order_status",
    "delivery_period": "order_status",
    "change_order": "order_status",
    "change_shipping_address": "order_status",
    "set_up_shipping_address": "order_status",
    "cancel_order": "refund_return",
    "payment_issue": "technical_support",
    "create_account": "technical_support",
    "delete_account": "technical_support",
    "edit_account": "technical_support",
    "switch_account": "technical_support",
}


def held_out(text: str) -> bool:
    return hashlib.sha1(text.encode("utf-8")).digest()[0] % 5 == 0


def _tsv(path: Path) -> list[tuple[str, str]]:
    """(text, intent) of a file of intent<TAB>text lines."""
    rows = [line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    return [(text, intent) for intent, text in rows]


def detokenise(text: str) -> str:
    """Ling-Spam's tokenised text ("http : / / 208 . 196", "don ' t") closer to how mail is written."""
    text = text.replace(" : / / ", "://").replace(" @ ", "@").replace(" ' ", "'")
    text = re.sub(r"(?<=\w) ([.,!?;:%)])", r"\1", text)
    text = re.sub(r"(?<=\d)\. (?=\d)", ".", text)
    return re.sub(r"([-*~=_]) (?=\1)", r"\1", text)


def sources() -> dict[str, list[tuple[str, str, bool]]]:
    """Every source's rows: (text, intent, held out)."""
    assets = ROOT / "core" / "assets"
    out = {
        "own": [(t, i, held_out(t)) for t, i in _tsv(assets / "email_intents.tsv") + _tsv(assets / "email_intents_ro_pl_zh.tsv")],
        "register": [(t, i, held_out(t)) for t, i in _tsv(assets / "email_intents_register.tsv")],
    }
    with open(SHARED / "support" / "bitext_requests.tsv", encoding="utf-8") as handle:
        bitext = list(csv.DictReader(handle, delimiter="\t"))
    out["bitext"] = [(r["text"], BITEXT_INTENTS[r["source_intent"]], held_out(r["text"])) for r in bitext if r["source_intent"] in BITEXT_INTENTS]
    with open(SHARED / "spam" / "lingspam_subset.tsv", encoding="utf-8") as handle:
        spam = [r for r in csv.DictReader(handle, delimiter="\t") if r["label"] == "spam"]
    out["lingspam"] = [(detokenise(f"{r['subject']}\n{r['body']}")[:TEXT_CHARS], "spam_other", r["split"] == "test") for r in spam]
    return out


def fit(texts: list[str], labels: list[str], c: float = C):
    from sklearn.linear_model import LogisticRegression

    from core.models.encoders import encoder

    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(encoder().encode([t[:TEXT_CHARS] for t in texts]), labels)


def write_held_out(found: dict[str, list[tuple[str, str, bool]]]) -> None:
    """Each source's held-out rows as bench/data/heldout/triage_<source>.csv (text, intent): what
    bench/triage.py scores, and a file the Model lab's triage evaluation reads."""
    HELD_OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in found.items():
        with open(HELD_OUT / f"triage_{name}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "intent"])
            writer.writerows((text, intent) for text, intent, test in rows if test)


def main() -> None:
    from core.models.intents import HEAD_PATH

    found = sources()
    write_held_out(found)
    rows = [(text, intent) for source in found.values() for text, intent, test in source if not test]
    texts, labels = [t for t, _ in rows], [i for _, i in rows]
    model = fit(texts, labels)
    digest = hashlib.sha256("\n".join(f"{i}\t{t}" for t, i in rows).encode()).hexdigest()[:16]
    head = {
        "classes": [str(c) for c in model.classes_],
        "encoder": "multilingual-e5-small query embedding (384), core.models.e5 on torch",
        "trained_on": f"training splits of own, register, bitext and lingspam (scripts/train_intent_head.py): {len(rows)} texts, sha256 {digest}",
        "C": C,
        "coef": [[round(float(w), 6) for w in row] for row in model.coef_],
        "intercept": [round(float(b), 6) for b in model.intercept_],
    }
    HEAD_PATH.write_text(json.dumps(head))
    print(json.dumps({"classes": head["classes"], "texts": len(rows), "written": str(HEAD_PATH)}))


if __name__ == "__main__":
    main()
