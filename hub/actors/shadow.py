"""The router actor as the rule console's shadow runner (``hub.app.ports.ShadowRunner``):
blocking calls, for the API's worker threads. The router holds the shadow run
(``Router.set_shadow``) and feeds it every batch it decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class RouterShadow:
    def __init__(self, router: Any, timeout_s: float = 30.0) -> None:
        self.router, self.timeout_s = router, timeout_s

    def _get(self, ref: Any) -> Any:
        import ray

        return ray.get(ref, timeout=self.timeout_s)

    def start_shadow(self, draft: int, version: int, text: str) -> datetime:
        return self._get(self.router.set_shadow.remote(draft, version, text))

    def stop_shadow(self) -> None:
        self._get(self.router.clear_shadow.remote())

    def shadow_report(self, minutes: int) -> Any:
        return self._get(self.router.shadow_report.remote(minutes))
