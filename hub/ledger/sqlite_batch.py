"""Multi-row statements for the SQLite ledger.

A batch is written with a few statements of up to 200 rows each (``INSERT .. VALUES
(..), (..)`` and ``UPDATE .. FROM (VALUES ..)``): a third less work than
``executemany`` one row at a time.

Python's sqlite3 binds ``int``, ``float``, ``str`` and ``bytearray`` as they are, but
looks every other value up in its adapter registry first (~3,000 instructions each,
more than binding it). So the rows carry JSON as bytearrays (hub.ledger.prepare.blob)
and missing values as :data:`NULL`, a NaN, which SQLite binds as NULL.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain

NULL = math.nan
ROWS_PER_INSERT = 200


@lru_cache(maxsize=256)
def _values(width: int, n: int) -> str:
    one = "(" + ",".join("?" * width) + ")"
    return "VALUES " + ",".join([one] * n)


def insert(c: sqlite3.Connection, head: str, rows: Sequence[tuple], tail: str = "") -> None:
    """``head VALUES (..), (..) tail``."""
    if not rows:
        return
    width = len(rows[0])
    for start in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[start:start + ROWS_PER_INSERT]
        c.execute(f"{head} {_values(width, len(part))}{tail}", list(chain.from_iterable(part)))


DECIDED = ("stage", "stage_at", "lane", "score", "packing_group", "hold_reason", "hold_group",
           "ruleset_version", "decided_us")
_SETS = ", ".join(f"{name} = u.column{i}" for i, name in enumerate(DECIDED, start=1))


def update_orders(c: sqlite3.Connection, rows: Sequence[tuple]) -> None:
    """The decided columns (then the id) of many orders."""
    for start in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[start:start + ROWS_PER_INSERT]
        c.execute(f"UPDATE orders SET {_SETS} FROM ({_values(len(DECIDED) + 1, len(part))}) "
                  f"AS u WHERE orders.id = u.column{len(DECIDED) + 1}",
                  list(chain.from_iterable(part)))
