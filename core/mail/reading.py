"""Reading mail: .eml (MIME, any declared charset, HTML with hidden text set aside), .mbox, .txt
and tables of mail (CSV, TSV, Excel, JSON lines)."""
from __future__ import annotations

import mailbox
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

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
    references: str = ""  # the References header, for threading a reply
    automatic: str = ""  # why its headers say it is automatic or bulk mail (AUTOMATIC_KINDS), "" for a person's mail
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


# Charset labels whose text real mail often goes beyond: read with the superset
_WIDER_CHARSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "ks_c_5601-1987": "cp949", "iso-8859-1": "cp1252", "us-ascii": "utf-8"}


def _part_text(part) -> str:
    """A text part's text in any declared charset; a wrong or unknown label falls back to UTF-8, then cp1252."""
    payload = part.get_payload(decode=True) or b""
    declared = (part.get_content_charset() or "utf-8").lower()
    for encoding in (_WIDER_CHARSET.get(declared, declared), "utf-8", "cp1252"):
        try:
            return payload.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _header(message, name: str) -> str:
    """A header's text with its RFC 2047 encoded words decoded, on one line."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        value = str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError, HeaderParseError):
        value = str(value)
    return " ".join(value.split())


def _leaves(message) -> Iterator:
    """The message's leaf parts in order, not descending into attached messages (message/rfc822)."""
    if message.is_multipart() and message.get_content_maintype() != "message":
        for part in message.get_payload():
            yield from _leaves(part)
    else:
        yield message


# Mail that needs no reply, by its headers (RFC 3834 Auto-Submitted, RFC 2369 List-*, RFC 3464 delivery reports).
AUTOMATIC_KINDS = ("auto-submitted", "bulk", "list", "no-reply sender", "delivery report")
_NO_REPLY_SENDER = re.compile(
    r"(?:^|[<\s\"'])(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?|notifications?|alerts?|news(?:letter)?)(?:[-+._][^@\s]*)?@",
    re.IGNORECASE,
)


def automatic_kind(message) -> str:
    """Why a message's headers say no person wrote it to the team, or "" (AUTOMATIC_KINDS)."""
    if str(message.get("Auto-Submitted", "no")).strip().lower() not in ("", "no") or message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto-submitted"
    if str(message.get("Precedence", "")).strip().lower() in ("bulk", "list", "junk", "auto_reply"):
        return "bulk"
    if any(message.get(name) for name in ("List-Id", "List-Unsubscribe", "List-Post", "List-Help")):
        return "list"
    if message.get_content_type() == "multipart/report" or "delivery-status" in str(message.get("Content-Type", "")).lower():
        return "delivery report"
    sender = str(message.get("Return-Path", "")) + " " + str(message.get("From", ""))
    if _NO_REPLY_SENDER.search(sender) or str(message.get("Return-Path", "")).strip() == "<>":
        return "no-reply sender"
    return ""


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
    # compat32 keeps headers as text until asked: ten times faster than the header objects of policy.default
    message = BytesParser(policy=compat32).parsebytes(data)
    parsed = ParsedEmail(
        sender=_header(message, "From"),
        subject=_header(message, "Subject"),
        message_id=str(message.get("Message-ID", "") or "").strip(),
        references=" ".join(str(message.get("References", "") or "").split()),
        automatic=automatic_kind(message),
    )
    if message.get("Date"):
        try:
            parsed.received = parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError, IndexError):
            pass
    plain = html = None
    for part in _leaves(message):
        attached = str(part.get("Content-Disposition", "")).strip().lower().startswith("attachment")
        kind = part.get_content_type()
        if not attached and kind == "text/plain" and plain is None:
            plain = part
        elif not attached and kind == "text/html" and html is None:
            html = part
        elif part is not message:
            parsed.attachments.append(part.get_filename() or kind)
    if html is not None:
        visible, parsed.hidden_text, parsed.links, parsed.images = html_to_text(_part_text(html))
    parsed.body = _part_text(plain).strip() if plain is not None else (visible if html is not None else "")
    if plain is None and html is None and not message.is_multipart():
        parsed.body = _part_text(message).strip()
    parsed.body = parsed.body[:MAX_BODY_CHARS]
    return parsed


# Where a reply's quote of the mail it answers begins, in the languages Mercury reads.
_QUOTE_START = re.compile(
    r"^(?:>|On .{4,200} wrote:|-{2,} ?(?:Original Message|Wiadomość oryginalna|Mesaj original|原始邮件)|W dniu .{4,200} napisał|"
    r".{4,200} a scris:|.{0,200}写道[:：]|From: |De la: |Od: |发件人[:：])",
    re.MULTILINE,
)


def without_quote(text: str, keep: int = 40) -> str:
    """The text above the quote of an earlier mail (what the writer wrote now), when at least `keep`
    characters stand above it; else the whole text."""
    found = _QUOTE_START.search(text, keep)
    return text[: found.start()].rstrip() if found and len(text[: found.start()].strip()) >= keep else text


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


MAIL_SUFFIXES = (".eml", ".mbox", ".mbx", ".txt", ".csv", ".tsv", ".xlsx", ".jsonl", ".json")
TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".jsonl", ".json")


def mails_frame(mails: list[ParsedEmail]) -> pd.DataFrame:
    """A table of mail read from .eml, mbox or .txt: what `reply --batch` writes its drafts beside."""
    return pd.DataFrame(
        [{"from": m.sender, "subject": m.subject, "date": m.received, "message_id": m.message_id, "body": m.body} for m in mails],
        columns=["from", "subject", "date", "message_id", "body"],
    )


def read_mail_path(path: str | Path) -> tuple[list[ParsedEmail], pd.DataFrame]:
    """Mail from a file (.eml, an mbox, a .txt, a table of emails) or a folder of them, with a table
    of it: a table's own columns, else from, subject, date, message_id and body."""
    from core.ingest import read_input

    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in MAIL_SUFFIXES)
        if not files:
            raise IngestError(Msg("{path} holds no mail file: put .eml, .mbox, .txt or CSV files in it.", path=path))
        mails = [mail for file in files for mail in read_mail_path(file)[0]]
        return mails, mails_frame(mails)
    data = read_input(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        if not data.strip():
            raise IngestError(Msg("{name} is empty.", name=path.name))
        return parse_table(data, path.name)
    mails = read_emails(data, path.name)
    return mails, mails_frame(mails)


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
    elif suffix in TABLE_SUFFIXES:
        emails = parse_table(data, name)[0]
    else:
        raise IngestError(Msg("{name} is not a mail file Mercury reads: use .eml, .mbox, .txt or a CSV of emails.", name=name))
    emails = [e for e in emails if e.body.strip() or e.subject.strip()]
    if not emails:
        raise IngestError(Msg("{name} holds no email with a subject or a body.", name=name))
    return emails
