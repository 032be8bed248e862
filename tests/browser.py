"""Headless Chromium for the browser tests: open a page, read its console and requests, screenshot.

Drives Debian's ``chromium`` through ``chromedriver`` with Selenium, with Chromium's browser
and performance logs switched on, so a test can assert that a page logged no error and
requested nothing outside ``file://`` (the performance log carries every DevTools
``Network.requestWillBeSent``). Needs: ``apt-get install chromium chromium-driver`` and
``pip install selenium``; :func:`unavailable_reason` says what is missing.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
#: Flags for a root, offline, throw-away headless Chromium (no background connections).
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
)
#: Schemes that never leave the machine.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def _which(names: tuple[str, ...]) -> str | None:
    return next((path for path in map(shutil.which, names) if path), None)


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or ``None`` if they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    if _which(BROWSERS) is None:
        return "headless Chromium is not installed (apt-get install chromium chromium-driver)"
    if _which(DRIVERS) is None:
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


@dataclass
class PageLoad:
    """What a page did while loading: its console messages and the URLs it requested."""

    url: str
    console: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Console errors, failed loads and uncaught exceptions (Chromium's SEVERE level)."""
        return [entry["message"] for entry in self.console if entry.get("level") == "SEVERE"]

    @property
    def external_requests(self) -> list[str]:
        """Requested URLs that would leave the machine."""
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]


def image_stddev(png: bytes) -> float:
    """Standard deviation of a PNG's grey levels (about 0 for a blank image)."""
    import cv2

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError("not a PNG")
    return float(image.std())


class Browser:
    """One headless Chromium session; use as a context manager."""

    def __init__(self, width: int = 1400, height: int = 1000) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self._profile = tempfile.mkdtemp(prefix="chromium-test-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(_which(BROWSERS))
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self._profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        # An explicit driver path keeps Selenium Manager from looking for one online.
        self.driver = webdriver.Chrome(service=Service(str(_which(DRIVERS))), options=options)
        self.driver.set_page_load_timeout(60)
        self.driver.get("about:blank")
        self.emulate(width, height)
        self._drain()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self._profile, ignore_errors=True)

    # ------------------------------------------------------------------ pages

    def _drain(self) -> tuple[list[dict[str, Any]], list[str]]:
        console = self.driver.get_log("browser")
        requests = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent":
                # Chromium's own pages (new-tab page and the like) are not the page under test.
                if not str(params.get("documentURL", "")).startswith(("chrome:", "chrome-untrusted:")):
                    requests.append(params["request"]["url"])
            elif message.get("method") == "Network.webSocketCreated":
                requests.append(params["url"])
        return console, requests

    def open(self, path: Path, *, ready_attribute: str = "data-charts", timeout_s: float = 60.0,
             settle_s: float = 0.3) -> PageLoad:
        """Load *path* and wait until ``<html>`` has *ready_attribute* (set by the page's script).

        Returns what happened while loading. Raises ``TimeoutError`` (with the console) when
        the attribute never appears, e.g. because a script failed.
        """
        self._drain()
        url = Path(path).resolve().as_uri()
        self.driver.get(url)
        deadline = time.monotonic() + timeout_s
        script = f"return document.readyState === 'complete' && document.documentElement.getAttribute({ready_attribute!r});"
        while not self.driver.execute_script(script):
            if time.monotonic() > deadline:
                console, _ = self._drain()
                raise TimeoutError(f"{url} never set {ready_attribute}; console: {console}")
            time.sleep(0.05)
        time.sleep(settle_s)  # late console messages (e.g. a failing image decode)
        console, requests = self._drain()
        return PageLoad(url, console, requests)

    def js(self, script: str, *args: Any) -> Any:
        """Run *script* in the page (``return ...`` to get a value back)."""
        return self.driver.execute_script(script, *args)

    def collect(self) -> PageLoad:
        """Console messages and requests since the last call (e.g. after clicking)."""
        console, requests = self._drain()
        return PageLoad(self.driver.current_url, console, requests)

    # ------------------------------------------------------------------ screenshots

    def element_pngs(self, css: str) -> list[bytes]:
        """A screenshot of each element matching *css* (scrolled into view first)."""
        from selenium.webdriver.common.by import By

        pngs = []
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
            pngs.append(element.screenshot_as_png)
        return pngs

    def emulate(self, width: int, height: int, *, mobile: bool = False) -> None:
        """Use a *width* x *height* CSS-pixel viewport from now on (a phone when *mobile*).

        Set it before :meth:`open` so that the page lays itself out for that screen.
        """
        self._viewport = (width, height, mobile)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        self.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": mobile})

    def full_page_png(self, *, max_height: int = 30000) -> bytes:
        """The whole page at the current viewport's width, as PNG bytes."""
        import base64

        width, height, mobile = self._viewport
        full = min(max_height, int(self.js("return Math.ceil(document.documentElement.scrollHeight);")))
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": full, "deviceScaleFactor": 1, "mobile": mobile})
        time.sleep(0.3)
        try:
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        finally:
            self.emulate(width, height, mobile=mobile)
        return base64.b64decode(shot["data"])
