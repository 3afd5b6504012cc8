"""The team's mailbox over IMAP: new mail in, replies back into Drafts, nothing ever sent.

- `pull` reads new messages of one folder (INBOX by default) with BODY.PEEK on a read-only
  selection, so no flag changes and nothing is moved or deleted; it remembers UIDVALIDITY and the
  last UID read (mailbox_state), saved after every chunk, so a rerun reads nothing twice and a
  connection lost mid-pull loses nothing. New mail is triaged and drafted as the Email page does.
- `push` appends each approved reply (and with `all_drafts` each draft still waiting) to the
  Drafts folder (its \\Drafts special use, else "Drafts") flagged \\Draft and threaded under the
  mail it answers; a reply changed in Mercury replaces its old copy there. Sent is never touched.
- `learn_voice` reads the Sent folder (read only) for a few of the team's own replies.

Configuration: MERCURY_IMAP_URL (imap://user@host:port/INBOX, imaps:// for TLS; STARTTLS is used
when an imap:// server offers it) and MERCURY_IMAP_PASSWORD, from the environment or
.streamlit/secrets.toml. The password is a secret setting (core.config.redact): it is never stored,
logged, shown or exported, and it may not sit in the URL, which is shown.
"""
from __future__ import annotations

import fcntl
import hashlib
import re
import socket
import ssl
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import unquote, urlsplit

import imapclient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imapclient import DRAFTS, SENT
from sqlmodel import func, select

from core.brand import Brand, current_brand, save_brand
from core.config import data_dir, secrets_section, setting
from core.db import EmailMessage, MailboxState, session_scope, utcnow
from core.errors import IngestError, MailboxError, UserError
from core.i18n import Msg
from core.llm.base import Progress
from core.mail.export import reply_message
from core.mail.queue import add_emails, draft_pending
from core.mail.reading import parse_eml, without_quote
from core.mail.triage import mail_language
from core.models.intents import intent_classifier

DEFAULT_PORTS = {"imap": 143, "imaps": 993}
FETCH_CHUNK = 25  # messages fetched, triaged and saved at a time: what a dropped connection can cost
AWAITING_HEADER = "X-Mercury-Status"  # on a draft pushed before a person approved it
EMAIL_HEADER = "X-Mercury-Email"  # the Mercury email a pushed draft answers


@dataclass(frozen=True)
class MailboxConfig:
    scheme: str
    user: str
    host: str
    port: int
    folder: str
    password: str = field(default="", repr=False, compare=False)
    timeout: float = 30.0

    @property
    def label(self) -> str:
        """The mailbox as it may be shown: no password."""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"

    @property
    def account(self) -> str:
        """The folder whatever the port or TLS it is reached by: what pull remembers, the queue's `source`."""
        return f"{self.user}@{self.host}/{self.folder}"

    @property
    def source(self) -> str:
        """The `source` of the emails pulled from it."""
        return f"imap: {self.account}"


def mailbox_config(url: str | None = None, password: str | None = None) -> MailboxConfig | None:
    """The configured mailbox, None when MERCURY_IMAP_URL is not set; UserError when it is malformed."""
    url = setting("MERCURY_IMAP_URL", url)
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or not parts.username:
        raise UserError(Msg("MERCURY_IMAP_URL must read imap://user@host:port/INBOX (or imaps:// for TLS); it reads {url}.", url=_without_password(url)))
    if parts.password:
        raise UserError(Msg("Put the mailbox password in MERCURY_IMAP_PASSWORD, not in MERCURY_IMAP_URL: the URL is shown on the page."))
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as error:
        raise UserError(Msg("MERCURY_IMAP_URL has no valid port: {url}.", url=url)) from error
    return MailboxConfig(
        scheme=parts.scheme,
        user=unquote(parts.username),
        host=parts.hostname,
        port=port,
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        password=setting("MERCURY_IMAP_PASSWORD", password),
        timeout=float(setting("MERCURY_IMAP_TIMEOUT")),
    )


def _without_password(url: str) -> str:
    return re.sub(r"//([^/@:]*):[^/@]*@", r"//\1@", url)


def require_config() -> MailboxConfig:
    config = mailbox_config()
    if config is None:
        raise UserError(Msg("No mailbox is configured: set MERCURY_IMAP_URL (imap://user@host:port/INBOX) and MERCURY_IMAP_PASSWORD."))
    if not config.password:
        raise UserError(Msg("The mailbox {mailbox} has no password: set MERCURY_IMAP_PASSWORD.", mailbox=config.label))
    return config


@contextmanager
def connect(config: MailboxConfig) -> Iterator:
    """A logged-in IMAPClient (TLS for imaps://, STARTTLS when offered), logged out after use;
    every failure of the server is a MailboxError with one sentence."""
    where = f"{config.host}:{config.port}"
    try:
        client = imapclient.IMAPClient(config.host, port=config.port, ssl=config.scheme == "imaps", timeout=config.timeout)
    except (socket.timeout, TimeoutError) as error:
        raise MailboxError(Msg("The mail server at {server} did not answer within {seconds} s.", server=where, seconds=int(config.timeout))) from error
    except ssl.SSLError as error:
        problem = str(error.reason or error)
        raise MailboxError(Msg("The TLS connection to the mail server at {server} failed: {problem}.", server=where, problem=problem)) from error
    except OSError as error:
        raise MailboxError(Msg("Mercury cannot reach the mail server at {server}: {problem}.", server=where, problem=error.strerror or str(error))) from error
    try:
        with mail_errors(config):
            if config.scheme == "imap" and client.has_capability("STARTTLS"):
                client.starttls(ssl.create_default_context())
            try:
                client.login(config.user, config.password)
            except LoginError as error:
                raise MailboxError(
                    Msg("The mail server at {server} refused the login of {user}: check MERCURY_IMAP_PASSWORD.", server=where, user=config.user)
                ) from error
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - a connection already lost has nothing to log out of
            pass


@contextmanager
def mail_errors(config: MailboxConfig, *, kept: Msg | None = None) -> Iterator[None]:
    """A server that times out, drops the connection or answers an error, as one MailboxError
    (`kept` says what was saved before it happened)."""
    where = f"{config.host}:{config.port}"
    try:
        yield
    except MailboxError:
        raise
    except (socket.timeout, TimeoutError) as error:
        problem = Msg("The mail server at {server} did not answer within {seconds} s.", server=where, seconds=int(config.timeout))
        raise MailboxError(_with_kept(problem, kept)) from error
    except (IMAPClientAbortError, OSError, EOFError) as error:
        raise MailboxError(_with_kept(Msg("The mail server at {server} closed the connection.", server=where), kept)) from error
    except IMAPClientError as error:
        problem = Msg("The mail server at {server} answered an error: {problem}.", server=where, problem=str(error)[:200])
        raise MailboxError(_with_kept(problem, kept)) from error


def _with_kept(problem: Msg, kept: Msg | None) -> Msg:
    return problem if kept is None else Msg("{problem} {kept}", problem=problem, kept=kept)


@contextmanager
def mailbox_lock(config: MailboxConfig) -> Iterator[None]:
    """One pull or push of a mailbox at a time (cron, a timer and the page may all start one)."""
    name = hashlib.sha256(f"{config.user}@{config.host}".encode()).hexdigest()[:16]
    with open(data_dir() / f"mailbox-{name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise UserError(Msg("Another pull or push of {mailbox} is running: this one did nothing.", mailbox=config.label)) from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _state(account: str) -> MailboxState:
    with session_scope() as session:
        return session.get(MailboxState, account) or MailboxState(account=account)


def _save_state(account: str, uidvalidity: int, last_uid: int) -> None:
    with session_scope() as session:
        row = session.get(MailboxState, account) or MailboxState(account=account)
        row.uidvalidity, row.last_uid, row.updated_at = uidvalidity, last_uid, utcnow()
        session.add(row)
        session.commit()


@dataclass
class PullResult:
    mailbox: str
    read: int = 0  # messages fetched this time
    new: int = 0  # of those, mail the queue did not hold yet
    needs_reply: int = 0
    drafted: int = 0
    unreadable: int = 0  # messages Mercury could not parse (left in the mailbox as they are)
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("mailbox", "read", "new", "needs_reply", "drafted", "unreadable", "ids")}


def pull(brand: Brand, *, spec=None, draft: bool = True, progress: Progress | None = None, config: MailboxConfig | None = None) -> PullResult:
    """Read the folder's new messages, queue and triage them, then draft those that need a reply."""
    config = config or require_config()
    result, account = PullResult(config.label), config.account
    with mailbox_lock(config), connect(config) as client:
        with mail_errors(config):
            selected = client.select_folder(config.folder, readonly=True)  # EXAMINE: nothing read here changes a flag
            uidvalidity = int(selected[b"UIDVALIDITY"])
            state = _state(account)
            last = state.last_uid if state.uidvalidity == uidvalidity else 0  # a new UIDVALIDITY renumbers the folder
            uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
        with session_scope() as session:
            before = session.exec(select(func.max(EmailMessage.id))).one() or 0  # ids above it are mail this pull added
        for start in range(0, len(uids), FETCH_CHUNK):
            part = uids[start : start + FETCH_CHUNK]
            kept = Msg("The {count} messages read before it are saved: run it again to read the rest.", count=result.read)
            with mail_errors(config, kept=kept):
                fetched = client.fetch(part, ["BODY.PEEK[]"])
            mails = []
            for uid in part:
                try:
                    mails.append(parse_eml(fetched[uid][b"BODY[]"]))
                except (KeyError, IngestError):
                    result.unreadable += 1
            mails = [m for m in mails if m.body.strip() or m.subject.strip()]
            ids = add_emails(mails, config.source, spec=spec) if mails else []
            _save_state(account, uidvalidity, part[-1])  # saved with the mail: a rerun starts after it
            result.read += len(part)
            result.ids += ids
            if progress:
                progress(result.read, len(uids))
    with session_scope() as session:
        rows = session.exec(select(EmailMessage.id, EmailMessage.needs_reply).where(EmailMessage.id.in_(result.ids))).all()
    result.new = sum(1 for email_id, _ in rows if email_id > before)
    result.needs_reply = sum(1 for _, needs_reply in rows if needs_reply)
    if draft and result.ids:
        result.drafted = draft_pending(brand, spec=spec, ids=result.ids)
    return result


@dataclass
class PushResult:
    mailbox: str
    folder: str = ""
    pushed: int = 0  # drafts added to the folder
    replaced: int = 0  # of those, replacing an older copy of the same reply
    removed: int = 0  # copies taken out because the reply was rejected in Mercury
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("mailbox", "folder", "pushed", "replaced", "removed", "unchanged")}


def drafts_folder(client, *, create: bool = True) -> str:
    """The folder marked \\Drafts (RFC 6154), else the one named Drafts (created when there is none
    and `create`; "" when there is none and not `create`)."""
    found = client.find_special_folder(DRAFTS)  # by its \\Drafts flag, else by the names servers use
    if found:
        return found
    named = next((name for _, _, name in client.list_folders() if name.lower() == "drafts"), "")
    if not named and create:
        client.create_folder("Drafts")
        return "Drafts"
    return named


def _digest(text: str, awaiting: bool) -> str:
    return hashlib.sha256(f"{int(awaiting)}\x1f{text}".encode()).hexdigest()[:32]


def _appended_uid(client, response: bytes, message_id: str) -> int | None:
    found = re.search(rb"APPENDUID \d+ (\d+)", response or b"")
    if found:
        return int(found.group(1))
    uids = client.search(["HEADER", "Message-ID", message_id])  # a server without UIDPLUS
    return max(uids) if uids else None


def _remove(client, uid: int) -> bool:
    """Take one old copy out of the selected Drafts folder (only that message, never another)."""
    if not client.search(["UID", str(uid)]):
        return False  # sent or deleted in the mail client already
    client.delete_messages([uid])
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])
    return True


def push(brand: Brand, *, all_drafts: bool = False, config: MailboxConfig | None = None) -> PushResult:
    """Put each approved reply to this mailbox's mail (and with `all_drafts` each waiting draft) in Drafts."""
    config = config or require_config()
    result = PushResult(config.label)
    statuses = ["approved", "rejected"] + (["drafted"] if all_drafts else [])
    with session_scope() as session:
        query = select(EmailMessage).where(EmailMessage.source == config.source, EmailMessage.status.in_(statuses))
        rows = list(session.exec(query.order_by(EmailMessage.id)))
    with mailbox_lock(config), connect(config) as client:
        with mail_errors(config, kept=_pushed_so_far(result)):
            result.folder = drafts_folder(client)
            uidvalidity = int(client.select_folder(result.folder)[b"UIDVALIDITY"])
        for row in rows:
            old = row.pushed_uid if row.pushed_uidvalidity == uidvalidity else None
            with mail_errors(config, kept=_pushed_so_far(result)):
                if row.status == "rejected" or (row.status == "drafted" and not row.draft.strip()):
                    if old is not None and _remove(client, old):
                        result.removed += 1
                    if old is not None:
                        _record_push(row.id, None, None, "")
                    continue
                awaiting = row.status == "drafted"
                text = row.draft if awaiting else row.approved_text
                digest = _digest(text, awaiting)
                if old is not None and row.pushed_digest == digest:
                    result.unchanged += 1
                    continue
                message = reply_message(row, brand, text=text)
                message[EMAIL_HEADER] = str(row.id)
                if awaiting:
                    message[AWAITING_HEADER] = "awaiting approval in Mercury"
                response = client.append(result.folder, bytes(message), flags=[b"\\Draft"])
                uid = _appended_uid(client, response, message["Message-ID"])
                _record_push(row.id, uid, uidvalidity, digest)  # recorded first: the new copy is never lost track of
                result.pushed += 1
                if old is not None:
                    _remove(client, old)
                    result.replaced += 1
    return result


def _pushed_so_far(result: PushResult) -> Msg:
    return Msg("The {count} drafts put in the mailbox before it are recorded: run it again to push the rest.", count=result.pushed)


def _record_push(email_id: int, uid: int | None, uidvalidity: int | None, digest: str) -> None:
    with session_scope() as session:
        row = session.get(EmailMessage, email_id)
        row.pushed_uid, row.pushed_uidvalidity, row.pushed_digest = uid, uidvalidity, digest
        session.add(row)
        session.commit()


def check(config: MailboxConfig | None = None) -> Msg:
    """Connect, log in and look at the folder: one sentence saying what is there (MailboxError when it fails)."""
    config = config or require_config()
    with connect(config) as client, mail_errors(config):
        status = client.folder_status(config.folder, [b"MESSAGES", b"UIDVALIDITY", b"UIDNEXT"])
        drafts = drafts_folder(client, create=False)
    state = _state(config.account)
    messages = int(status[b"MESSAGES"])
    unread = messages if state.uidvalidity != int(status[b"UIDVALIDITY"]) else max(0, int(status[b"UIDNEXT"]) - 1 - state.last_uid)
    return Msg(
        "Connected to {mailbox}: {messages} messages, at most {unread} not yet read by Mercury; drafts go to {drafts}.",
        mailbox=config.label,
        messages=messages,
        unread=min(unread, messages),
        drafts=drafts or "Drafts",
    )


VOICE_SCAN = 200  # the newest sent messages read for the team's voice


def reply_body(text: str) -> str:
    """A sent reply without the quoted mail below it, on one line."""
    return " ".join(without_quote(text).split())


def learn_voice(*, per_kind: int = 1, limit: int = 12, config: MailboxConfig | None = None) -> list[dict]:
    """Keep a few of the team's own replies from the Sent folder (read only) as the Brand profile's
    reply examples: per intent (that of the mail it answers when Mercury holds it, else its own)
    and language, newest first. Returns what was kept; the person sees and edits them in the profile."""
    config = config or require_config()
    with mailbox_lock(config), connect(config) as client, mail_errors(config):
        sent = client.find_special_folder(SENT)
        if not sent:
            raise UserError(Msg("The mailbox {mailbox} has no Sent folder to learn the team's voice from.", mailbox=config.label))
        client.select_folder(sent, readonly=True)
        uids = sorted(client.search(), reverse=True)[:VOICE_SCAN]
        fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    replies = []
    for uid in uids:
        try:
            mail = parse_eml(fetched[uid][b"BODY[]"])
        except (KeyError, IngestError):
            continue
        text = reply_body(mail.body)
        if 40 <= len(text) <= 1200 and not mail.automatic:
            replies.append((mail, text))
    if not replies:
        return []
    with session_scope() as session:
        answered = dict(session.exec(select(EmailMessage.message_id, EmailMessage.intent).where(EmailMessage.message_id != "")).all())
    guesses = intent_classifier().predict([text[:600] for _, text in replies])
    kept, counts = [], {}
    for (mail, text), guess in zip(replies, guesses):
        original = next((answered[m] for m in mail.references.split()[::-1] if m in answered), None)
        intent = original or guess.intent  # the team's own reply is never spam: "spam_other" here is "other"
        kind = (intent, mail_language(text))
        if counts.get(kind, 0) < per_kind and len(kept) < limit:
            counts[kind] = counts.get(kind, 0) + 1
            kept.append({"intent": intent, "language": kind[1], "text": text})
    brand = current_brand()
    brand.reply_examples = [f"[{k['intent']}, {k['language']}] {k['text']}" for k in kept]
    save_brand(brand)
    return kept


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def hidden_because(address: str | None, *, logged_in: bool) -> Msg | None:
    """Why the mailbox's mail may not be shown to this visitor, None when it may: the app listens on
    loopback only, a login proxy stands in front (MERCURY_TRUSTED_PROXY_LOGIN=1), or Streamlit's
    login ([auth] in the secrets file) has let them in."""
    if (address or "").strip("[]") in LOOPBACK or (address or "").startswith("127.") or setting("MERCURY_TRUSTED_PROXY_LOGIN") == "1":
        return None
    if secrets_section("auth"):
        return None if logged_in else Msg("Log in to see the team's mailbox.")
    return Msg(
        "This app serves the network ({address}) without a login, so the team's mail is not shown: add an [auth] section to "
        ".streamlit/secrets.toml for Streamlit's login, or set MERCURY_TRUSTED_PROXY_LOGIN=1 when a login proxy stands in front.",
        address=address or "0.0.0.0",
    )


@dataclass
class MailboxFigures:
    """What the Email page shows of the mailbox without connecting."""

    mailbox: str
    last_pull: object | None
    pulled: int
    in_drafts: int


def mailbox_figures(config: MailboxConfig) -> MailboxFigures:
    with session_scope() as session:
        state = session.get(MailboxState, config.account)
        rows = session.exec(select(EmailMessage.pushed_uid).where(EmailMessage.source == config.source)).all()
    return MailboxFigures(config.label, state.updated_at if state else None, len(rows), sum(1 for uid in rows if uid is not None))
