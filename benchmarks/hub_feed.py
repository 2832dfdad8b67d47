"""The hub benchmark's load: synthetic orders on a fixed schedule, served by the emulator
set running in a child process (so the emulators' Python does not share the hub API's GIL).

An order's id names its step and its place in the step (``B<mode><step>x<index>``), and
order ``i`` of a step at ``rate`` orders/s is created and made visible at
``start + i / rate``: the driver recomputes each order's creation time from its id and
never has to ship the schedule around. Orders are clean (no planted anomaly, no
duplicate: each has its own street number), spread round-robin over Tmall, JD and
Douyin. Nine orders in ten come from a new buyer (a CRM look-up each, as on Double 11);
one in ten from a returning buyer of a pool the CRM knows. SKUs: a few dozen, stocked in
plenty by the ERP.
"""

from __future__ import annotations

import multiprocessing as mp
import re
import time
from datetime import datetime, timedelta
from typing import Any

CHANNELS = ("tmall", "jd", "douyin")
BUYERS = 50_000  # returning buyers
RETURNING = 10  # one order in RETURNING is from a returning buyer
SKUS = 40
SLOT_S = 0.01  # orders are handed to the marketplace state in 10 ms slots
ID = re.compile(r"B[a-z](\d{2})x(\d{7})$")


def order_id(mode: str, step: int, index: int) -> str:
    return f"B{mode[-1]}{step:02d}x{index:07d}"


def parse_id(oid: str) -> tuple[int, int] | None:
    """(step, index) of a benchmark order id, None for anything else."""
    m = ID.match(oid)
    return (int(m.group(1)), int(m.group(2))) if m else None


def returning(n: int) -> Any:
    """Returning buyer ``n`` (of the pool); every fifth is a VIP."""
    from hub.domain import Buyer

    return Buyer.model_construct(id=f"bench-buyer-{n % BUYERS}",
                                 tier="vip" if n % 5 == 0 else "normal", tags=())


def make_orders(mode: str, step: int, rate: float, start: datetime, seconds: float,
                first: int = 0) -> list[tuple[datetime, Any]]:
    """(visible at, order) for every order of one step, in schedule order."""
    from hub.domain import Amounts, Buyer, Item, Order, Receiver
    from hub.domain import build_model as build

    n = int(rate * seconds)
    receiver = Receiver(name="张三", phone="13812345678", province="浙江省", city="杭州市",
                        district="西湖区", street="西溪街道", detail="文三路100号")
    items = [(Item(sku=f"SKU-{k}", outer_sku=f"OUT-{k}", quantity=1 + k % 2, price_fen=9950),)
             for k in range(SKUS)]
    template = Order(channel="tmall", shop="tmall-shop", order_id="x", status="paid",
                     created_at=start, paid_at=start, modified_at=start, buyer=returning(0),
                     receiver=receiver, items=items[0],
                     amounts=Amounts(total_fen=9950, paid_fen=9950)).__dict__
    from hub.domain import Channel

    channels = [Channel(c) for c in CHANNELS]
    out = []
    for i in range(first, first + n):
        at = start + timedelta(seconds=i / rate)
        lines = items[i % SKUS]
        total = lines[0].price_fen * lines[0].quantity
        channel = channels[i % len(channels)]
        out.append((at, build(Order, {
            **template, "channel": channel, "shop": f"{channel.value}-shop",
            "order_id": order_id(mode, step, i), "created_at": at, "paid_at": at,
            "modified_at": at.replace(microsecond=0),
            "buyer": returning(i // RETURNING) if i % RETURNING == 0 else
            Buyer.model_construct(id=f"bench-{mode[-1]}{step}-{i}", tier="normal", tags=()),
            "receiver": receiver.model_copy(update={"detail": f"文三路{i + 1}号{step}幢"}),
            "items": lines, "amounts": Amounts.model_construct(
                total_fen=total, discount_fen=0, freight_fen=0, paid_fen=total)})))
    return out


def _serve(conn: Any, suite_config: dict, clock: dict) -> None:
    """The child process: start the emulator set, then answer commands until 'stop'."""
    import logging

    from hub.clock import ScaledClock
    from sim.emulators.suite import EmulatorSuite, SuiteConfig

    logging.basicConfig(level=logging.WARNING)
    scaled = ScaledClock.from_dict(clock)
    suite = EmulatorSuite(SuiteConfig.model_validate(suite_config), clock=scaled).start()
    from types import SimpleNamespace

    suite.emulators["crm"].state.seed_orders(SimpleNamespace(buyer=returning(b))
                                             for b in range(BUYERS))
    suite.emulators["erp"].state.seed_skus({f"SKU-{k}" for k in range(SKUS)}, 10**9)
    conn.send(("ready", suite.hub_settings()))
    try:
        while True:
            command, args = conn.recv()
            if command == "load":
                conn.send(("ok", _load(suite, *args)))
            elif command == "stats":
                conn.send(("ok", _stats(suite)))
            elif command == "stop":
                break
    finally:
        suite.stop()
        conn.send(("ok", None))


def _load(suite: Any, mode: str, step: int, rate: float, start_iso: str, seconds: float) -> int:
    orders = make_orders(mode, step, rate, datetime.fromisoformat(start_iso), seconds)
    by_slot: dict[tuple[str, int], list] = {}
    origin = datetime.fromisoformat(start_iso)
    for at, order in orders:
        slot = int((at - origin).total_seconds() / SLOT_S)
        by_slot.setdefault((order.channel.value, slot), []).append(order)
    for (channel, slot), chunk in by_slot.items():
        visible = origin + timedelta(seconds=(slot + 1) * SLOT_S)
        suite.states[channel].add_orders(chunk, visible_at=visible, kind="paid")
    return len(orders)


def _stats(suite: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for channel, state in suite.states.items():
        out[channel] = {"released": state.stats["released_events"],
                        "served": state.stats["orders_served"], "pages": state.stats["pages"]}
    for sender in suite._push:
        out[sender.state.channel]["pushed"] = sender.stats()["sent_events"]
        out[sender.state.channel]["push_failures"] = sender.stats()["failures"]
    return out


class EmulatorProcess:
    """The emulator set in a child process, driven over a pipe."""

    def __init__(self, suite_config: dict, clock: Any, timeout_s: float = 120.0) -> None:
        self.suite_config, self.clock, self.timeout_s = suite_config, clock, timeout_s
        self.process: Any = None
        self.conn: Any = None
        self.wiring: dict[str, Any] = {}

    def start(self) -> EmulatorProcess:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, self.suite_config,
                                                         self.clock.as_dict()),
                                   name="bench-emulators", daemon=True)
        self.process.start()
        self.wiring = self._reply()
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def _reply(self) -> Any:
        deadline = time.monotonic() + self.timeout_s
        while not self.conn.poll(1.0):
            if not self.process.is_alive():
                raise RuntimeError(f"emulator process exited ({self.process.exitcode})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"emulator process silent for {self.timeout_s:.0f}s")
        return self.conn.recv()[1]

    def load(self, mode: str, step: int, rate: float, start: datetime, seconds: float) -> int:
        """Schedule a step's orders; they become visible from ``start`` on."""
        self.conn.send(("load", (mode, step, rate, start.isoformat(), seconds)))
        return self._reply()

    def stats(self) -> dict[str, Any]:
        self.conn.send(("stats", ()))
        return self._reply()

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.conn.send(("stop", ()))
            self._reply()
        except (OSError, EOFError, TimeoutError):
            pass
        self.process.join(timeout=15)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.process = None
