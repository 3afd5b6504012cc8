"""A real IMAP server for the mailbox tests: Debian's Dovecot (dovecot-imapd, installed by
scripts/system-deps.sh) started on a free loopback port with a throwaway configuration, one user,
a static password and plain login, its mail in a temporary folder; and a proxy that cuts the
connection part-way, as a flaky server does."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
USER = "team@example.com"
PASSWORD = "s3cret-Mailbox-pass"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:{root}/home/%u/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox "{drafts}" {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """One running Dovecot; `url` is what MERCURY_IMAP_URL is set to."""

    def __init__(self, drafts: str = "Drafts", folder: str = "INBOX"):
        self.root = Path(tempfile.mkdtemp(prefix="mercury-dovecot-"))
        self.port = free_port()
        self.folder = folder
        if os.geteuid() == 0:  # Dovecot will not run mail as root: its own accounts do
            internal, login, account = "dovecot", "dovenull", pwd.getpwnam("dovecot")
        else:
            internal = login = pwd.getpwuid(os.geteuid()).pw_name
            account = pwd.getpwuid(os.geteuid())
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        self.root.chmod(0o755)
        (self.root / "home").chmod(0o777)
        config = CONFIG.format(
            root=self.root, internal=internal, login=login, password=PASSWORD, uid=account.pw_uid, gid=account.pw_gid, port=self.port, drafts=drafts
        )
        (self.root / "dovecot.conf").write_text(config)
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"dovecot did not start: {self.process.stderr.read().decode()} {self.log()}")
                time.sleep(0.1)
        if folder != "INBOX":
            with self.client() as client:
                client.create_folder(folder)

    @property
    def url(self) -> str:
        return f"imap://{USER.replace('@', '%40')}@127.0.0.1:{self.port}/{self.folder}"

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def client(self):
        import imapclient

        client = imapclient.IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, raw: bytes, folder: str | None = None, flags=()) -> None:
        with self.client() as client:
            client.append(folder or self.folder, raw, flags=flags)

    def snapshot(self, folder: str | None = None) -> dict[int, tuple[bytes, tuple]]:
        """Every message of a folder: UID -> (its bytes, its flags), read without changing a flag."""
        with self.client() as client:
            client.select_folder(folder or self.folder, readonly=True)
            uids = client.search()
            fetched = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"]) if uids else {}
            return {uid: (data[b"BODY[]"], tuple(sorted(data[b"FLAGS"]))) for uid, data in fetched.items()}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class CuttingProxy:
    """A TCP proxy to a server that closes the client's connection once `cut_after` bytes of the
    server's answers went through (each connection counts afresh), or never when it is None."""

    def __init__(self, port: int, cut_after: int | None):
        self.target, self.cut_after = port, cut_after
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, self.cut_after), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := source.recv(4096):
                if limit is not None and sent + len(data) > limit:
                    sink.sendall(data[: limit - sent])
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def close(self) -> None:
        self.listener.close()
