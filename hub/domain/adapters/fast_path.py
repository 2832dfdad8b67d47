"""What the adapters' fast paths share. A fast path goes from a response page's JSON
bytes to a ``Page``: a typed decode (msgspec) that reads only the fields an adapter
uses, then a converter over those structs.

The typed path is an optimisation, never a second meaning. It takes only a page of the
usual shape; anything else (an error envelope, a value of an unexpected type, a missing
or empty required field, an amount that is not plain) makes it give up, and the page goes
the ordinary way (``orjson.loads`` and the adapter's ``parse_page``), which names the
field and quarantines the record. Tests check that both ways give equal pages.

A decoded page holds no reference cycles, so the structs are not tracked by the cyclic
garbage collector (``gc=False``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from hub.domain.adapters.common import Page, cached_fen, to_fen


class Irregular(Exception):
    """The typed fast path met something only the ordinary parse handles. Control flow
    inside the fast path (``parse_typed`` catches it), never an error of the hub."""



class Struct(msgspec.Struct, gc=False):
    """A typed JSON object: fields not declared are skipped while decoding."""


UNSET: Any = msgspec.UNSET  # the default of a field whose presence matters, null or not
# orjson reads an integer outside [-2**63, 2**64) as a float, msgspec as an int: the fast
# path takes integers below this only, so that both ways read the same number.
BIG = 2**64


def fen(value: Any, path: str) -> int:
    """An optional amount in yuan sent as a string (missing, null or "" is 0)."""
    if value.__class__ is str:
        amount = cached_fen(value)
        if amount is None:
            return to_fen(value, path) if value else 0
        return amount
    if value is None:
        return 0
    raise Irregular


def text(value: Any) -> str:
    """An optional text sent as a string (missing or null is "")."""
    if value.__class__ is str:
        return value
    if value is None:
        return ""
    raise Irregular


def ident(value: Any) -> str:
    """An optional id sent as a string or an integer (missing or null is "")."""
    if value.__class__ is int and -BIG < value < BIG:
        return str(value)
    return text(value)


# (shop, order id) -> the version (modified at) the caller holds of it, or None
Known = Callable[[str, str], Any]


def sift(records: list, known: Known | None, shop: str, id_of: Callable[[Any], Any],
         shop_of: Callable[[Any], Any], version_of: Callable[[Any], Any],
         ) -> tuple[list, list[tuple[str, Any]]]:
    """(the records to convert, (order id, version) of the others): a record whose id
    and version are ``known`` is not converted. Its shop is ``shop``, else what
    ``shop_of`` reads (None: not known). ``version_of`` gives a record's modified time when
    it is a value seen before (a cache read), else None: then it is converted."""
    if known is None:
        return records, []
    fresh, skipped = [], []
    for record in records:
        order_id = id_of(record)
        if order_id.__class__ is str and order_id:
            held = known(shop or shop_of(record), order_id)
            if held is not None and held == version_of(record):
                skipped.append((order_id, held))
                continue
        fresh.append(record)
    return fresh, skipped


@dataclass(slots=True)
class Typed:
    """A page decoded into structs, with its bytes for the ordinary way."""

    body: Any
    blob: bytes
    convert: Callable[..., Page]  # (body, shop, **extra) -> Page; raises Irregular

    def value(self) -> Any:
        """The page's plain JSON value, as ``orjson.loads`` gives it."""
        return orjson.loads(self.blob)


def decoder(envelope: type, convert: Callable[..., Page]) -> Callable[[bytes], Any]:
    """``decode(blob)``: a ``Typed`` page when the bytes have the usual shape, else the
    JSON value as ``orjson.loads`` gives it (which raises for bytes that are not JSON)."""
    typed = msgspec.json.Decoder(envelope).decode

    def decode(blob: bytes) -> Any:
        try:
            return Typed(typed(blob), blob, convert)
        except (msgspec.DecodeError, TypeError):
            return orjson.loads(blob)

    return decode


def parse_typed(payload: Typed, ordinary: Callable[..., Page], shop: str,
                **extra: Any) -> Page:
    """The typed page converted, or (when the converter gives up) the ordinary parse of
    its JSON value. The cyclic GC is paused meanwhile, as in ``common.split``."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return payload.convert(payload.body, shop, **extra)
    except Exception:  # the ordinary parse decides what this page is
        pass
    finally:
        if paused:
            gc.enable()
    return ordinary(payload.value(), shop, **extra)
