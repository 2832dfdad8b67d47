"""RuleStore: the rule set in force. A new version of the watched file is checked,
published through the ledger's single writer and handed to the router, which swaps it
in between batches (``hub.app.rules.publish``, as the API's rule console does). A file
that fails the check is refused with its line and reason, and the running rules stay.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import ray

from hub.actors.handles import LedgerWriter
from hub.app import rules
from hub.app.rules import RuleRefused
from hub.clock import Clock

log = logging.getLogger("orderhub.rules")


class RuleStore:
    def __init__(
        self,
        ledger: Any,
        router: Any = None,
        *,
        path: str | None = None,
        clock: Clock | None = None,
        poll_s: float = 2.0,
    ) -> None:
        self.ledger, self.router, self.clock = ledger, router, clock or Clock()
        self.versions = LedgerWriter(ledger)
        self.path = Path(path) if path else None
        self.poll_s = poll_s
        self.version, self.text = 0, ""
        self._mtime: float | None = None
        self._stopping = False
        self._watching: asyncio.Task | None = None
        self.refusals: list[str] = []

    async def start(self) -> tuple[int, str]:
        """Put the newest of (ledger's latest, watched file, default rules) in force."""
        from hub.domain.rules import default_ruleset

        latest = await self.ledger.get_ruleset.remote(None)
        if latest is not None:
            self.version, self.text = latest.version, latest.text
        if self.path is not None:
            await self._reload_file()
        if not self.text:
            ruleset = default_ruleset()
            await self.publish(ruleset.text, "default")
        return self.version, self.text

    async def publish(self, text: str, by: str, source: str = "<api>") -> int:
        """Check, publish and put in force (a worker thread runs the use case, whose calls
        to the writer and the router block)."""
        version = await asyncio.to_thread(
            rules.publish, self.versions, self.versions, text, by, self.clock.now(),
            source=source, put_in_force=self._put_in_force)
        self.adopt(version, text)  # also when the ledger's latest was this text already
        return version

    def _put_in_force(self, version: int, text: str) -> None:
        if self.router is not None:
            ray.get(self.router.set_rules.remote(version, text))
        self.version, self.text = version, text
        log.info("rules version %d in force", version)

    async def _reload_file(self) -> None:
        assert self.path is not None
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            await self.publish(self.path.read_text(encoding="utf-8"), f"file:{self.path.name}",
                               str(self.path))
        except RuleRefused as exc:
            self.refusals.append(str(exc))
            log.error("rule file refused, version %d stays in force:\n%s", self.version, exc)

    async def watch(self, router: Any = None) -> None:
        """Poll the rule file until ``stop()``. After a restart (this actor's state is
        gone) the hub calls it again with the router: the version in force is read
        back from the ledger first. A second call while one runs waits for it."""
        if router is not None:
            self.router = router
        if self._watching is None or self._watching.done():
            self._watching = asyncio.get_running_loop().create_task(self._watch())
        await asyncio.shield(self._watching)

    async def _watch(self) -> None:
        if not self.text:
            await self.start()
        while not self._stopping:
            if self.path is not None:
                await self._reload_file()
            await asyncio.sleep(self.poll_s)

    def adopt(self, version: int, text: str) -> None:
        """A version published elsewhere (the rule console) is now in force."""
        if version > self.version:
            self.version, self.text = version, text

    def attach(self, router: Any) -> None:
        self.router = router

    def current(self) -> tuple[int, str]:
        return self.version, self.text

    def stop(self) -> None:
        self._stopping = True
