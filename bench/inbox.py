"""Mailbox figures: how fast raw mail is parsed and triaged, and what triage does with mail that
needs no reply, on a mixed mailbox built from text Mercury never trained on.

Run: .venv/bin/python bench/inbox.py [--threads 2] [--copies 1]
The mailbox: every held-out row of bench/data/heldout/ (real-register requests from Bitext, our own
requests in eight languages and English in customers' register, Ling-Spam's test split of real spam)
as raw mail, in turn plain UTF-8, quoted-printable, base64, HTML only, multipart/alternative with an
attachment, and non-UTF-8 charsets (ISO-8859-2, windows-1250, GB2312, Big5, Shift_JIS where the text
fits them), plus newsletters, auto-replies, delivery reports and no-reply notices, and the real
messages of a mailing list (Ling-Spam's test-split ham from the Linguist list, long, with the List-Id
a list adds; read from ../shared/data/spam when it is there). Parsing is timed
over every mail's bytes; triage (intent, urgency, sentiment, language, needs a reply) over the parsed
mail with the encoder already loaded, each mail encoded once, cut to TRIAGE_CHARS characters.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FORMS = ("plain", "quoted-printable", "base64", "html", "multipart", "charset")
CHARSETS = ("iso-8859-2", "windows-1250", "gb2312", "big5", "shift_jis", "koi8-r")
AUTOMATIC = [
    ("Deals <deals@shop.example>", "This week's deals", "Big savings on everything this week.", [("List-Unsubscribe", "<mailto:u@shop.example>")]),
    ("Ana <ana@example.ro>", "Automatic reply", "I am out of the office until Monday.", [("Auto-Submitted", "auto-replied")]),
    ("Mail Delivery System <MAILER-DAEMON@mx.example>", "Undelivered Mail Returned to Sender", "This is the mail system at host mx.example.", []),
    ("Shop <no-reply@shop.example>", "Your order has shipped", "Your order 1234 has shipped and arrives Friday.", []),
    ("Forum <forum@lists.example>", "[forum] weekly digest", "Ten new topics this week.", [("Precedence", "bulk")]),
]


def raw_mail(sender: str, subject: str, body: str, *, form: str = "plain", charset: str = "utf-8", headers=(), message_id: str | None = "auto") -> bytes:
    """One raw mail in one of FORMS ("charset": the first of CHARSETS the text fits, else UTF-8), its
    text part in `charset` for the other forms (tests/test_mailbox.py builds its mail with it too)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "Aria Audio <support@aria-audio.example>", subject
    message["Date"] = "Tue, 01 Dec 2026 09:30:00 +0100"
    if message_id == "auto":
        message_id = f"<{abs(hash((sender, subject, body))) % 10**12}@{sender.split('@')[-1].strip('>')}>"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers:
        message[name] = value
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in body.splitlines() or [""]) + "</body></html>"
    if form == "html":
        message.set_content(html, subtype="html")
    elif form == "multipart":
        message.set_content(body)
        message.add_alternative(html, subtype="html")
        message.add_attachment(b"%PDF-1.4 invoice", maintype="application", subtype="pdf", filename="invoice.pdf")
    elif form == "charset":
        for charset in CHARSETS:
            try:
                body.encode(charset)
            except UnicodeEncodeError:
                continue
            message.set_content(body, charset=charset, cte="quoted-printable" if charset.startswith(("iso", "win", "koi")) else "base64")
            break
        else:
            message.set_content(body)
    else:
        message.set_content(body, charset=charset, cte=None if form == "plain" else form)
    return bytes(message)


def mixed_mailbox(copies: int = 1) -> tuple[list[bytes], list[str]]:
    """(raw mails, the intent each was labelled with: "automatic" for mail that needs no reply by its headers)."""
    raws, labels = [], []
    for path in sorted((ROOT / "bench" / "data" / "heldout").glob("triage_*.csv")):
        with open(path, encoding="utf-8") as handle:
            for n, row in enumerate(csv.DictReader(handle)):
                subject, _, body = row["text"].partition("\n") if "\n" in row["text"] else ("", "", row["text"])
                for copy in range(copies):
                    sender = f"Customer {n} <c{n}.{copy}@{path.stem}.example>"
                    raws.append(raw_mail(sender, subject[:120], body, form=FORMS[(n + copy) % len(FORMS)]))
                    labels.append(row["intent"])
    lingspam = ROOT.parent / "shared" / "data" / "spam" / "lingspam_subset.tsv"
    if lingspam.exists():  # the Linguist list's real messages (Ling-Spam's test-split ham), as a list delivers them
        with open(lingspam, encoding="utf-8") as handle:
            ham = [r for r in csv.DictReader(handle, delimiter="\t") if r["label"] == "ham" and r["split"] == "test"]
        for n, row in enumerate(ham):
            headers = [("List-Id", "<linguist.linguistlist.org>"), ("Precedence", "list")]
            raws.append(raw_mail(f"Linguist {n} <l{n}@linguistlist.org>", row["subject"][:120], row["body"], headers=headers, form=FORMS[n % len(FORMS)]))
            labels.append("automatic")
    for sender, subject, body, headers in AUTOMATIC * (4 * copies):
        raws.append(raw_mail(sender, subject, body, headers=headers, form=FORMS[len(raws) % len(FORMS)]))
        labels.append("automatic")
    return raws, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2: the CI machine's cores)")
    parser.add_argument("--copies", type=int, default=1, help="each held-out text this many times, in other forms")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from core.mail.reading import parse_eml
    from core.mail.triage import TRIAGE_CHARS, mail_text, triage_many
    from core.models.encoders import encoder

    raws, labels = mixed_mailbox(args.copies)
    start = time.perf_counter()
    rounds = 0
    while rounds < 3 or time.perf_counter() - start < 2:
        mails = [parse_eml(raw) for raw in raws]
        rounds += 1
    parse_rate = rounds * len(raws) / (time.perf_counter() - start)

    triage_many([m for m in mails if not m.automatic][-4:])  # the encoder and the heads loaded, as in a running app
    people = [i for i, m in enumerate(mails) if not m.automatic]  # timed alone: the mail that is encoded
    start = time.perf_counter()
    by_person = triage_many([mails[i] for i in people])
    people_seconds = time.perf_counter() - start
    start = time.perf_counter()
    by_headers = triage_many([m for m in mails if m.automatic])
    triage_seconds = people_seconds + time.perf_counter() - start
    triages = [None] * len(mails)
    for i, triage in zip(people, by_person):
        triages[i] = triage
    for i, triage in zip([i for i, m in enumerate(mails) if m.automatic], by_headers):
        triages[i] = triage
    # Long mail, the worst case: the list's messages as if people wrote them (no List- headers), each read to the cut.
    long_mails = [replace(m, automatic="", subject=m.subject + " ") for m in mails if m.automatic and len(m.body) > 2 * TRIAGE_CHARS]
    start = time.perf_counter()
    triage_many(long_mails)
    long_rate = len(long_mails) / (time.perf_counter() - start) if long_mails else None
    long_tokens = [len(ids) for ids in encoder().model.token_ids([mail_text(m)[:TRIAGE_CHARS] for m in long_mails])]
    tokens = [len(ids) for ids in encoder().model.token_ids([mail_text(mails[i])[:TRIAGE_CHARS] for i in people])]
    spam = [t for t, label in zip(triages, labels) if label == "spam_other"]
    customers = [t for t, label in zip(triages, labels) if label not in ("spam_other", "automatic")]
    automatic = [t for t, label in zip(triages, labels) if label == "automatic"]
    figures = {
        "mails": len(raws),
        "forms": list(FORMS),
        "bytes_per_mail": round(sum(map(len, raws)) / len(raws)),
        "parse_mails_per_s": round(parse_rate),
        "triage_mails_per_s": round(len(mails) / triage_seconds, 1),
        "triage_person_written_mails_per_s": round(len(people) / people_seconds, 1),
        "triage_long_mails_per_s": long_rate and round(long_rate, 1),
        "long_mails": {"count": len(long_mails), "tokens_read_mean": long_tokens and round(sum(long_tokens) / len(long_tokens), 1)},
        "torch_threads": args.threads,
        "tokens_read_per_person_written_mail": {"mean": round(sum(tokens) / len(tokens), 1), "max": max(tokens), "cut_at_chars": TRIAGE_CHARS},
        "spam_needing_a_reply": f"{sum(t.needs_reply for t in spam)} of {len(spam)}",
        "automatic_needing_a_reply": f"{sum(t.needs_reply for t in automatic)} of {len(automatic)}",
        "customer_mail_needing_no_reply": f"{sum(not t.needs_reply for t in customers)} of {len(customers)}",
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
