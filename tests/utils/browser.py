"""Chromium for the browser tests and the editor benchmark: Debian's chromium driven by
Playwright (never `playwright install`), a logged-in session, a screenshot on failure."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 30_000
SESSION_COOKIE = "n8nclone_session"


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def log_in(context: Any, accounts: Any, user: Any, base_url: str) -> None:
    """Give the browser `context` a session of `user` (as the login page would)."""
    context.add_cookies([{"name": SESSION_COOKIE, "value": accounts.start_session(user),
                          "url": base_url}])


@contextlib.contextmanager
def screenshot_on_failure(page: Any, tmp_path: Path, name: str) -> Iterator[None]:
    """Save what the browser showed when an assertion failed (path printed)."""
    try:
        yield
    except BaseException:
        shot = tmp_path / f"{name}-failure.png"
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot} (at {page.url})")
        raise
