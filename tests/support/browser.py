"""A real browser (Debian's headless Chromium) and a live server for the review web app.

``chromium`` is one Chromium for the whole session (starting one takes about a
second); ``browser`` hands it to a test with no cookies and an empty console
log. ``live_server(services)`` serves ``create_app(services)`` with waitress,
the server ``consultant web`` runs in production, on a free port in a thread,
and stops it when the test ends.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from consultant.services import Services
from consultant.web import create_app
from tests.support.required import require_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
MISSING = "Chromium and ChromeDriver (Debian packages chromium, chromium-driver)"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1024",
)


@contextmanager
def _chromium() -> Iterator[WebDriver]:
    """A headless Chromium with its own empty profile, quit and removed afterwards."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        require_service(MISSING)
    profile = Path(tempfile.mkdtemp(prefix="cc-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    # The console log is how a test sees CSP violations and script errors.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except WebDriverException as error:
        shutil.rmtree(profile, ignore_errors=True)
        require_service(f"{MISSING}; it did not start: {error.msg}")
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium() -> Iterator[WebDriver]:
    """One headless Chromium for the session."""
    with _chromium() as driver:
        yield driver


@pytest.fixture(scope="session")
def second_chromium() -> Iterator[WebDriver]:
    """Another Chromium, with its own cookies: a second expert at another desk."""
    with _chromium() as driver:
        yield driver


def _blank(driver: WebDriver) -> None:
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})


@pytest.fixture
def browser(chromium: WebDriver) -> Iterator[WebDriver]:
    """The session's Chromium on a blank page, without cookies or console messages."""
    _blank(chromium)
    console_log(chromium)  # reading the log empties it
    yield chromium
    _blank(chromium)


@pytest.fixture
def second_browser(second_chromium: WebDriver) -> Iterator[WebDriver]:
    """The second expert's Chromium, blank like ``browser``."""
    _blank(second_chromium)
    console_log(second_chromium)
    yield second_chromium
    _blank(second_chromium)


def console_log(driver: WebDriver) -> list[dict[str, object]] | None:
    """What the page wrote to the console since the last call; None if the driver cannot tell."""
    try:
        return list(driver.get_log("browser"))  # type: ignore[attr-defined]
    except (AttributeError, WebDriverException):
        return None


@dataclass
class LiveServer:
    """A running review web app: its base URL and the services behind it."""

    url: str
    services: Services
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        # Close every socket from inside the server's own loop; the loop ends when none remain.
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        self.thread.join(timeout=30)
        self.server.task_dispatcher.shutdown()
        assert not self.thread.is_alive(), "the live server did not stop"


@pytest.fixture
def live_server() -> Iterator[Callable[[Services], LiveServer]]:
    """``live_server(services)`` starts the web app on a free port; it stops after the test."""
    started: list[LiveServer] = []

    def start(services: Services) -> LiveServer:
        server = create_server(create_app(services), host="127.0.0.1", port=0, threads=4)
        assert isinstance(server, BaseWSGIServer)
        thread = threading.Thread(target=server.run, name="live-server", daemon=True)
        thread.start()
        live = LiveServer(f"http://127.0.0.1:{server.effective_port}", services, server, thread)
        started.append(live)
        return live

    # waitress logs "Serving on ..." at INFO; the tests do not need to hear it.
    waitress_log = logging.getLogger("waitress")
    level = waitress_log.level
    waitress_log.setLevel(logging.WARNING)
    try:
        yield start
    finally:
        for live in started:
            live.stop()
        waitress_log.setLevel(level)


SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE_WIDTH = 390
DESKTOP = (1280, 1024)


def page_screenshots(driver: WebDriver, name: str) -> list[Path]:
    """Save the page as a person sees it, at desktop and at phone width (390 px), into
    ``var/screenshots/`` (named in the README); asserts the phone view has no sideways
    scroll. The window is left at desktop size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    try:
        for label, (width, height) in (("desktop", DESKTOP), ("phone", (PHONE_WIDTH, 844))):
            driver.set_window_size(width, height)
            path = SCREENSHOTS / f"{name}-{label}.png"
            full_height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(width, min(max(int(full_height) + 140, height), 6000))
            driver.save_screenshot(str(path))
            saved.append(path)
            if label == "phone":
                overflow = driver.execute_script(
                    "return document.documentElement.scrollWidth - "
                    "document.documentElement.clientWidth"
                )
                wide = driver.execute_script(
                    "return [...document.querySelectorAll('body *')]"
                    ".filter(e => e.getBoundingClientRect().right > "
                    "document.documentElement.clientWidth + 1)"
                    ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
                )
                assert overflow <= 0, (
                    f"{name}: {overflow} px of sideways scroll at 390 px; too wide: {wide}"
                )
    finally:
        driver.set_window_size(*DESKTOP)
    return saved
