"""The inverse of the adapters: canonical orders as each marketplace's API sends them.

The emulators serve these shapes; the adapters read them back (tested round trip).
"""

from __future__ import annotations

from types import ModuleType

from sim.shapes import douyin, jd, tmall

SHAPES: dict[str, ModuleType] = {"tmall": tmall, "jd": jd, "douyin": douyin}


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"
