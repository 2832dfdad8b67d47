"""The inverse of the adapters: canonical orders as each marketplace's API sends them.

The emulators serve these shapes and the adapters read them back (round trip tested in
``tests/domain/test_adapters_roundtrip.py``). Each module has ``to_raw(order, *,
encrypt=None)``, ``page(raws, *, page_no, page_size, total, has_next)``,
``error(code, message, sub_code="")``, ``throttled()`` and ``expressible(order)``
(whether the marketplace can carry every field of the order).

>>> yuan(17950), number_or_text("2231958349"), number_or_text("T1")
('179.50', 2231958349, 'T1')
"""

from __future__ import annotations

from types import ModuleType

FMT = "%Y-%m-%d %H:%M:%S"
INT64 = 2**63


def yuan(fen: int) -> str:
    """Integer fen as the yuan string marketplaces send: 17950 -> '179.50'."""
    return f"{fen // 100}.{fen % 100:02d}"


def number_or_text(value: str) -> int | str:
    """An id as the JSON number a marketplace sends when it is one, else the text."""
    if value.isascii() and value.isdigit() and (value == "0" or value[0] != "0") \
            and int(value) < INT64:
        return int(value)
    return value


from sim.shapes import douyin, jd, tmall  # noqa: E402  (they use the helpers above)

SHAPES: dict[str, ModuleType] = {"tmall": tmall, "jd": jd, "douyin": douyin}
