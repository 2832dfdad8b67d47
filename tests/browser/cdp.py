"""A small Chrome DevTools Protocol client for headless Chromium, over
``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated JSON), so it needs
no websocket package and downloads nothing.

    with Browser.start(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.navigate("http://127.0.0.1:8700/")
        page.wait_for("document.title !== ''")
        page.screenshot(tmp_path / "page.png")
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-pipe")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


class CDPError(RuntimeError):
    pass


class Browser:
    def __init__(self, proc: subprocess.Popen, to_browser: int, from_browser: int) -> None:
        self.proc, self._out, self._in = proc, to_browser, from_browser
        self._ids = itertools.count(1)
        self._replies: dict[int, dict] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, profile: Path, binary: str | None = None) -> Browser:
        binary = binary or find_chromium()
        if binary is None:
            raise FileNotFoundError("chromium is not installed")
        ours_r, theirs_w = os.pipe()  # chromium writes fd 4 -> we read
        theirs_r, ours_w = os.pipe()  # we write -> chromium reads fd 3

        def wire() -> None:
            a, b = os.dup(theirs_r), os.dup(theirs_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                preexec_fn=wire, close_fds=False, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(theirs_r)
        os.close(theirs_w)
        return cls(proc, ours_w, ours_r)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._cond:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._replies[message["id"]] = message
                self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout_s: float = 15.0) -> dict:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise CDPError(f"{method}: no answer from chromium")
                self._cond.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def new_page(self, width: int = 1280, height: int = 1500) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        page = Page(self, session)
        page.call("Page.enable")
        page.call("Runtime.enable")
        page.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        return page

    def close(self) -> None:
        with contextlib.suppress(CDPError, OSError):
            self.send("Browser.close", timeout_s=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._out, self._in):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, session=self.session)

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True})
        if "exceptionDetails" in result:
            raise CDPError(f"{expression!r}: {result['exceptionDetails'].get('text')} "
                           f"{result['exceptionDetails'].get('exception', {})}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_s} s for {expression}")
            time.sleep(0.1)

    def fill(self, selector: str, text: str) -> None:
        self.evaluate(f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
            el.value = {json.dumps(text)};
            el.dispatchEvent(new Event('input', {{bubbles: true}}));
            el.dispatchEvent(new Event('change', {{bubbles: true}})); }})()""")

    def click(self, selector: str) -> None:
        where = json.dumps(selector)
        found = self.evaluate(f"""(() => {{ const el = document.querySelector({where});
            if (!el) return false; el.click(); return true; }})()""")
        if not found:
            raise CDPError(f"nothing to click at {selector}")

    def box(self, selector: str) -> dict[str, float]:
        """The element's box in viewport pixels (CSS px at scale 1)."""
        where = json.dumps(selector)
        found = self.evaluate(f"""(() => {{ const el = document.querySelector({where});
            if (!el) return null; const r = el.getBoundingClientRect();
            return {{x: r.x, y: r.y, width: r.width, height: r.height}}; }})()""")
        if not found:
            raise CDPError(f"nothing at {selector}")
        return found

    def mouse(self, kind: str, x: float, y: float, pressed: bool) -> None:
        """One real mouse event (mousePressed, mouseMoved, mouseReleased) with the left
        button; the page sees mousedown/mousemove/mouseup as from a mouse."""
        self.call("Input.dispatchMouseEvent", {
            "type": kind, "x": x, "y": y, "button": "left", "buttons": 1 if pressed else 0,
            "clickCount": 1 if kind != "mouseMoved" else 0})

    def drag(self, source: str, target: str, where: str = "center", steps: int = 12) -> None:
        """Drag ``source`` (its centre) with the mouse and drop it on ``target``: at its
        centre, or just inside its ``top`` or ``bottom`` edge; moved in ``steps`` steps."""
        self.evaluate(f"document.querySelector({json.dumps(source)})"
                      ".scrollIntoView({block: 'center'})")
        a, b = self.box(source), self.box(target)
        x0, y0 = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
        x1 = b["x"] + min(b["width"] / 2, 40)
        y1 = {"top": b["y"] + 3, "bottom": b["y"] + b["height"] - 3}.get(
            where, b["y"] + b["height"] / 2)
        self.mouse("mouseMoved", x0, y0, False)
        self.mouse("mousePressed", x0, y0, True)
        for i in range(1, steps + 1):
            self.mouse("mouseMoved", x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps, True)
        self.mouse("mouseReleased", x1, y1, False)

    def text(self, selector: str) -> str | None:
        return self.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent ?? null")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png",
                                                    "captureBeyondViewport": True})["data"]
        path.write_bytes(base64.b64decode(data))
        return path
