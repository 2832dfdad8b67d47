"""The surge generator: a SimPy model that turns a scenario and a seed into a trace of
timed order events with ground truth.

Arrivals are a non-homogeneous Poisson process on the day's hourly shape, drawn by
thinning. Each order then lives as a SimPy process: created, paid after a short wait (or
never paid and closed), a presale deposit now and the final payment at its scheduled
time, an address change or a cancellation after payment. The truth labels are what the
generator planted (``scenarios/README.md`` lists how), never what the hub's checks say,
each with the time it became observable. A small share of clean orders is made
valid-but-odd on purpose (hard negatives, labelled ``odd``). Same scenario + seed ->
byte-identical trace; all randomness comes from NumPy generators seeded with the seed
(the oddities from a stream of their own, so that they leave every other order as it
would be without them), and events at the same instant keep the order in which the
model emitted them.

    python -m sim.generator double11-42k --seed 11 --out var/trace.jsonl
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import simpy

from hub.domain import (
    Channel,
    DeliveryService,
    Item,
    Order,
    OrderStatus,
    OrderType,
    Receiver,
    default_ruleset,
)
from hub.domain import build_model as build
from sim import population as pop
from sim.population import altered
from sim.scenario import (
    FAULT_KINDS,
    Scenario,
    ScenarioError,
    env_folders,
    load_scenario,
    parse_window,
    seconds_of_day,
)
from sim.trace import EventKind, TraceEvent, TraceHeader, write_trace

UNIFORMS = 64  # random numbers drawn ahead for each order (more come if it needs them)
EDGE_S = (60.0, 300.0)  # a duplicate_window_edge twin: this long after the window closes
ODD_STREAM = 0x0DD  # the oddities' own random stream: (seed, ODD_STREAM), (seed, n, ODD_STREAM)
ODD_SERIAL = 90_000_001  # the edge twins' order serials (the others' serials stay as they were)
ID_PREFIX = {"tmall": ("", "tb"), "jd": ("", "jd"), "douyin": ("69", "dy")}  # order, buyer
# Enum members looked up once (attribute access on an Enum class is slow in 3.11).
UNPAID, PAID, CANCELLED = OrderStatus.UNPAID, OrderStatus.PAID, OrderStatus.CANCELLED
PAID_STATES = (PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.FINISHED)
NORMAL, LIVE_FLASH, GIFT = OrderType.NORMAL, OrderType.LIVE_FLASH, OrderType.GIFT
DEPOSIT, FINAL = OrderType.PRESALE_DEPOSIT, OrderType.PRESALE_FINAL
PRESALE = (DEPOSIT, FINAL)
STD, EXPRESS, SAME_CITY = DeliveryService.STANDARD, DeliveryService.EXPRESS, \
    DeliveryService.SAME_CITY
CREATED_, PAID_, FINAL_ = EventKind.CREATED, EventKind.PAID, EventKind.PRESALE_FINAL
NOW = object()  # emit(..., paid_at=NOW): paid at the event's time


def thinned_arrivals(rate: np.ndarray, start: float, end: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Arrival times in [start, end) of a Poisson process whose rate per second is
    ``rate[hour]``: candidates at the peak rate, each kept with probability rate/peak."""
    peak = float(rate.max())
    if peak <= 0 or end <= start:
        return np.empty(0)
    expected = peak * (end - start)
    times, last = [], start
    while last < end:
        gaps = rng.exponential(1.0 / peak, int(expected + 6 * expected**0.5) + 16)
        batch = last + np.cumsum(gaps)
        last = float(batch[-1])
        times.append(batch[batch < end])
    candidates = np.concatenate(times)
    keep = rng.random(candidates.size) * peak < rate[(candidates // 3600).astype(int) % 24]
    return candidates[keep]


def truth_of(planted: tuple[str, ...], status: OrderStatus) -> tuple[str, ...]:
    """The planted codes that hold for the order in ``status`` (a payment can only
    mismatch once the order is paid)."""
    if "payment_mismatch" in planted and status not in PAID_STATES:
        return tuple(p for p in planted if p != "payment_mismatch")
    return planted


class DayModel:
    """One scenario day inside a SimPy environment; time is business seconds after the
    scenario's midnight."""

    def __init__(self, scenario: Scenario, seed: int, window: tuple[str, str]) -> None:
        s = self.s = scenario
        self.seed, self.window = seed, window
        self.start, self.end = seconds_of_day(window[0]), seconds_of_day(window[1])
        if not self.start < self.end:
            raise ScenarioError(f"window {window[0]}-{window[1]} does not run forward")
        self.origin = s.origin
        self.env = simpy.Environment()
        self.events: list[TraceEvent] = []
        # the duplicate window of the rule set (scenario rule changes must keep it); clean
        # orders keep clear of look-alikes by it and the edge twins' widest gap
        self.dup_window_s = 60.0 * default_ruleset().duplicate_window_minutes
        self.margin_s = self.dup_window_s + EDGE_S[1]
        rng = np.random.default_rng(seed)
        dup = s.anomalies.get("duplicate_order", 0.0)
        self.twin_p = dup / (1 - dup)  # a twin per arrival; twins are dup of all orders
        self.plant = pop.Mix({k: v / (1 - dup) for k, v in s.anomalies.items()
                              if k != "duplicate_order"}, total=1.0 - self.twin_p)
        weights = np.asarray(s.hourly_weights, dtype=float)
        rate = s.orders_per_day * (1 - dup) * weights / weights.sum() / 3600.0
        self.arrivals = thinned_arrivals(rate, self.start, self.end, rng).tolist()
        self.uniforms = rng.random((len(self.arrivals), UNIFORMS))
        oddity = pop.Mix(s.odd, total=1.0)
        self.odd_of = [oddity.at(u) for u in np.random.default_rng(
            [seed, ODD_STREAM]).random(len(self.arrivals)).tolist()]
        self.channels = pop.Mix({k: c.share for k, c in s.channels.items()})
        self.types = {k: pop.Mix({OrderType(t): v for t, v in s.mix_of(k).items()})
                      for k in s.channels}
        self.sources = {k: pop.Mix(c.sources, total=1.0) for k, c in s.channels.items()}
        self.delivery = pop.Mix({DeliveryService(k): v for k, v in s.delivery.items()})
        self.crowds = {k: pop.Crowd(f"{ID_PREFIX[k][1]}{seed % 1000:03d}", s.buyers.tiers,
                                    s.buyers.new_first_order, s.buyers.repeat)
                       for k in s.channels}
        self.places = pop.places(tuple(s.regions.warehouse), tuple(s.regions.remote_provinces))
        self.shelf = pop.Shelf(s.shelf(), s.inventory())
        self.final_at = None if s.presale.final_at is None else seconds_of_day(
            s.presale.final_at)
        self.remote = tuple(s.regions.remote_provinces)
        self.warehouse = tuple(s.regions.warehouse)
        self._serial = itertools.count(1)
        self._odd_serial = itertools.count(ODD_SERIAL)
        self._observed: dict[str, dict[str, float]] = {}  # order id -> code -> first at
        self._id_prefix = {k: f"{ID_PREFIX[k][0]}{s.date:%y%m%d}{seed % 1000:03d}"
                           for k in s.channels}
        self._channel = {k: Channel(k) for k in s.channels}
        self._shops = {k: tuple(c.shops) for k, c in s.channels.items()}
        self._seen: dict[tuple, list[float]] = {}  # dup_key -> creation times (s)

    # -- the run ----------------------------------------------------------------------------
    def run(self) -> list[TraceEvent]:
        self.env.process(self._arrive())
        for fault in self.s.faults:
            detail = {"target": fault.target, "channel": fault.target,
                      "kind": FAULT_KINDS[fault.kind], "duration_s": fault.duration_s}
            if fault.rate is not None:
                detail["rate"] = fault.rate
            self.env.process(self._at(seconds_of_day(fault.at), EventKind.FAULT, detail))
        for change in self.s.rule_changes:
            self.env.process(self._at(seconds_of_day(change.at), EventKind.RULES,
                                      {"file": change.file}))
        collecting = gc.isenabled()
        gc.disable()  # a day's orders are many small objects: no cycle hunting among them
        try:
            self.env.run(until=self.end + self.s.tail_s)
        finally:
            if collecting:
                gc.enable()
        self.events.sort(key=lambda e: e.at)  # stable: same instant keeps emission order
        return self.events

    def _at(self, at: float, kind: EventKind, detail: dict) -> Iterator[simpy.Event]:
        if self.start <= at < self.end:
            yield self.env.timeout(at)
            self.events.append(TraceEvent(round(at, 3), kind, None, (), detail))

    def _arrive(self) -> Iterator[simpy.Event]:
        for n, at in enumerate(self.arrivals):
            yield self.env.timeout(at - self.env.now)
            dice = pop.Dice(self.uniforms[n].tolist(), (self.seed, n))
            self.env.process(self.life(dice, n))

    def emit(self, kind: EventKind, order: Order, truth: tuple[str, ...],
             odd: tuple[str, ...] = (), **changes) -> Order:
        """Record ``order`` (with ``changes``) as it stands now; ``paid_at=NOW`` stamps the
        payment with the event's time. A planted code is observable from the first event
        whose truth holds it."""
        at = round(self.env.now, 3)
        stamp = self.origin + timedelta(seconds=at)
        values = {**order.__dict__, **changes, "modified_at": stamp}
        if values["paid_at"] is NOW:
            values["paid_at"] = stamp
        order = build(Order, values)
        codes = truth and truth_of(truth, order.status)
        observable = {}
        if codes:
            first = self._observed.setdefault(order.order_id, {})
            observable = {code: first.setdefault(code, at) for code in codes}
        self.events.append(TraceEvent(at, kind, order, codes, {}, observable, odd))
        return order

    # -- one order ----------------------------------------------------------------------------
    def life(self, d: pop.Dice, n: int) -> Iterator[simpy.Event]:
        env, follow = self.env, self.s.follow_ups
        plant = "duplicate_order" if d.u() < self.twin_p else self.plant.choose(d)
        planted = (plant,) if plant and plant != "duplicate_order" else ()
        clean = not plant
        odd = self.odd_of[n] if clean else ""
        od = pop.Dice([], (self.seed, n, ODD_STREAM)) if odd else None
        paid, expected, odd = self.build(d, plant, odd, od)
        if paid.order_type is FINAL:  # its deposit was paid in the presale weeks
            order = self.emit(FINAL_, paid, planted, paid_at=NOW)
            if clean:
                yield from self.after_payment(d, order)
            return
        edge = odd == "duplicate_window_edge"  # the twin is the odd one, not this order
        order = self.emit(CREATED_, paid, planted, () if edge or not odd else (odd,),
                          status=UNPAID, paid_at=None, amounts=altered(paid.amounts, paid_fen=0))
        if edge:
            env.process(self.edge_twin(od, order, env.now))
        if clean and order.order_type is not DEPOSIT and d.chance(follow.unpaid):
            yield env.timeout(d.between(*follow.unpaid_close_s))
            self.emit(EventKind.CANCELLED, order, planted, status=CANCELLED)
            return
        if plant == "duplicate_order":
            env.process(self.twin(d, order, d.between(60, 1500)))
        yield env.timeout(self.pay_delay(d, order))
        order = self.emit(PAID_, paid, planted, paid_at=NOW)
        if order.order_type is DEPOSIT:
            if self.final_at is not None:
                due = self.final_at + d.exp(self.s.presale.final_spread_s)
                if due > env.now + 2:
                    yield env.timeout(due - env.now)
                    self.emit(FINAL_, order, planted, order_type=FINAL, paid_at=NOW,
                              amounts=altered(order.amounts, paid_fen=expected))
            return
        if clean:
            yield from self.after_payment(d, order)

    def pay_delay(self, d: pop.Dice, order: Order) -> float:
        """At least two seconds, so that two versions never share a whole second."""
        mean = self.s.follow_ups.pay_delay_s
        return 2.0 + d.exp(mean / 4 if order.order_type is LIVE_FLASH else mean)

    def after_payment(self, d: pop.Dice, order: Order) -> Iterator[simpy.Event]:
        follow, u = self.s.follow_ups, d.u()
        if u >= follow.address_change + follow.cancel:
            return
        yield self.env.timeout(d.between(*follow.change_after_s))
        if u < follow.cancel:
            self.emit(EventKind.CANCELLED, order, (), status=CANCELLED)
            return
        region = "remote" if order.receiver.province.startswith(self.remote) else \
            "local" if order.delivery is SAME_CITY else "inland"
        created = (order.created_at - self.origin).total_seconds()
        while True:  # a new address the buyer has not used with these items lately
            to = pop.receiver(d, d.pick(self.places.of(region)))
            key = pop.dup_key(order.buyer.id, order.items, to)
            if self.unique(key, created):
                break
        self.remember(key, created)
        self.emit(EventKind.ADDRESS_CHANGED, order, (), receiver=to)

    def twin(self, d: pop.Dice, original: Order, gap: float) -> Iterator[simpy.Event]:
        """The planted duplicate: the same buyer orders the same to the same address."""
        yield self.env.timeout(gap)
        self.remember(pop.dup_key(original.buyer.id, original.items, original.receiver),
                      self.env.now)
        truth = ("duplicate_order",)
        order = self.emit(CREATED_, original, truth, created_at=self.origin + timedelta(
            seconds=round(self.env.now, 3)), order_id=self.order_id(original.channel.value))
        yield self.env.timeout(self.pay_delay(d, order))
        amounts = altered(order.amounts, paid_fen=pop.due(order.amounts))
        self.emit(PAID_, order, truth, status=PAID, paid_at=NOW, amounts=amounts)

    def edge_twin(self, od: pop.Dice, original: Order, created: float
                  ) -> Iterator[simpy.Event]:
        """A hard negative: the same buyer orders the same to the same address again, a
        minute or a few after the duplicate window has closed (skipped in the rare case
        that another look-alike is near)."""
        yield self.env.timeout(self.dup_window_s + od.between(*EDGE_S))
        now = self.env.now
        key = pop.dup_key(original.buyer.id, original.items, original.receiver)
        if any(abs(t - now) <= self.margin_s for t in self._seen.get(key, ())
               if abs(t - created) > 0.01):
            return
        self.remember(key, now)
        order = self.emit(CREATED_, original, (), ("duplicate_window_edge",),
                          created_at=self.origin + timedelta(seconds=round(now, 3)),
                          order_id=self.order_id(original.channel.value, self._odd_serial))
        yield self.env.timeout(self.pay_delay(od, order))
        amounts = altered(order.amounts, paid_fen=pop.due(order.amounts))
        self.emit(PAID_, order, (), status=PAID, paid_at=NOW, amounts=amounts)

    # -- building ---------------------------------------------------------------------------
    def order_id(self, channel: str, serial: Iterator[int] | None = None) -> str:
        return f"{self._id_prefix[channel]}{next(serial or self._serial):08d}"

    def unique(self, key: tuple, created: float) -> bool:
        return all(abs(t - created) > self.margin_s for t in self._seen.get(key, ()))

    def remember(self, key: tuple, created: float) -> None:
        self._seen.setdefault(key, []).append(created)

    def build(self, d: pop.Dice, plant: str, odd: str = "",
              od: pop.Dice | None = None) -> tuple[Order, int, str]:
        """The order as it stands once paid (status paid), the amount due, and the oddity
        made (``odd`` if it could be made on this order, else "")."""
        s, now = self.s, self.env.now
        channel = self.channels.choose(d)
        kind = self.types[channel].choose(d)
        if (plant == "payment_mismatch" and kind is DEPOSIT) or (
                plant == "duplicate_order" and kind in PRESALE):
            kind = NORMAL
        crowd = self.crowds[channel]
        customer, _ = crowd.customer(d)
        region, delivery = self.route(d, channel, kind, plant)
        to = crowd.address(d, customer, region, self.places)
        if plant == "incomplete_address":
            to = pop.incomplete(d, to)
        elif plant == "invalid_phone":
            to = altered(to, phone=pop.bad_phone(d))
        source, detail = self.source(d, channel, kind)
        created_s = round(now, 3)
        if kind is FINAL:
            low, high = s.presale.deposit_days
            created_s = -86400.0 * d.between(low, high + 1)
        shop = d.pick(self._shops[channel])
        items = self.shelf.basket(d, channel, shop)
        if odd and kind is not FINAL:  # the odd label goes on a created event
            odd, to, delivery, items = self.oddity(od, odd, channel, shop, kind, to, delivery,
                                                   items)
        else:
            odd = ""
        buyer = customer.buyer
        while not self.unique(key := pop.dup_key(buyer.id, items, to), created_s):
            items = (self.shelf.more(items[0]), *items[1:])  # a look-alike: one more of it
        self.remember(key, created_s)
        amounts = pop.amounts(d, items, delivery is SAME_CITY, kind is GIFT)
        expected = pop.due(amounts)
        if kind is DEPOSIT:
            paid = min(max(int(round(expected * s.presale.deposit_ratio, -2)), 100),
                       expected - 1)
            amounts = altered(amounts, paid_fen=paid)
        elif plant == "payment_mismatch":
            amounts = altered(amounts, paid_fen=pop.wrong_payment(d, amounts))
        created = self.origin + timedelta(seconds=created_s)
        order = build(Order, {
            "channel": self._channel[channel], "shop": shop,
            "order_id": self.order_id(channel), "status": PAID, "created_at": created,
            "paid_at": created, "modified_at": created, "buyer": buyer, "receiver": to,
            "items": items, "amounts": amounts, "order_type": kind, "source": source,
            "source_detail": detail, "delivery": delivery, "warehouse_hint": ""})
        return order, expected, odd

    def oddity(self, od: pop.Dice, odd: str, channel: str, shop: str, kind: OrderType,
               to: Receiver, delivery: DeliveryService, items: tuple[Item, ...]) -> tuple:
        """(odd or "", receiver, delivery, items) of a clean order made valid-but-odd:
        the definitions stay clear (a remote address goes express, a same-city order stays
        in the warehouse city, a Douyin order, which has no express, stays out of the
        remote provinces)."""
        if odd == "rare_phone_prefix":
            return odd, altered(to, phone=pop.rare_phone(od)), delivery, items
        if odd == "long_address":
            return odd, altered(to, detail=pop.long_detail(od)), delivery, items
        if odd == "gift_zero_fen":
            gift = self.shelf.free_gift(items, channel, shop)
            return (odd, to, delivery, (*items, gift)) if gift else ("", to, delivery, items)
        if odd == "duplicate_window_edge":
            return ("" if kind in PRESALE else odd), to, delivery, items
        pool = {"remote_express": self.places.remote, "renamed_district": self.places.renamed,
                "no_district_city": self.places.bare}[odd]
        if delivery is SAME_CITY:
            pool = tuple(p for p in pool if p[:2] == self.warehouse)
        if channel == "douyin":
            pool = tuple(p for p in pool if not p[0].startswith(self.remote))
        if not pool:
            return "", to, delivery, items
        place = od.pick(pool)
        if place[0].startswith(self.remote):
            delivery = EXPRESS
        return odd, pop.moved(od, to, place), delivery, items

    def route(self, d: pop.Dice, channel: str, kind: OrderType,
              plant: str) -> tuple[str, DeliveryService]:
        """(region class of the address, delivery service). Douyin shops offer no express,
        so a clean remote order (which must go express) is never a Douyin one."""
        if plant == "remote_standard_express":
            return "remote", STD
        if channel != "douyin" and d.chance(self.s.regions.remote_share):
            return "remote", EXPRESS
        delivery = self.delivery.choose(d)
        if channel == "douyin" and (delivery is EXPRESS or (
                delivery is SAME_CITY and kind in PRESALE)):
            delivery = STD
        return ("local" if delivery is SAME_CITY else "inland"), delivery

    def source(self, d: pop.Dice, channel: str, kind: OrderType) -> tuple[str, str]:
        if kind is LIVE_FLASH:
            return "live_room", d.pick(self.s.channels[channel].live_rooms)
        source = self.sources[channel].choose(d)
        if source == "shortvideo":
            return source, f"73{d.below(10**17):017d}"
        return source, ""


def generate(scenario: Scenario, seed: int | None = None,
             window: tuple[str, str] | None = None) -> tuple[TraceHeader, list[TraceEvent]]:
    """The trace of ``scenario`` (its own seed and window unless given): the header and
    the events in time order.

    >>> header, events = generate(load_scenario("baseline-8k"), window=("19:00", "19:05"))
    >>> header.scenario, events[0].kind.value, events == generate(
    ...     load_scenario("baseline-8k"), window=("19:00", "19:05"))[1]
    ('baseline-8k', 'created', True)
    """
    seed = scenario.seed if seed is None else seed
    window = tuple(window or scenario.window)
    events = DayModel(scenario, seed, window).run()
    counts = count(events)
    header = TraceHeader(scenario.name, seed, scenario.origin, window, {
        "description": scenario.description, "orders_per_day": scenario.orders_per_day,
        "speedup": scenario.speedup, "pull_interval_s": scenario.pull_interval_s,
        "push": scenario.push, "tail_s": scenario.tail_s, **counts})
    return header, events


def count(events: list[TraceEvent]) -> dict:
    """Orders, events by kind and planted anomalies (per order) of a trace."""
    truth: dict[tuple, tuple[str, ...]] = {}
    for e in events:
        if e.order is not None:
            key = e.order.order_id  # unique within a generated trace
            if e.truth or key not in truth:
                truth[key] = e.truth
    planted = Counter(code for codes in truth.values() for code in codes)
    kinds = Counter(e.kind for e in events)
    odd = Counter(label for e in events for label in e.odd)
    return {"orders": len(truth), "events": {k.value: n for k, n in kinds.items()},
            "anomalous_orders": sum(1 for codes in truth.values() if codes),
            "planted": {code: planted[code] for code in sorted(planted)},
            "odd_orders": sum(odd.values()), "odd": dict(sorted(odd.items()))}


def write(scenario: Scenario, path: Path, seed: int | None = None,
          window: tuple[str, str] | None = None) -> TraceHeader:
    """Generate the trace and write it to ``path`` (JSON lines, ``sim.trace``)."""
    header, events = generate(scenario, seed, window)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_trace(Path(path), header, events)
    return header


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.generator",
                                     description="write a scenario's trace and print counts")
    parser.add_argument("scenario", help="a name in scenarios/ or a path to a .toml file")
    parser.add_argument("--seed", type=int, help="default: the scenario's")
    parser.add_argument("--window", help="HH:MM-HH:MM (default: the scenario's)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        scenario = load_scenario(args.scenario, folders=env_folders(os.environ))
        window = parse_window(args.window) if args.window else None
        header, events = generate(scenario, args.seed, window)
    except (ScenarioError, ValueError) as exc:
        print(f"sim.generator: {exc}", file=sys.stderr)
        return 2
    made = time.perf_counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_trace(args.out, header, events)
    m = header.meta
    share = m["anomalous_orders"] / max(m["orders"], 1)
    print(f"{scenario.name} seed {header.seed} window {'-'.join(header.window)}: "
          f"{m['orders']} orders, {sum(m['events'].values())} events "
          f"({', '.join(f'{k} {v}' for k, v in m['events'].items())})")
    print(f"planted: {m['anomalous_orders']} orders ({share:.1%}): "
          f"{', '.join(f'{k} {v}' for k, v in m['planted'].items()) or 'none'}")
    odd = m["odd_orders"] / max(m["orders"], 1)
    print(f"odd (clean): {m['odd_orders']} orders ({odd:.1%}): "
          f"{', '.join(f'{k} {v}' for k, v in m['odd'].items()) or 'none'}")
    print(f"generated in {made - began:.2f}s, written in {time.perf_counter() - made:.2f}s "
          f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
