"""A scenario day as the capacity model sees it: one row per paid order in NumPy columns
(payment time, channel and shop, order type, buyer tier, delivery, planted anomaly,
cancellation), drawn from the same scenario files as the rehearsals (``sim.scenario``)
with the model's own seeded generator.

The arrivals are the scenario's hourly shape (``orders_per_day * w[h] / sum(w)`` an
hour, Poisson counts, uniform within the hour); ``sample`` keeps one order in
``1/sample`` (the fast path for very large days: capacities are scaled by the same
factor, ``sim.capacity.flow``). Unpaid orders never reach a warehouse and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import Scenario, seconds_of_day

TYPES = ("normal", "live_flash", "presale_final", "presale_deposit", "gift")
TIERS_DEFAULT = ("normal", "vip", "plus", "svip")
DELIVERIES = ("standard", "express", "same_city", "remote")
LANES = ("P0", "P1", "P2", "P3")
URGENT = (1, 2)  # live_flash, presale_final: the case's urgent ~20%
REMEDIED = "remote_standard_express"  # the one planted anomaly fixed without a person
# the generator's baskets (sim/population.py): lines an order and units a line
BASKET_LINES = (0.70, 0.22, 0.08)  # 1, 2, 3 lines
BASKET_UNITS = (0.80, 0.15, 0.05)  # 1, 2, 3 units


@dataclass
class Day:
    """The paid orders of one day (or window), sorted by payment time (business
    seconds after the scenario's midnight)."""

    paid: np.ndarray  # float seconds
    puller: np.ndarray  # int: index into ``pullers`` (channel/shop)
    pullers: tuple[str, ...]
    channel: np.ndarray  # int: index into ``channels``
    channels: tuple[str, ...]
    order_type: np.ndarray  # int: index into TYPES
    tier: np.ndarray  # int: index into ``tiers``
    tiers: tuple[str, ...]
    delivery: np.ndarray  # int: index into DELIVERIES
    new_buyer: np.ndarray  # bool: a new buyer's first order
    live_room: np.ndarray  # bool: bought in a live room
    anomaly: np.ndarray  # int: -1 clean, else index into ``anomalies``
    anomalies: tuple[str, ...]
    cancel_at: np.ndarray  # float: when the buyer cancels (inf: never)
    changed: np.ndarray  # bool: the buyer changes the address after paying
    out_of_stock: np.ndarray  # bool: paid for a SKU the day's stock no longer covers
    promise_s: np.ndarray  # float: ship-by, seconds after payment
    start_s: float
    end_s: float
    scale: float  # real orders each row stands for (1 / sample)

    @property
    def n(self) -> int:
        return int(self.paid.size)

    def urgent(self) -> np.ndarray:
        return np.isin(self.order_type, URGENT)


def _pick(rng: np.random.Generator, shares: dict[str, float], names: tuple[str, ...],
          size: int) -> np.ndarray:
    weights = np.array([max(float(shares.get(n, 0.0)), 0.0) for n in names])
    if size == 0 or weights.sum() <= 0:
        return np.zeros(size, dtype=np.int16)
    cum = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(cum, rng.random(size), side="right"),
                      len(names) - 1).astype(np.int16)


def build_day(scenario: Scenario, seed: int, *, orders_per_day: float | None = None,
              window: tuple[str, str] | None = None, sample: float = 1.0) -> Day:
    """The paid orders of ``scenario`` (its ``window`` or the one given; ``("00:00",
    "24:00")`` for the whole day) at ``orders_per_day`` (default the scenario's)."""
    rng = np.random.default_rng([seed, 0xCA9])
    per_day = float(orders_per_day or scenario.orders_per_day)
    start, end = (seconds_of_day(w) for w in (window or scenario.window))
    weights = np.asarray(scenario.hourly_weights, dtype=float)
    unpaid = scenario.follow_ups.unpaid
    per_hour = per_day * sample * (1 - unpaid) * weights / weights.sum()
    times = []
    for hour in range(24):
        lo, hi = max(start, hour * 3600.0), min(end, (hour + 1) * 3600.0)
        if hi <= lo:
            continue
        count = rng.poisson(per_hour[hour] * (hi - lo) / 3600.0)
        times.append(rng.uniform(lo, hi, count))
    paid = np.sort(np.concatenate(times)) if times else np.empty(0)
    n = paid.size
    channels = tuple(sorted(scenario.channels))
    channel = _pick(rng, {c: scenario.channels[c].share for c in channels}, channels, n)
    pullers = tuple(f"{c}/{shop}" for c in channels for shop in scenario.channels[c].shops)
    puller = np.zeros(n, dtype=np.int16)
    order_type = np.zeros(n, dtype=np.int16)
    for ci, c in enumerate(channels):
        mine = np.flatnonzero(channel == ci)
        shops = [pullers.index(f"{c}/{s}") for s in scenario.channels[c].shops]
        puller[mine] = np.asarray(shops, dtype=np.int16)[rng.integers(0, len(shops), mine.size)]
        order_type[mine] = _pick(rng, scenario.mix_of(c), TYPES, mine.size)
    tiers = tuple(scenario.buyers.tiers) or TIERS_DEFAULT
    tier = _pick(rng, scenario.buyers.tiers, tiers, n)
    delivery = _pick(rng, scenario.delivery, DELIVERIES[:3], n)
    delivery[rng.random(n) < scenario.regions.remote_share] = DELIVERIES.index("remote")
    new_buyer = rng.random(n) < scenario.buyers.new_first_order
    live_room = order_type == TYPES.index("live_flash")
    anomalies = tuple(sorted(scenario.anomalies))
    total = sum(scenario.anomalies.values())
    anomaly = np.full(n, -1, dtype=np.int16)
    planted = rng.random(n) < total
    anomaly[planted] = _pick(rng, scenario.anomalies, anomalies, int(planted.sum()))
    cancel_at = np.full(n, np.inf)
    cancels = rng.random(n) < scenario.follow_ups.cancel
    cancel_at[cancels] = paid[cancels] + rng.exponential(1800.0, int(cancels.sum()))
    changed = rng.random(n) < scenario.follow_ups.address_change
    # a day of another size is stocked in proportion (the scenario's stock is for its day)
    out_of_stock = _stock_outs(scenario, channels, channel, rng,
                               sample * per_day / scenario.orders_per_day)
    promise_s = np.empty(n)
    for ti, t in enumerate(TYPES):
        for di, d in enumerate(DELIVERIES):
            hours = scenario.promises.get(t) or scenario.promises.get(
                "express" if d == "remote" else d, 48.0)
            promise_s[(order_type == ti) & (delivery == di)] = 3600.0 * float(hours)
    return Day(paid, puller, pullers, channel, channels, order_type, tier, tiers, delivery,
               new_buyer, live_room, anomaly, anomalies, cancel_at, changed, out_of_stock,
               promise_s, start, end,
               1.0 / sample)


def _stock_outs(scenario: Scenario, channels: tuple[str, ...], channel: np.ndarray,
                rng: np.random.Generator, stock_scale: float) -> np.ndarray:
    """Baskets of the scenario's listings (its weights, among its channel's listings;
    the generator's basket sizes); an order whose units pass what is left of a merchant
    SKU's stock (in payment order; the stock times ``stock_scale``) is out of stock."""
    specs = scenario.listing_specs()
    stock = {s.sku: s.stock * stock_scale for s in scenario.skus}
    units = {sku: np.zeros(channel.size) for sku in stock}
    for ci, c in enumerate(channels):
        mine = np.flatnonzero(channel == ci)
        offered = [s for s in specs if c in s["channels"]]
        if not offered or not mine.size:
            continue
        names = tuple(str(k) for k in range(len(offered)))
        weights = {str(k): s["weight"] for k, s in enumerate(offered)}
        lines = 1 + (rng.random(mine.size)[:, None] >= np.cumsum(BASKET_LINES)[:-1]).sum(1)
        for line in range(1, len(BASKET_LINES) + 1):
            rows_all = mine[lines >= line]
            pick = _pick(rng, weights, names, rows_all.size)
            qty = 1 + (rng.random(rows_all.size)[:, None] >= np.cumsum(BASKET_UNITS)[:-1]
                       ).sum(1)
            for k, spec in enumerate(offered):
                chosen = pick == k
                for sku, quantity in spec["components"]:
                    units[sku][rows_all[chosen]] += quantity * qty[chosen]
    out = np.zeros(channel.size, dtype=bool)
    for sku, demand in units.items():
        out |= (np.cumsum(demand) > stock[sku]) & (demand > 0)
    return out


def lanes_of(day: Day, table: dict) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Lane (index into LANES) and packing group of each order by the parameter set's
    copy of the rule set's priority model: weighted scores, lane thresholds, and the two
    routing rules it names. Returns (lane, group index, group names)."""
    w = table["weights"]
    types = np.array([table["order_type"].get(t, 40) for t in TYPES], dtype=float)
    tiers = np.array([table["customer_tier"].get(t, 30) for t in day.tiers], dtype=float)
    region = table["region"]
    regions = np.array([region.get(d, region.get("default", 40)) if d != "standard"
                        else region.get("default", 40) for d in DELIVERIES], dtype=float)
    score = (w["order_type"] * types[day.order_type] + w["customer_tier"] * tiers[day.tier]
             + w["region"] * regions[day.delivery] + w["inventory"] * table["inventory"])
    th = table["thresholds"]
    lane = np.where(score >= th["P0"], 0, np.where(score >= th["P1"], 1,
                                                   np.where(score >= th["P2"], 2, 3)))
    groups = [f"lane-{x}" for x in LANES] + ["same-city", "live-new-buyer"]
    group = lane.astype(np.int16).copy()
    fast = np.isin(day.tier, [i for i, t in enumerate(day.tiers)
                              if t in table.get("fast_same_city_tiers", ())])
    same_city_fast = fast & (day.delivery == DELIVERIES.index("same_city"))
    live_channel = table.get("live_new_buyer")
    live_new = np.zeros(day.n, dtype=bool)
    if live_channel in day.channels:
        live_new = (day.channel == day.channels.index(live_channel)) & day.live_room & \
            day.new_buyer
    group[live_new] = groups.index("live-new-buyer")
    lane[same_city_fast & ~live_new] = 0
    group[same_city_fast & ~live_new] = groups.index("same-city")
    return lane.astype(np.int16), group, tuple(groups)
