"""The team's mailbox over IMAP, against a real Dovecot on loopback (tests/dovecot.py): pull reads
without a trace, push threads drafts into Drafts, reruns do nothing twice, a dropped connection
loses nothing, a wrong password is one sentence, and the password is written nowhere."""
from __future__ import annotations

import csv
import json
import threading
from dataclasses import replace
from email.parser import BytesParser
from email.policy import default as default_policy

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from bench.inbox import raw_mail
from tests.conftest import ROOT, run_cli
from tests.dovecot import DOVECOT, PASSWORD, CuttingProxy, Dovecot
from tests.system_tools import requires

needs_dovecot = requires(DOVECOT is not None, "dovecot missing: scripts/system-deps.sh installs dovecot-imapd (Debian)")
HELD_OUT = ROOT / "bench" / "data" / "heldout"


def mail(sender: str, subject: str, body: str, *, html: bool = False, message_id: bool = True, **options) -> bytes:
    return raw_mail(sender, subject, body, form="html" if html else options.pop("cte", None) or "plain", message_id="auto" if message_id else None, **options)


# Customer mail that needs a reply, in the users' languages and the charsets and encodings real mail uses.
CUSTOMERS = [
    mail("Ana Popescu <ana@example.ro>", "Comanda 48213", "Bună ziua, comanda 48213 nu a ajuns de două săptămâni. Unde este?", cte="quoted-printable"),
    mail("Kasia <kasia@example.pl>", "Zwrot", "Dzień dobry, chcę zwrócić słuchawki, jak to zrobić?", charset="iso-8859-2", cte="quoted-printable"),
    mail("李伟 <li@example.cn>", "耳机无法配对", "你好，我的耳机无法和手机配对，怎么办？", charset="gb2312", cte="base64"),
    mail("Dana <dana@example.com>", "pairing", "my new pulse earbuds wont pair with my phone, what do i do", html=True),
    mail("Tom <tom@example.com>", "refund?", "I returned my headset last week. when do i get my money back", message_id=False),
]
# Mail that needs none, by its headers.
AUTOMATIC = [
    mail("Deals <deals@shop.example>", "This week's deals", "Big savings on everything this week.", headers=[("List-Unsubscribe", "<mailto:u@shop.example>")]),
    mail("Ana Popescu <ana@example.ro>", "Automatic reply: Comanda", "I am out of the office until Monday.", headers=[("Auto-Submitted", "auto-replied")]),
    mail("Mail Delivery System <MAILER-DAEMON@mx.example>", "Undelivered Mail Returned to Sender", "This is the mail system at host mx.example."),
    mail("Shop <no-reply@shop.example>", "Your order has shipped", "Your order 1234 has shipped and arrives Friday."),
    mail("Forum <forum@lists.example>", "[forum] weekly digest", "Ten new topics this week.", headers=[("Precedence", "bulk")]),
]


def held_out_spam(count: int) -> list[bytes]:
    """Real spam the intent head never saw (the Ling-Spam test split), as the raw mail it came in."""
    with open(HELD_OUT / "triage_lingspam.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:count]
    spam = []
    for n, row in enumerate(rows):
        subject, _, body = row["text"].partition("\n")
        spam.append(mail(f"Offers <offers{n}@promo{n}.example>", subject[:120], body or subject, html=n % 2 == 0))
    return spam


@pytest.fixture
def dovecot(monkeypatch, tmp_path):
    server = Dovecot(drafts="Wersje robocze ąę", folder="Skrzynka ąę")
    monkeypatch.setenv("MERCURY_IMAP_URL", server.url)
    monkeypatch.setenv("MERCURY_IMAP_PASSWORD", PASSWORD)
    monkeypatch.setenv("MERCURY_DATA_DIR", str(tmp_path / "data"))
    yield server
    server.stop()


def drafts_of(server: Dovecot) -> list:
    return [(BytesParser(policy=default_policy).parsebytes(raw), flags) for raw, flags in server.snapshot("Wersje robocze ąę").values()]


@needs_dovecot
@pytest.mark.slow
@pytest.mark.model
def test_pull_then_push_leaves_a_threaded_draft_for_each_customer_and_the_mailbox_as_it_was(dovecot, tmp_path):
    spam = held_out_spam(10)
    for raw in CUSTOMERS + AUTOMATIC + spam:
        dovecot.deliver(raw)
    inbox = dovecot.snapshot()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    pulled = run_cli("mailbox", "pull", "--json", env=env)
    assert pulled.returncode == 0, pulled.stderr
    summary = json.loads(pulled.stdout)
    assert summary["read"] == len(CUSTOMERS + AUTOMATIC + spam) and summary["new"] == summary["read"]
    pushed = run_cli("mailbox", "push", "--all-drafts", "--json", env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert dovecot.snapshot() == inbox  # byte for byte, no \Seen added
    assert dovecot.snapshot("Sent") == {}

    drafts = drafts_of(dovecot)
    answered = {d["To"].addresses[0].addr_spec for d, _ in drafts}
    customers = {BytesParser(policy=default_policy).parsebytes(raw)["From"].addresses[0].addr_spec for raw in CUSTOMERS}
    assert customers <= answered, f"no draft for {customers - answered}"
    assert not answered & {"deals@shop.example", "MAILER-DAEMON@mx.example", "no-reply@shop.example", "forum@lists.example"}
    assert sum(1 for a in answered if a.startswith("offers")) <= len(spam) // 10
    originals = {BytesParser(policy=default_policy).parsebytes(raw)["From"].addresses[0].addr_spec: raw for raw in CUSTOMERS}
    for draft, flags in drafts:
        assert "\\Draft" in [f.decode() for f in flags]
        assert draft["Subject"].startswith("Re: ") and draft["X-Mercury-Status"] == "awaiting approval in Mercury"
        original = BytesParser(policy=default_policy).parsebytes(originals.get(draft["To"].addresses[0].addr_spec, b""))
        if original["Message-ID"]:
            assert draft["In-Reply-To"] == original["Message-ID"] and original["Message-ID"] in draft["References"]
        elif draft["To"].addresses[0].addr_spec == "tom@example.com":
            assert draft["In-Reply-To"] is None  # no Message-ID to thread under: the subject carries it
    ro = next(d for d, _ in drafts if d["To"].addresses[0].addr_spec == "ana@example.ro")
    assert "48213" in ro.get_content()

    again = run_cli("mailbox", "pull", "--json", env=env)
    assert json.loads(again.stdout)["read"] == 0
    assert json.loads(run_cli("mailbox", "push", "--all-drafts", "--json", env=env).stdout)["pushed"] == 0
    assert len(drafts_of(dovecot)) == len(drafts) and dovecot.snapshot() == inbox


@needs_dovecot
@pytest.mark.model
def test_an_edit_in_mercury_replaces_the_draft_in_drafts_and_a_rejection_takes_it_out(dovecot):
    from core.brand import current_brand
    from core.mail import mailbox
    from core.mail.queue import approve, queue_frame, reject

    dovecot.deliver(CUSTOMERS[0])
    dovecot.deliver(CUSTOMERS[1])
    mailbox.pull(current_brand())
    assert mailbox.push(current_brand(), all_drafts=True).pushed == 2
    first, second = sorted(queue_frame()["id"])
    approve(first, "Bună ziua, comanda 48213 pleacă mâine.")
    reject(second)
    result = mailbox.push(current_brand(), all_drafts=True)
    assert (result.pushed, result.replaced, result.removed) == (1, 1, 1)
    (draft, _), = drafts_of(dovecot)
    assert draft.get_content().strip() == "Bună ziua, comanda 48213 pleacă mâine." and draft["X-Mercury-Status"] is None


@needs_dovecot
@pytest.mark.model
def test_a_connection_dropped_mid_pull_loses_nothing_and_the_rerun_finishes(dovecot, monkeypatch):
    from core.brand import current_brand
    from core.errors import MailboxError
    from core.mail import mailbox
    from core.mail.queue import queue_frame

    for raw in AUTOMATIC + held_out_spam(7):
        dovecot.deliver(raw)
    monkeypatch.setattr(mailbox, "FETCH_CHUNK", 3)
    proxy = CuttingProxy(dovecot.port, cut_after=6_000)  # through the greeting, login and a chunk or two
    flaky = mailbox.mailbox_config(dovecot.url.replace(f":{dovecot.port}/", f":{proxy.port}/"), PASSWORD)
    with pytest.raises(MailboxError) as failed:
        mailbox.pull(current_brand(), draft=False, config=flaky)
    proxy.close()
    assert "closed the connection" in str(failed.value) and "saved" in str(failed.value)
    saved = len(queue_frame())
    assert 0 < saved < 12
    result = mailbox.pull(current_brand(), draft=False, config=replace(flaky, port=dovecot.port))
    assert result.read + saved == 12 and len(queue_frame()) == 12


@needs_dovecot
@pytest.mark.slow
def test_a_wrong_password_is_one_sentence_and_exit_2(dovecot, tmp_path):
    done = run_cli("mailbox", "check", env={"MERCURY_IMAP_PASSWORD": "not-the-password", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert done.returncode == 2
    refused = f"error: The mail server at 127.0.0.1:{dovecot.port} refused the login of team@example.com: check MERCURY_IMAP_PASSWORD."
    assert done.stderr.strip().splitlines() == [refused]
    checked = run_cli("mailbox", "check", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert checked.returncode == 0 and "drafts go to Wersje robocze ąę" in checked.stdout


def test_an_unreachable_server_is_one_sentence(monkeypatch):
    from core.errors import MailboxError
    from core.mail import mailbox
    from tests.dovecot import free_port

    config = mailbox.mailbox_config(f"imap://team@127.0.0.1:{free_port()}/INBOX", "pw")
    with pytest.raises(MailboxError, match=r"^Mercury cannot reach the mail server at 127\.0\.0\.1:\d+: .+\.$"):
        mailbox.check(config)


@needs_dovecot
@pytest.mark.model
def test_the_password_is_written_nowhere(dovecot, tmp_path, capsys):
    from core.brand import current_brand
    from core.mail import mailbox
    from core.mail.export import approved_frame, export_eml_zip
    from core.mail.queue import approve, queue_frame

    dovecot.deliver(CUSTOMERS[3])
    mailbox.pull(current_brand())
    approve(int(queue_frame()["id"].iloc[0]))
    mailbox.push(current_brand())
    written = [p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file()]
    written += [p.read_bytes() for p in tmp_path.glob("*.db*")] + [export_eml_zip(current_brand()), approved_frame().to_csv().encode()]
    written += [b"".join(raw for raw, _ in dovecot.snapshot("Wersje robocze ąę").values())]
    assert written and not any(PASSWORD.encode() in blob for blob in written)
    assert PASSWORD not in repr(mailbox.require_config()) and PASSWORD not in mailbox.require_config().label


def test_a_password_in_the_url_is_refused_and_a_bad_url_is_one_sentence():
    from core.errors import UserError
    from core.mail.mailbox import mailbox_config

    with pytest.raises(UserError, match="MERCURY_IMAP_PASSWORD, not in MERCURY_IMAP_URL"):
        mailbox_config("imaps://team:hunter22@mail.example/INBOX")
    with pytest.raises(UserError, match="must read imap://user@host:port/INBOX") as bad:
        mailbox_config("https://team:hunter22@mail.example/")
    assert "hunter22" not in str(bad.value)
    config = mailbox_config("imaps://team%40example.com@mail.example/Skrzynka%20%C4%85", "pw")
    assert (config.user, config.port, config.folder) == ("team@example.com", 993, "Skrzynka ą")


def test_two_runs_of_one_mailbox_never_overlap(tmp_path, monkeypatch):
    from core.errors import UserError
    from core.mail.mailbox import mailbox_config, mailbox_lock

    monkeypatch.setenv("MERCURY_DATA_DIR", str(tmp_path))
    config = mailbox_config("imap://team@127.0.0.1:1/INBOX", "pw")
    held, release = threading.Event(), threading.Event()

    def first():
        with mailbox_lock(config):
            held.set()
            release.wait(10)

    runner = threading.Thread(target=first)
    runner.start()
    held.wait(10)
    with pytest.raises(UserError, match="Another pull or push of imap://team@127.0.0.1:1/INBOX is running"):
        with mailbox_lock(config):
            pass
    release.set()
    runner.join()
    with mailbox_lock(config):  # free again once the first run ended
        pass


@needs_dovecot
@pytest.mark.model
def test_the_teams_voice_comes_from_its_sent_replies_without_the_quote(dovecot):
    from core.brand import current_brand
    from core.mail import mailbox

    team = "Aria Audio <support@aria-audio.example>"
    reply = "Hi Dana,\n\nThanks for writing! Hold the case button for five seconds and the earbuds pair again.\n\nCheers, the Aria team\n\n"
    dovecot.deliver(mail(team, "Re: pairing", reply + "On Mon, Dana wrote:\n> my earbuds wont pair"), folder="Sent", flags=[b"\\Seen"])
    dovecot.deliver(mail(team, "Re: Zwrot", "Dzień dobry, zwrot jest darmowy przez 30 dni: wystarczy odesłać paczkę."), folder="Sent")
    sent = dovecot.snapshot("Sent")
    kept = mailbox.learn_voice()
    assert {k["language"] for k in kept} == {"en", "pl"}
    english = next(k["text"] for k in kept if k["language"] == "en")
    assert "pair again" in english and "wont pair" not in english and "Dana wrote" not in english
    assert current_brand().replies_like("pl") == [next(k["text"] for k in kept if k["language"] == "pl")]
    assert dovecot.snapshot("Sent") == sent  # read only


@pytest.mark.parametrize(
    "headers, sender, kind",
    [
        ([("Auto-Submitted", "auto-generated")], "Shop <shop@example.com>", "auto-submitted"),
        ([("Precedence", "bulk")], "Shop <shop@example.com>", "bulk"),
        ([("List-Id", "<news.shop.example>")], "Shop <shop@example.com>", "list"),
        ([], "Shop <noreply@shop.example>", "no-reply sender"),
        ([], "Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "no-reply sender"),
        ([("Auto-Submitted", "no")], "Ana <ana@example.ro>", ""),
        ([], "Ana Noreplyson <ana@example.ro>", ""),
    ],
)
def test_automatic_and_bulk_mail_is_told_by_its_headers(headers, sender, kind):
    from core.mail.reading import parse_eml

    assert parse_eml(mail(sender, "Hello", "Some text here.", headers=headers)).automatic == kind


def test_a_delivery_report_is_told_by_its_type():
    from core.mail.reading import parse_eml

    raw = (
        b"From: postmaster@mx.example\r\nSubject: Delivery Status Notification (Failure)\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"Delivery to the following recipient failed.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n"
    )
    assert parse_eml(raw).automatic in ("delivery report", "no-reply sender")


@pytest.mark.model
def test_triage_says_why_a_mail_needs_no_reply():
    from core.mail.queue import add_emails, get_email, no_reply_why
    from core.mail.reading import parse_eml

    ids = add_emails([parse_eml(raw) for raw in AUTOMATIC[:2] + CUSTOMERS[3:4]], "test")
    rows = [get_email(i) for i in ids]
    assert [r.needs_reply for r in rows] == [False, False, True]
    assert "mailing list" in str(no_reply_why(rows[0])) and "automatic message" in str(no_reply_why(rows[1]))
    assert no_reply_why(rows[2]) is None


@pytest.mark.slow
@pytest.mark.model
def test_reply_batch_reads_a_folder_of_eml_and_an_mbox(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    for n, raw in enumerate(AUTOMATIC[:2] + CUSTOMERS[:3]):
        (folder / f"{n}.eml").write_bytes(raw)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 not mail")  # not a mail file: left alone
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'batch.db'}"}
    done = run_cli("reply", "--batch", folder, "--out", tmp_path / "drafts.csv", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["emails"], summary["needs_reply"], summary["drafted"]) == (5, 3, 3)
    with open(tmp_path / "drafts.csv", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["from"].split("<")[-1].rstrip(">") for r in rows][:2] == ["deals@shop.example", "ana@example.ro"]
    assert "mailing list" in rows[0]["no_reply_reason"] and rows[2]["draft"]

    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(b"".join(b"From sender@example.com Tue Dec  1 09:30:00 2026\n" + raw.replace(b"\r\n", b"\n") + b"\n" for raw in CUSTOMERS[3:]))
    done = run_cli("reply", "--batch", mbox, "--out", tmp_path / "mbox.csv", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["emails"] == 2


def email_page(monkeypatch) -> AppTest:
    monkeypatch.setenv("MERCURY_BACKEND", "scripted")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    return at.switch_page("app_pages/email.py").run()


@needs_dovecot
def test_the_mailbox_tab_tests_the_connection_and_shows_a_refusal_as_one_sentence(dovecot, scripted_backend, monkeypatch):
    at = email_page(monkeypatch)
    assert not at.exception and any(dovecot.url.split("//")[1].split("@")[0].replace("%40", "@") in m.value for m in at.markdown)
    at.button(key="mailbox_test").click().run()
    assert any("Connected to" in s.value and "Wersje robocze ąę" in s.value for s in at.success)
    monkeypatch.setenv("MERCURY_IMAP_PASSWORD", "wrong")
    at.button(key="mailbox_test").click().run()
    refused = f"The mail server at 127.0.0.1:{dovecot.port} refused the login of team@example.com: check MERCURY_IMAP_PASSWORD."
    assert [e.value for e in at.error] == [refused]
    assert not any(PASSWORD in m.value for m in at.markdown)


@needs_dovecot
def test_check_mail_runs_on_the_worker_and_the_tab_follows_it_to_its_figures(dovecot, scripted_backend, monkeypatch):
    from core.jobs import queue, store

    for raw in CUSTOMERS[:2] + AUTOMATIC[:1]:
        dovecot.deliver(raw)
    store.worker_seen()  # a worker is alive: the tab submits the pull instead of reading mail in its own script
    at = email_page(monkeypatch)
    at.button(key="mailbox_pull").click().run()
    job = store.active_job("mailbox_pull")
    assert job is not None and job.inputs["backend"] == "scripted" and any("Checking mail on the worker" in p.text for p in at.get("progress"))
    queue.run_job(job.id)  # the worker's part, here
    at.run()
    assert not at.exception and store.get_job(job.id).result["read"] == 3
    assert any("Read 3 new messages without marking them read: 2 need a reply" in s.value for s in at.success)


def test_a_mailbox_is_not_shown_on_the_network_without_a_login(scripted_backend, monkeypatch):
    from core.mail.queue import add_emails
    from core.mail.reading import parse_eml

    add_emails([parse_eml(CUSTOMERS[3])], "imap: team@127.0.0.1/INBOX")
    monkeypatch.setenv("MERCURY_IMAP_URL", "imap://team@127.0.0.1:1/INBOX")
    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option", lambda name: "0.0.0.0" if name == "server.address" else real(name))  # make run ADDRESS=0.0.0.0
    at = email_page(monkeypatch)
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "This app serves the network (0.0.0.0) without a login, so the team's mail is not shown: add an [auth] section to .streamlit/secrets.toml "
        "for Streamlit's login, or set MERCURY_TRUSTED_PROXY_LOGIN=1 when a login proxy stands in front."
    ]
    assert not at.tabs and not at.dataframe
    monkeypatch.setenv("MERCURY_TRUSTED_PROXY_LOGIN", "1")
    at = email_page(monkeypatch)
    assert not at.warning and at.tabs
