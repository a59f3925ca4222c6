"""Browser tests: Playwright drives Debian's Chromium against the live test server.

The browser is the machine's own Chromium (``CERS_CHROMIUM``, else ``chromium`` on the PATH),
never a build Playwright downloads. Without it the tests fail with a message saying how to
install it; ``make test`` runs them only where Chromium is present and says so when it is not,
and CI installs it (``.ci/run``).

Every module marks its tests ``django_db(transaction=True, serialized_rollback=True)``: the
rows migrations seed (the chemical and violation libraries) come back after each test's flush,
and no flush recreates the content types a later test's restore would then collide with.

Every page a journey visits goes through ``looks_right``: axe-core (levels A and AA of WCAG 2.0
and 2.1) finds no violation, the page does not scroll sideways, and a screenshot is written to
``var/screenshots/<size>/`` (``CERS_SCREENSHOTS`` elsewhere) for a developer to open; and
the browser refused nothing under the content security policy (it says so on the console).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Sizes every journey runs at: a desktop window and a phone held upright, at the narrowest
# width the site serves (360 px: a page that fits it fits the wider phones too).
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 360, "height": 740},
}

# Chromium flags for a headless run on a machine without a network beyond the test server.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def chromium_path() -> str | None:
    return os.environ.get("CERS_CHROMIUM") or shutil.which("chromium")


def screenshots_dir() -> Path:
    return Path(os.environ.get("CERS_SCREENSHOTS") or ROOT / "var" / "screenshots")


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if not path:
        pytest.fail(
            "Chromium was not found (set CERS_CHROMIUM, or install Debian's package: "
            "apt-get install chromium). The browser tests never download a browser."
        )
    # Playwright's sync API runs an event loop in this thread; the live server and the
    # fixtures still use the database synchronously, as Django's own Selenium tests do.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@dataclass
class Browsing:
    """One browser tab at one size, on the live server."""

    page: object
    size: str
    base_url: str
    console_errors: list

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def sign_in(self, email: str, password: str) -> None:
        """Sign in through the form, as a person would (the mouse and keyboard Playwright
        uses are real input events)."""
        self.goto("/accounts/login/")
        self.page.get_by_label("E-mail address").fill(email)
        self.page.get_by_label("Password").fill(password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign in").click()

    def open_menu(self) -> None:
        """Below 800 px the navigation and the account links sit behind the Menu button:
        open it, as a person on a phone would. On a desktop the button is not shown."""
        button = self.page.get_by_role("button", name="Menu")
        if button.is_visible():
            button.click()

    def looks_right(self, name: str) -> None:
        """The checks every visited page passes, and its screenshot."""
        folder = screenshots_dir() / self.size
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{slug(name)}.png"), full_page=True)
        violations = axe_violations(self.page)
        assert not violations, f"{name} at {self.size}: axe-core found\n" + "\n".join(violations)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} at {self.size} scrolls sideways by {overflow} px"
        refused = [text for text in self.console_errors if "Content Security Policy" in text]
        assert not refused, f"{name} at {self.size}: the browser refused\n" + "\n".join(refused)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    lines = []
    for violation in results.response["violations"]:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        rule, impact, help_text = violation["id"], violation["impact"], violation["help"]
        lines.append(f"  {rule} ({impact}): {help_text} at {targets}")
    return lines


@pytest.fixture
def browsing(chromium, viewport, live_server):
    context = chromium.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    # The browser reports on the console whatever the content security policy refused.
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    try:
        yield Browsing(page=page, size=viewport, base_url=live_server.url, console_errors=errors)
    finally:
        context.close()
