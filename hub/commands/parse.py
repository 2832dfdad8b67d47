"""``orderhub parse --channel {tmall,jd,douyin} FILE``: raw marketplace JSON -> canonical
orders as JSON lines on stdout.

FILE (``-`` for stdin) holds one raw order, a list of them, or a whole API response page.
Each record that does not parse is reported on stderr as
``quarantined: <order id>: <path>: <reason>``; an error envelope as
``marketplace error: <code> <sub_code> <message>``. Exit status 1 if anything was
quarantined, the page was an error envelope, or the file is not JSON; 0 otherwise.
Receiver phones and addresses go to stdout only (it is data); stderr never shows them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "parse", help="read raw marketplace orders, print canonical orders as JSON lines",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channel", required=True, choices=["tmall", "jd", "douyin"])
    parser.add_argument("--shop", default="", help="shop name (default: the one in the data)")
    parser.add_argument("file", metavar="FILE", help="JSON file, or - for stdin")
    parser.set_defaults(func=run)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    with open(name, "rb") as handle:
        return handle.read()


def run(args: argparse.Namespace) -> int:
    from hub.domain.adapters import MarketplaceError, ParseError, parse_any

    try:
        payload = orjson.loads(_read(args.file))
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except orjson.JSONDecodeError as exc:
        print(f"error: {args.file} is not JSON: {exc}", file=sys.stderr)
        return 1
    try:
        page = parse_any(args.channel, payload, args.shop)
    except MarketplaceError as exc:
        kind = " (throttled)" if exc.throttled else " (retryable)" if exc.retryable else ""
        print(f"marketplace error{kind}: {exc}", file=sys.stderr)
        return 1
    except ParseError as exc:
        print(f"error: not a {args.channel} page: {exc}", file=sys.stderr)
        return 1
    out = sys.stdout.buffer
    for order in page.orders:
        out.write(order.model_dump_json().encode() + b"\n")
    out.flush()
    for bad in page.quarantined:
        error = bad.error
        print(f"quarantined: {error.order_id or '-'}: {error.path or '<order>'}: {error.reason}",
              file=sys.stderr)
    return 1 if page.quarantined else 0
