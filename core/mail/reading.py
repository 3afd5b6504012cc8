"""Reading mail: .eml (MIME, any declared charset, HTML with hidden text set aside), .mbox, .txt
and tables of mail (CSV, TSV, Excel, JSON lines)."""
from __future__ import annotations

import mailbox
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from core.errors import IngestError
from core.i18n import Msg
from core.ingest import decode, find_column, read_table

MAX_BODY_CHARS = 20_000


@dataclass
class ParsedEmail:
    sender: str = ""
    subject: str = ""
    body: str = ""
    received: datetime | None = None
    message_id: str = ""
    hidden_text: str = ""  # text an HTML part hides from the reader (white, zero-size, display:none)
    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)


_VOID = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"}
_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])"
    r"|(?<![-\w])color\s*:\s*(?:#fff\b|#ffffff\b|white\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)",
    re.IGNORECASE,
)


class _HtmlText(HTMLParser):
    """Visible text of an HTML mail, with hidden text, links and images set aside."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.visible: list[str] = []
        self.hidden: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []

    def _hidden(self) -> bool:
        return any(h for _, h in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag in _BLOCK:
            self.visible.append("\n")
        if tag not in _VOID:
            hides = tag in ("script", "style", "head", "title") or "hidden" in attrs or bool(_HIDING_STYLE.search(attrs.get("style") or ""))
            self.stack.append((tag, hides))

    def handle_endtag(self, tag):
        if tag in _BLOCK:
            self.visible.append("\n")
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        (self.hidden if self._hidden() else self.visible).append(data)


def html_to_text(markup: str) -> tuple[str, str, list[str], list[str]]:
    """(visible text, hidden text, link targets, image sources) of an HTML body."""
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    visible = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.visible))
    visible = re.sub(r"\n\s*\n\s*", "\n\n", visible)
    hidden = " ".join(" ".join(parser.hidden).split())
    return visible.strip(), hidden, parser.links, parser.images


def _part_text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # an unknown or wrong charset label
        payload = part.get_payload(decode=True) or b""
        for encoding in ("utf-8", "cp1252"):
            try:
                return payload.decode(encoding)
            except UnicodeDecodeError:
                continue
        return payload.decode("latin-1")


_HEADER_START = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
# Real mail nests a handful of MIME parts; the standard library recurses once per level.
MAX_MIME_PARTS = 500


def parse_eml(data: bytes) -> ParsedEmail:
    if data.lower().count(b"content-type: multipart") > MAX_MIME_PARTS:
        raise IngestError(
            Msg("The email nests more than {max_mime_parts} MIME parts, far more than real mail: Mercury does not read it.", max_mime_parts=MAX_MIME_PARTS)
        )
    try:
        return _parse_eml(data)
    except RecursionError as error:
        raise IngestError(Msg("The email nests its MIME parts too deeply for Mercury to read.")) from error


def _parse_eml(data: bytes) -> ParsedEmail:
    message = BytesParser(policy=policy.default).parsebytes(data)
    parsed = ParsedEmail(
        sender=str(message.get("From", "") or ""),
        subject=" ".join(str(message.get("Subject", "") or "").split()),
        message_id=str(message.get("Message-ID", "") or "").strip(),
    )
    if message.get("Date"):
        try:
            parsed.received = parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError):
            pass
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        visible, parsed.hidden_text, parsed.links, parsed.images = html_to_text(_part_text(html))
    parsed.body = _part_text(plain).strip() if plain is not None else (visible if html is not None else "")
    if plain is None and html is None and not message.is_multipart():
        parsed.body = _part_text(message).strip()
    parsed.attachments = [part.get_filename() or part.get_content_type() for part in message.iter_attachments()] if message.is_multipart() else []
    parsed.body = parsed.body[:MAX_BODY_CHARS]
    return parsed


def parse_text(text: str) -> ParsedEmail:
    """A pasted email or a .txt file: either full headers, or a `Subject:` line, a blank line, the body."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    if re.match(r"^(From|Subject|To|Date|Message-ID|Received|Return-Path|MIME-Version):", text, re.IGNORECASE):
        return parse_eml(text.encode("utf-8"))
    return ParsedEmail(body=text.strip()[:MAX_BODY_CHARS])


def parse_mbox(data: bytes) -> list[ParsedEmail]:
    with tempfile.NamedTemporaryFile(suffix=".mbox") as handle:
        handle.write(data)
        handle.flush()
        box = mailbox.mbox(handle.name, create=False)
        try:
            # mboxrd: a body line starting "From " was stored as ">From "; take one ">" back off
            return [parse_eml(re.sub(rb"(?m)^>(>*From )", rb"\1", message.as_bytes())) for message in box]
        finally:
            box.close()


_CSV_ROLES = {
    "sender": ("from", "sender", "email", "from_address", "customer_email", "customer"),
    "subject": ("subject", "title", "topic"),
    "body": ("body", "message", "text", "content", "email_body", "mail"),
    "received": ("date", "received", "sent", "timestamp", "created_at"),
}


def parse_table(data: bytes, name: str) -> tuple[list[ParsedEmail], pd.DataFrame]:
    """Emails from a CSV (or TSV, xlsx, jsonl) with from, subject, body and date columns; the
    table comes back too, so a batch export keeps every input column."""
    table = read_table(data, name)
    frame = table.frame
    columns = {role: find_column(frame, names) for role, names in _CSV_ROLES.items()}
    if columns["body"] is None:
        raise IngestError(Msg("{name} has no body column: name one of its columns body, message or text.", name=name))
    emails = []
    for _, row in frame.iterrows():
        received = pd.to_datetime(row[columns["received"]], errors="coerce", utc=True) if columns["received"] else pd.NaT
        emails.append(
            ParsedEmail(
                sender=str(row[columns["sender"]] or "") if columns["sender"] else "",
                subject=str(row[columns["subject"]] or "") if columns["subject"] else "",
                body=str(row[columns["body"]] or "")[:MAX_BODY_CHARS],
                received=None if pd.isna(received) else received.to_pydatetime(),
            )
        )
    return emails, frame


def read_emails(data: bytes, name: str) -> list[ParsedEmail]:
    """Any supported mail file by its name: .eml, .txt, .mbox, or a table of emails."""
    if not data.strip():
        raise IngestError(Msg("{name} is empty.", name=name))
    suffix = Path(name).suffix.lower()
    if suffix == ".eml":
        if b"\x00" in data[:8192] or not _HEADER_START.match(data.lstrip()[:200]):
            raise IngestError(Msg("{name} is not an email: an .eml file is text that starts with headers such as From: and Subject:.", name=name))
        emails = [parse_eml(data)]
    elif suffix in (".mbox", ".mbx") or data.startswith(b"From "):
        emails = parse_mbox(data)
    elif suffix in (".txt", ""):
        if b"\x00" in data[:2000] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise IngestError(Msg("{name} is not a text file.", name=name))

        emails = [parse_text(decode(data, name)[0])]
    elif suffix in (".csv", ".tsv", ".xlsx", ".jsonl", ".json"):
        emails = parse_table(data, name)[0]
    else:
        raise IngestError(Msg("{name} is not a mail file Mercury reads: use .eml, .mbox, .txt or a CSV of emails.", name=name))
    emails = [e for e in emails if e.body.strip() or e.subject.strip()]
    if not emails:
        raise IngestError(Msg("{name} holds no email with a subject or a body.", name=name))
    return emails
