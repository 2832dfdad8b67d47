"""The surge generator: a SimPy model that turns a scenario and a seed into a trace of
timed order events with ground truth.

Arrivals are a non-homogeneous Poisson process following the day's hourly shape,
drawn by thinning; each order then lives as a SimPy process (payment, presale final
payment, address change, cancellation). The truth labels are what the generator
planted, never what the hub's checks say. Same scenario + seed -> the same trace.

    python -m sim.generator double11-42k --seed 11 --out var/trace.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import simpy

from hub.domain.order import Amounts, Buyer, Item, Order, OrderStatus
from sim import population
from sim.scenario import Scenario, ScenarioError, load_scenario, parse_window
from sim.trace import EventKind, TraceEvent, TraceHeader, write_trace


def _pick(rng: np.random.Generator, table: dict[str, float]) -> str:
    names = list(table)
    weights = np.asarray([table[n] for n in names], dtype=float)
    return names[rng.choice(len(names), p=weights / weights.sum())]


def _cancelled(order: Order) -> Order:
    return order.model_copy(update={"status": OrderStatus.CANCELLED})


class DayModel:
    """One day of a scenario inside a SimPy environment (time = business seconds)."""

    def __init__(self, scenario: Scenario, seed: int, window: tuple[str, str]) -> None:
        self.s, self.seed = scenario, seed
        self.rng = np.random.default_rng(seed)
        self.env = simpy.Environment()
        start, end = scenario.model_copy(update={"window": window}).window_seconds()
        self.start, self.end = start, end
        weights = np.asarray(scenario.hourly_weights, dtype=float)
        self.rate = scenario.orders_per_day * weights / weights.sum() / 3600.0  # per second
        self.events: list[tuple[float, int, TraceEvent]] = []
        self._tie = itertools.count()  # ties in time keep creation order
        self._serial = itertools.count(1)
        self.channels = {k: c for k, c in scenario.channels.items() if c.share > 0}
        shares = np.asarray([c.share for c in self.channels.values()])
        self.channel_p = shares / shares.sum()
        sku_w = np.asarray([s.weight for s in scenario.skus])
        self.sku_p = sku_w / sku_w.sum()

    # -- arrivals ---------------------------------------------------------------------------
    def arrivals(self) -> Iterator[simpy.Event]:
        peak = float(self.rate.max())
        yield self.env.timeout(self.start)
        while True:
            yield self.env.timeout(float(self.rng.exponential(1.0 / peak)))
            now = self.env.now
            if now >= self.end:
                return
            if self.rng.random() * peak <= self.rate[int(now // 3600) % 24]:
                self.env.process(self.order_life(now))

    def emit(self, kind: EventKind, order: Order | None, truth: tuple[str, ...] = (),
             detail: dict | None = None) -> None:
        at = round(self.env.now, 3)
        if order is not None:
            moment = self.s.origin + timedelta(seconds=at)
            order = order.model_copy(update={"modified_at": moment})
        self.events.append((at, next(self._tie), TraceEvent(at, kind, order, truth,
                                                            detail or {})))

    # -- one order ----------------------------------------------------------------------------
    def _draw_anomaly(self) -> str | None:
        u, acc = self.rng.random(), 0.0
        for code, share in self.s.anomalies.items():
            acc += share
            if u < acc:
                return code
        return None

    def build(self, now: float, anomaly: str | None) -> Order:
        rng, s = self.rng, self.s
        n = next(self._serial)
        channel = list(self.channels)[rng.choice(len(self.channels), p=self.channel_p)]
        shops = self.channels[channel].shops
        kind = _pick(rng, s.order_types)
        delivery = _pick(rng, s.delivery)
        if channel == "douyin" and delivery == "express":
            delivery = "standard"  # Douyin shops offer no express service
        remote = anomaly == "remote_standard_express" or (
            anomaly is None and channel != "douyin" and rng.random() < s.remote_share)
        if remote:
            delivery = "standard" if anomaly == "remote_standard_express" else "express"
            to = population.receiver(rng, remote=True)
        elif delivery == "same_city":
            to = population.receiver(rng, province=s.warehouse[0], city=s.warehouse[1])
        else:
            to = population.receiver(rng)
        if anomaly == "incomplete_address":
            to = population.incomplete(rng, to)
        elif anomaly == "invalid_phone":
            to = to.model_copy(update={"phone": population.bad_phone(rng)})
        lines = {}
        for _ in range(1 + int(rng.random() < 0.3)):
            sku = s.skus[rng.choice(len(s.skus), p=self.sku_p)]
            lines[sku.sku] = Item(sku=sku.sku, outer_sku=sku.sku.lower(),
                                  quantity=1 + int(rng.integers(2)), price_fen=sku.price_fen)
        items = tuple(lines.values())
        total = sum(i.price_fen * i.quantity for i in items)
        discount = int(total * rng.choice([0, 0, 0.05, 0.1])) if kind != "gift" else 0
        freight = 0 if total >= 9900 else 800
        paid = total - discount + freight
        if anomaly == "payment_mismatch":
            paid = 0 if rng.random() < 0.3 else max(paid - int(rng.integers(100, 5000)), 1)
        tags = ("new_first_order",) if rng.random() < s.new_buyer_share else ()
        source, detail = "", ""
        if kind == "live_flash":
            source, detail = "live_room", f"room-{rng.integers(1, 6)}"
        created = s.origin + timedelta(seconds=now)
        prefix = {"tmall": "", "jd": "", "douyin": "69"}.get(channel, "")
        return Order(
            channel=channel, shop=shops[int(rng.integers(len(shops)))],
            order_id=f"{prefix}{s.date:%y%m%d}{self.seed % 1000:03d}{n:07d}",
            status="unpaid", created_at=created, modified_at=created,
            buyer=Buyer(id=f"{channel}-u{self.seed}-{n}", tier=_pick(rng, s.tiers),
                        tags=tags),
            receiver=to, items=items,
            amounts=Amounts(total_fen=total, discount_fen=discount, freight_fen=freight,
                            paid_fen=paid),
            order_type=kind, source=source, source_detail=detail, delivery=delivery)

    def order_life(self, now: float) -> Iterator[simpy.Event]:
        rng = self.rng
        anomaly = self._draw_anomaly()
        order = self.build(now, None if anomaly == "duplicate_order" else anomaly)
        truth = (anomaly,) if anomaly and anomaly != "duplicate_order" else ()
        if anomaly is None and rng.random() < self.s.unpaid_share:
            self.emit(EventKind.CREATED, order)
            yield self.env.timeout(float(rng.uniform(600, 1800)))
            self.emit(EventKind.CANCELLED, _cancelled(order))
            return
        pay_delay = float(rng.exponential(20.0))
        paid_at = order.created_at + timedelta(seconds=pay_delay)
        yield self.env.timeout(pay_delay)
        order = order.model_copy(update={"status": OrderStatus.PAID, "paid_at": paid_at})
        self.emit(EventKind.PAID, order, truth)
        if anomaly == "duplicate_order":  # the same buyer orders the same again, later
            yield self.env.timeout(float(rng.uniform(60, 900)))
            n = next(self._serial)
            twin = order.model_copy(update={
                "order_id": f"{order.order_id[:-7]}{n:07d}",
                "created_at": self.s.origin + timedelta(seconds=self.env.now),
                "paid_at": self.s.origin + timedelta(seconds=self.env.now)})
            self.emit(EventKind.PAID, twin, ("duplicate_order",))
            return
        if truth:
            return
        u = rng.random()
        if u < self.s.address_change_share:
            yield self.env.timeout(float(rng.uniform(120, 1200)))
            moved = population.receiver(rng)
            self.emit(EventKind.ADDRESS_CHANGED, order.model_copy(update={"receiver": moved}))
        elif u < self.s.address_change_share + self.s.cancel_share:
            yield self.env.timeout(float(rng.uniform(120, 1200)))
            self.emit(EventKind.CANCELLED, _cancelled(order))

    def run(self) -> list[TraceEvent]:
        self.env.process(self.arrivals())
        for fault in self.s.faults:
            at = 60.0 * sum(int(x) * m for x, m in zip(fault.at.split(":"), (60, 1),
                                                         strict=True))
            if self.start <= at < self.end:
                detail = {"channel": fault.target, "kind": fault.kind,
                          "duration_s": fault.duration_s}
                self.events.append((at, next(self._tie),
                                    TraceEvent(at, EventKind.FAULT, None, (), detail)))
        self.env.run()
        self.events.sort(key=lambda e: (e[0], e[1]))
        return [event for _, _, event in self.events]


def generate(scenario: Scenario, seed: int | None = None,
             window: tuple[str, str] | None = None) -> tuple[TraceHeader, list[TraceEvent]]:
    """The trace of ``scenario`` (its own seed and window unless given)."""
    seed = scenario.seed if seed is None else seed
    window = window or scenario.window
    events = DayModel(scenario, seed, window).run()
    header = TraceHeader(scenario.name, seed, scenario.origin, tuple(window),
                         {"orders_per_day": scenario.orders_per_day,
                          "events": len(events)})
    return header, events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.generator",
                                     description="write a scenario's trace")
    parser.add_argument("scenario")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--window", help="HH:MM-HH:MM (default: the scenario's)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
        window = parse_window(args.window) if args.window else None
        began = time.perf_counter()
        header, events = generate(scenario, args.seed, window)
    except (ScenarioError, ValueError) as exc:
        print(f"sim.generator: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_trace(args.out, header, events)
    orders = {e.order.key for e in events if e.order is not None}
    planted = sum(1 for e in events if e.truth)
    print(f"{scenario.name} seed {header.seed} window {'-'.join(header.window)}: "
          f"{len(orders)} orders, {len(events)} events, {planted} planted anomalies, "
          f"{time.perf_counter() - began:.1f}s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
