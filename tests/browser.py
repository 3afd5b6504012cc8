"""Real-browser helpers: the app served by `streamlit run` on loopback, driven in Debian's Chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(database_url: str, extra_env: dict | None = None, with_process: bool = False):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("streamlit did not start")
                time.sleep(0.5)
        yield url if not with_process else (url, process)
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def chromium_page(width: int = 1400, height: int = 900):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
            page.set_default_timeout(90_000)
            yield page
        finally:
            browser.close()


@dataclass
class Visit:
    seconds: float  # until the home page showed its content
    backend_line: str  # the page's "Active backend: ..." sentence, as this visitor read it
    errors: int  # exceptions and error boxes on the page


def first_renders(url: str, sessions: int, timeout_s: float = 120) -> list[Visit]:
    """Open `sessions` browser sessions on the home page at once: what each saw, and how soon.

    One Chromium, a fresh context (its own cookies, so its own Streamlit session) per visitor.
    """
    import asyncio

    from playwright.async_api import async_playwright

    async def visit(browser) -> Visit:
        context = await browser.new_context(viewport={"width": 1200, "height": 800})
        try:
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto(url, timeout=timeout_s * 1000)
            line = page.get_by_text("Active backend:")
            await line.wait_for(timeout=timeout_s * 1000)
            seconds = time.perf_counter() - started
            errors = await page.locator("[data-testid=stException], [data-testid=stAlertContentError]").count()
            return Visit(seconds, await line.inner_text(), errors)
        finally:
            await context.close()

    async def run() -> list[Visit]:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                return list(await asyncio.wait_for(asyncio.gather(*(visit(browser) for _ in range(sessions))), timeout_s))
            finally:
                await browser.close()

    return asyncio.run(run())


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
