"""The surge generator: same seed -> same bytes, the day's shape and mixes, and ground
truth that matches the anomaly definitions (spec section 1) exactly, checked here by
small checkers of our own, never by the hub's code."""

import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import timedelta

import numpy as np
import pytest

from hub.domain.order import OrderStatus, OrderType
from sim.generator import generate, thinned_arrivals, write
from sim.population import division_table
from sim.scenario import load_scenario
from sim.trace import EventKind, read_trace, write_trace

REMOTE = ("新疆", "西藏", "青海", "内蒙古", "甘肃", "宁夏")
PAID = {"paid", "partially_shipped", "shipped", "finished"}
URGENT = {"live_flash", "presale_final"}


@pytest.fixture(scope="module")
def opening():
    """Double-11's opening hour: about 6,000 orders."""
    scenario = load_scenario("double11-42k")
    return scenario, *generate(scenario, window=("00:00", "01:00"))


# -- independent checkers of the definitions ----------------------------------------------------

def _spellings() -> tuple[dict, dict, set]:
    table = division_table()
    provinces, cities, bare = {}, {}, set()
    for province, node in table.items():
        alias = node.get("_alias") or []
        provinces[province] = {province, *([alias] if isinstance(alias, str) else alias)}
        cities[province] = {}
        for city, cnode in node.items():
            if not city.startswith("_"):
                alias = cnode.get("_alias") or [] if isinstance(cnode, dict) else []
                cities[province][city] = {city, *([alias] if isinstance(alias, str) else alias)}
                below = [k for k in cnode if not k.startswith("_")] if isinstance(cnode, dict) \
                    else []
                if below == ["市直辖行政区划"]:  # towns directly under the city
                    bare.add(city)
    return provinces, cities, bare


PROVINCES, CITIES, NO_DISTRICT = _spellings()


def incomplete(r) -> bool:
    """A city with no district level (东莞市) needs a town or street where others need
    a district."""
    place = r.district.strip() or (r.city in NO_DISTRICT and r.street.strip())
    if not place or len(r.street.strip()) + len(r.detail.strip()) < 5:
        return True
    if r.province not in PROVINCES or r.city not in CITIES[r.province]:
        return True
    rest = r.detail.strip()
    for name in sorted(PROVINCES[r.province] | CITIES[r.province][r.city], key=len, reverse=True):
        rest = rest.replace(name, "")
    return not rest.strip(" ,，")


def bad_phone(phone: str) -> bool:
    if "*" in phone:
        return False
    digits = phone.replace(" ", "").replace("-", "")
    digits = digits[3:] if digits.startswith("+86") else \
        digits[2:] if digits.startswith("86") else digits
    return not (len(digits) == 11 and digits.isdigit() and digits[0] == "1"
                and digits[1] in "3456789")


def mismatched(o) -> bool:
    if o.status.value not in PAID:
        return False
    a = o.amounts
    if o.order_type == OrderType.PRESALE_DEPOSIT:
        return a.paid_fen == 0
    return a.paid_fen == 0 or a.paid_fen != a.total_fen - a.discount_fen + a.freight_fen


def look(o) -> tuple:
    r = o.receiver
    return (o.buyer.id, tuple(sorted((i.sku, i.quantity) for i in o.items)),
            r.province, r.city, r.district, r.street, r.detail)


def check_all(events) -> list[tuple[set, set]]:
    """(found by the definitions, labelled) for every order event of a trace."""
    versions = defaultdict(set)  # look-alike key -> {(created_at, order_id)} of every version
    for e in events:
        if e.order is not None:
            versions[look(e.order)].add((e.order.created_at, e.order.order_id))
    window = timedelta(minutes=30)
    out = []
    for e in events:
        o = e.order
        if o is None:
            continue
        found = set()
        if incomplete(o.receiver):
            found.add("incomplete_address")
        if o.receiver.province.startswith(REMOTE) and o.delivery.value == "standard":
            found.add("remote_standard_express")
        if mismatched(o):
            found.add("payment_mismatch")
        if any(other != o.order_id and o.created_at - window <= when <= o.created_at
               for when, other in versions[look(o)]):
            found.add("duplicate_order")
        if bad_phone(o.receiver.phone):
            found.add("invalid_phone")
        out.append((found, set(e.truth)))
    return out


def test_checkers_catch_what_they_should() -> None:
    from tests.factories import order

    assert bad_phone("12345") and bad_phone("0571-87654321") and bad_phone("1381234567")
    assert not bad_phone("+86 138-1234-5678") and not bad_phone("*******5678")
    good = order(1).receiver
    assert not incomplete(good) and not incomplete(good.model_copy(update={"detail": "中山路1号"}))
    for change in ({"district": ""}, {"street": "", "detail": "9号"}, {"detail": "杭州市"},
                   {"detail": "浙江杭州"}, {"city": "北京市"}, {"province": "火星"}):
        assert incomplete(good.model_copy(update=change)), change
    dongguan = good.model_copy(update={"province": "广东省", "city": "东莞市", "district": "",
                                       "street": "长安镇"})
    assert {"东莞市", "中山市", "儋州市", "嘉峪关市"} == NO_DISTRICT
    assert not incomplete(dongguan) and incomplete(dongguan.model_copy(update={"street": ""}))
    paid = order(2)
    assert not mismatched(paid)
    assert mismatched(paid.model_copy(update={"amounts": paid.amounts.model_copy(
        update={"paid_fen": 1})}))
    deposit = paid.model_copy(update={"order_type": OrderType.PRESALE_DEPOSIT,
                                      "amounts": paid.amounts.model_copy(update={"paid_fen": 1})})
    assert not mismatched(deposit)


# -- the trace ---------------------------------------------------------------------------------

def test_same_scenario_and_seed_give_the_same_bytes(tmp_path) -> None:
    drill = load_scenario("fault-drill")  # faults and a rule change too
    for name in ("a", "b"):
        write(drill, tmp_path / f"{name}.jsonl", window=("00:00", "00:35"))
    write(drill, tmp_path / "c.jsonl", seed=14, window=("00:00", "00:35"))
    a = (tmp_path / "a.jsonl").read_bytes()
    assert a == (tmp_path / "b.jsonl").read_bytes()
    assert a != (tmp_path / "c.jsonl").read_bytes()
    kinds = Counter(e.kind for e in read_trace(tmp_path / "a.jsonl")[1])
    assert kinds[EventKind.FAULT] == 3 and kinds[EventKind.RULES] == 1


def test_the_command_line_writes_the_same_trace_in_another_process(tmp_path) -> None:
    window = ("19:00", "19:20")
    write(load_scenario("baseline-8k"), tmp_path / "here.jsonl", seed=5, window=window)
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    done = subprocess.run([sys.executable, "-m", "sim.generator", "baseline-8k", "--seed", "5",
                           "--window", "19:00-19:20", "--out", str(tmp_path / "there.jsonl")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "there.jsonl").read_bytes() == (tmp_path / "here.jsonl").read_bytes()
    header = read_trace(tmp_path / "here.jsonl")[0]
    assert f"{header.meta['orders']} orders" in done.stdout and "planted:" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "sim.generator", "no-such-day", "--out",
                          str(tmp_path / "x.jsonl")], capture_output=True, text=True,
                         timeout=120, check=False)
    assert bad.returncode == 2 and "no such scenario" in bad.stderr


def test_orders_in_a_window_match_orders_per_day_times_its_share(opening) -> None:
    base = load_scenario("baseline-8k")
    for scenario, (header, events) in ((opening[0], opening[1:]),
                                       (base, generate(base, window=("19:00", "20:00")))):
        hour = int(header.window[0][:2])
        expected = scenario.orders_per_day * scenario.hourly_weights[hour] / sum(
            scenario.hourly_weights)
        assert abs(header.meta["orders"] - expected) < 4 * expected**0.5 + 0.01 * expected
        firsts = {}
        for e in events:
            if e.order is not None:
                firsts.setdefault(e.order.order_id, e.at)
        assert len(firsts) == header.meta["orders"]
        start = 3600.0 * hour
        # every order arrives in the window (a planted twin up to 25 minutes after its
        # original, an odd twin up to 35); follow-ups stop tail_s after the window
        edge = {e.order.order_id for e in events if "duplicate_window_edge" in e.odd}
        assert all(start <= at < start + 3600 + (2100 if oid in edge else 1500)
                   for oid, at in firsts.items())
        assert all(start <= e.at < start + 3600 + scenario.tail_s for e in events)


def test_thinning_follows_the_hourly_shape() -> None:
    s = load_scenario("double11-42k")
    w = np.asarray(s.hourly_weights)
    rate = s.orders_per_day * w / w.sum() / 3600
    times = thinned_arrivals(rate, 0.0, 86400.0, np.random.default_rng(3))
    assert np.all(np.diff(times) > 0) and times.min() >= 0 and times.max() < 86400
    counts = np.bincount((times // 3600).astype(int), minlength=24)
    expected = rate * 3600
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected) + 5)
    assert counts.argmax() == 0 and counts[0] > 10 * counts[4]  # the midnight opening spike
    assert counts[20:22].min() > 2 * counts[10]  # the evening live streams
    part = thinned_arrivals(rate, 1800.0, 5400.0, np.random.default_rng(3))
    assert part.min() >= 1800 and part.max() < 5400


def test_every_label_is_the_definition_and_no_clean_order_looks_anomalous(opening) -> None:
    _, header, events = opening
    checked = check_all(events)
    wrong = [(found, truth) for found, truth in checked if found != truth]
    assert not wrong, wrong[:5]
    assert len(checked) > 10_000
    per_order: dict[str, set] = defaultdict(set)
    for e in events:
        if e.order is not None:
            per_order[e.order.order_id] |= set(e.truth)
    kinds = Counter(code for codes in per_order.values() for code in codes)
    share = sum(1 for codes in per_order.values() if codes) / len(per_order)
    assert abs(share - 0.073) < 0.012, share
    scenario = opening[0]
    for code, target in scenario.anomalies.items():
        assert abs(kinds[code] / len(per_order) - target) < 0.006, (code, kinds[code])
    assert header.meta["planted"] == dict(sorted(kinds.items()))


def test_mixes_urgent_share_and_the_buyers(opening) -> None:
    scenario, _, events = opening
    first = {}
    for e in events:
        if e.order is not None:
            first.setdefault(e.order.order_id, e.order)
    orders = list(first.values())
    n = len(orders)
    urgent = sum(1 for o in orders if o.order_type.value in URGENT) / n
    assert 0.17 < urgent < 0.23, urgent
    channels = Counter(o.channel.value for o in orders)
    for name, mix in scenario.channels.items():
        assert abs(channels[name] / n - mix.share) < 0.03
    assert all((o.order_type == OrderType.LIVE_FLASH) == (o.source == "live_room")
               for o in orders)
    assert all(o.source_detail in scenario.channels[o.channel.value].live_rooms
               for o in orders if o.source == "live_room")
    assert not any(o.delivery.value == "express" for o in orders if o.channel.value == "douyin")
    same_city = [o for o in orders if o.delivery.value == "same_city"]
    assert same_city and all((o.receiver.province, o.receiver.city) ==
                             tuple(scenario.regions.warehouse) for o in same_city)
    remote_clean = [o for o in orders if o.receiver.province.startswith(REMOTE)
                    and o.delivery.value == "express"]
    assert 0.01 < len(remote_clean) / n < 0.04
    buyers = Counter(o.buyer.id for o in orders)
    tiers = Counter(o.buyer.tier for o in orders)
    assert set(tiers) == set(scenario.buyers.tiers)
    assert abs(tiers["plus"] / n - scenario.buyers.tiers["plus"]) < 0.02
    assert 0.1 < sum(1 for o in orders if o.buyer.tags) / n < 0.2
    assert max(buyers.values()) > 1  # some buyers come back
    by_buyer = {}
    for o in orders:  # a buyer keeps the same tier and tags all day
        assert by_buyer.setdefault(o.buyer.id, o.buyer) == o.buyer


def test_follow_ups_payments_presales_changes_cancellations(opening) -> None:
    scenario, _, events = opening
    history = defaultdict(list)
    for e in events:
        if e.order is not None:
            assert e.order.modified_at == scenario.origin + timedelta(seconds=e.at)
            history[e.order.order_id].append(e)
    assert [e.at for e in events] == sorted(e.at for e in events)
    kinds = Counter(tuple(x.kind.value for x in h) for h in history.values())
    assert kinds[("created", "paid")] > 0.8 * len(history)
    for chain in (("created", "cancelled"), ("created", "paid", "cancelled"),
                  ("created", "paid", "address_changed"), ("presale_final",)):
        assert kinds[chain] > 0, chain
    for h in history.values():
        states = [x.order for x in h]
        assert len({int(x.at) for x in h}) == len(h)  # versions never share a second
        if h[0].kind == EventKind.CREATED:
            assert states[0].status == OrderStatus.UNPAID and states[0].paid_at is None
            assert states[0].created_at == states[0].modified_at
        for x in h:
            if x.kind in (EventKind.PAID, EventKind.PRESALE_FINAL):
                assert x.order.paid_at == x.order.modified_at
        if h[0].kind == EventKind.PRESALE_FINAL:  # deposit paid days before
            assert (scenario.origin - states[0].created_at).days >= 3
        if h[-1].kind == EventKind.ADDRESS_CHANGED:
            assert states[-1].receiver != states[-2].receiver
            assert states[-1].items == states[-2].items
        if h[-1].kind == EventKind.CANCELLED:
            assert h[-1].at - h[-2].at >= 60


def test_presale_deposit_then_final_payment_later(opening) -> None:
    scenario = load_scenario("baseline-8k")  # deposits by day, final payments from 21:00
    _, events = generate(scenario, window=("19:00", "21:00"))
    finals = {e.order.order_id: e for e in events if e.kind == EventKind.PRESALE_FINAL
              and e.order.created_at >= scenario.origin}
    deposits = {e.order.order_id: e for e in events if e.kind == EventKind.PAID
                and e.order.order_type == OrderType.PRESALE_DEPOSIT}
    assert finals and set(finals) <= set(deposits)
    for oid, final in finals.items():
        d = deposits[oid].order
        a = final.order.amounts
        assert final.at >= 21 * 3600 and final.order.order_type == OrderType.PRESALE_FINAL
        assert 0 < d.amounts.paid_fen < a.paid_fen == a.total_fen - a.discount_fen + a.freight_fen


def test_the_limited_sku_runs_out_in_the_surge_not_on_an_ordinary_day(opening) -> None:
    def demand(scenario, events) -> Counter:  # per merchant SKU, bundles expanded
        parts = scenario.expansions()
        wanted, seen = Counter(), set()
        for e in events:
            o = e.order
            if o is not None and o.status == OrderStatus.PAID and o.order_id not in seen:
                seen.add(o.order_id)
                for item in o.items:
                    for sku, n in parts[item.sku]:
                        wanted[sku] += n * item.quantity
        return wanted

    scenario, _, events = opening
    assert demand(scenario, events)["LT-GIFTBOX-D11"] > scenario.inventory()["LT-GIFTBOX-D11"]
    base = load_scenario("baseline-8k")
    wanted = demand(base, generate(base, window=("19:00", "20:00"))[1])
    assert all(wanted[sku] < stock for sku, stock in base.inventory().items())


def test_a_written_trace_reads_back_as_valid_orders(tmp_path, opening) -> None:
    _, header, events = opening
    path = tmp_path / "t.jsonl"
    write_trace(path, header, events[:3000])
    back_header, back = read_trace(path)
    assert back_header.scenario == "double11-42k" and back_header.window == ("00:00", "01:00")
    assert list(back) == events[:3000]  # read_trace validates every order


def test_dice_go_on_deterministically_when_a_row_runs_out() -> None:
    from sim.population import Dice, Mix

    def draws(key):
        d = Dice([0.25, 0.5], key)
        return [d.u() for _ in range(40)]

    first = draws((7, 1))
    assert first[:2] == [0.25, 0.5] and all(0 <= u < 1 for u in first)
    assert first == draws((7, 1)) and first[2:] != draws((7, 2))[2:]
    mix, d = Mix({"a": 1, "b": 3}, total=8, rest="none"), Dice([0.1, 0.2, 0.3, 0.6, 0.99])
    assert [mix.choose(d) for _ in range(5)] == ["a", "b", "b", "none", "none"]


# -- when the planted anomalies became observable ---------------------------------------------

def test_each_planted_code_says_when_it_became_observable(opening) -> None:
    _, _, events = opening
    first: dict[tuple[str, str], float] = {}
    created: dict[str, float] = {}
    for e in events:
        if e.order is None:
            continue
        created.setdefault(e.order.order_id, e.at)
        assert set(e.observable) == set(e.truth)
        for code in e.truth:
            first.setdefault((e.order.order_id, code), e.at)
            assert e.observable[code] == first[(e.order.order_id, code)] <= e.at
    assert {code for _, code in first} == {"incomplete_address", "remote_standard_express",
                                           "payment_mismatch", "duplicate_order",
                                           "invalid_phone"}
    for (oid, code), at in first.items():
        if code == "payment_mismatch":  # only once paid
            assert at > created[oid] or next(
                e for e in events if e.order and e.order.order_id == oid).kind == \
                EventKind.PRESALE_FINAL
        else:  # visible on the order as placed (a duplicate: when the twin is placed)
            assert at == created[oid], (oid, code)


def test_observable_survives_the_file(tmp_path, opening) -> None:
    _, header, events = opening
    planted = [e for e in events if e.truth][:50]
    write_trace(tmp_path / "t.jsonl", header, planted)
    back = list(read_trace(tmp_path / "t.jsonl")[1])
    assert back == planted and all(e.observable for e in back)


# -- the odd negatives: valid, labelled, deterministic -------------------------------------

ODD = {"rare_phone_prefix", "duplicate_window_edge", "remote_express", "renamed_district",
       "gift_zero_fen", "long_address", "no_district_city"}
COMMON_PREFIXES = {*(f"1{a}{b}" for a in "358" for b in "0123456789"),
                   "166", "173", "175", "176", "177", "178", "198", "199"}


def odd_orders(events) -> dict[str, tuple]:
    """order id -> (label, every event of it)."""
    label = {e.order.order_id: e.odd for e in events if e.odd}
    history = defaultdict(list)
    for e in events:
        if e.order is not None and e.order.order_id in label:
            history[e.order.order_id].append(e)
    return {oid: (label[oid], history[oid]) for oid in label}


def test_odd_clean_orders_are_labelled_and_valid_by_our_own_checks(opening) -> None:
    scenario, header, events = opening
    odd = odd_orders(events)
    looks = defaultdict(list)
    for e in events:
        if e.kind == EventKind.CREATED:
            looks[look(e.order)].append(e.order.created_at)
    labels = Counter()
    for oid, (label, history) in odd.items():
        assert len(label) == 1 and label[0] in ODD, label
        labels[label[0]] += 1
        assert history[0].kind == EventKind.CREATED and history[0].odd == label
        assert all(not e.truth and not e.observable for e in history), oid
        assert all(not e.odd for e in history[1:])
        o, r = history[0].order, history[0].order.receiver
        assert not incomplete(r) and not bad_phone(r.phone)
        kind = label[0]
        if kind == "rare_phone_prefix":
            assert r.phone[:3] not in COMMON_PREFIXES and r.phone[1] in "3456789"
        elif kind == "duplicate_window_edge":  # a look-alike placed 31 to 35 minutes before
            gaps = [(o.created_at - when).total_seconds() for when in looks[look(o)]]
            assert any(1800 + 60 <= g <= 1800 + 300 for g in gaps), gaps
            assert not any(0 < g <= 1800 for g in gaps)
        elif kind == "remote_express":
            assert r.province.startswith(REMOTE) and o.delivery.value == "express"
        elif kind == "renamed_district":
            assert r.district in {"临平区", "钱塘区", "富阳区", "临安区", "奉化区", "洞头区",
                                  "柯桥区", "上虞区", "光明区", "坪山区", "从化区", "增城区",
                                  "莱芜区", "钢城区", "鄠邑区", "高陵区", "溧水区", "高淳区",
                                  "姑苏区", "吴江区", "密云区", "延庆区", "崇明区", "长乐区",
                                  "海棠区", "吉阳区", "天涯区", "崖州区", "璧山区", "铜梁区",
                                  "潼南区", "荣昌区", "开州区", "梁平区", "武隆区",
                                  "堆龙德庆区", "达孜区", "高昌区", "伊州区"}
            assert r.district in division_table()[r.province][r.city]
        elif kind == "gift_zero_fen":
            assert any(i.price_fen == 0 for i in o.items)
            paid = history[1].order if len(history) > 1 else None
            assert paid is None or paid.status.value != "paid" or not mismatched(paid)
        elif kind == "long_address":
            assert len(r.detail) >= 40
        else:
            assert r.city in NO_DISTRICT and r.district == "" and r.street
        if o.delivery.value == "same_city":
            assert (r.province, r.city) == tuple(scenario.regions.warehouse)
        if r.province.startswith(REMOTE):
            assert o.delivery.value == "express" and o.channel.value != "douyin"
    assert set(labels) == ODD, labels
    share = len(odd) / header.meta["orders"]
    assert 0.01 <= share <= 0.02, share
    assert header.meta["odd"] == dict(sorted(labels.items()))
    assert header.meta["odd_orders"] == len(odd)


def test_the_oddities_leave_every_other_order_as_it_was() -> None:
    scenario = load_scenario("double11-42k")
    window = ("00:00", "00:20")
    _, events = generate(scenario, window=window)
    _, plain = generate(scenario.model_copy(update={"odd": {}}), window=window)
    assert not any(e.odd for e in plain)
    odd = set(odd_orders(events))
    assert odd
    def others(trace):
        return [e for e in trace if e.order is None or e.order.order_id not in odd]

    assert len(others(events)) > 0.95 * len(events)
    assert others(events) == others(plain)
    again = generate(scenario, window=window)[1]
    assert [e.odd for e in again] == [e.odd for e in events]  # deterministic
    other = generate(scenario, seed=12, window=window)[1]
    assert set(odd_orders(other)) != odd


def test_a_warehouse_in_a_city_without_districts_is_served(tmp_path) -> None:
    text = load_scenario("double11-42k").source.read_text(encoding="utf-8")
    for province, city in (("广东省", "东莞市"), ("广东省", "中山市"), ("海南省", "儋州市")):
        path = tmp_path / "here.toml"
        path.write_text(text.replace('warehouse = ["浙江省", "杭州市"]',
                                     f'warehouse = ["{province}", "{city}"]'), encoding="utf-8")
        scenario = load_scenario(path)
        _, events = generate(scenario, window=("00:00", "00:10"))
        local = [e.order for e in events if e.order and not e.truth
                 and e.order.delivery.value == "same_city"]
        assert local and all((o.receiver.city, o.receiver.district) == (city, "")
                             and o.receiver.street for o in local)
        wrong = [(found, truth) for found, truth in check_all(events) if found != truth]
        assert not wrong, wrong[:3]


# -- the catalogue (issue #20) ------------------------------------------------------------------
ID_SHAPES = {"tmall": ((12,), (13,)), "jd": ((11, 12), (11, 12)),  # (item id, SKU id) lengths
             "douyin": ((19,), (16, 17, 18, 19))}


def test_lines_carry_listing_ids_in_each_marketplaces_shape(opening) -> None:
    scenario, _, events = opening
    listings = {x.sku_id: x for x in scenario.shelf()}
    lines = Counter()
    for e in events:
        o = e.order
        if o is None:
            continue
        for i in o.items:
            x = listings[i.sku]  # every line is a listing of its own shop
            assert (x.channel, x.shop) == (o.channel.value, o.shop)
            assert (i.item_id, i.outer_sku) == (x.item_id, x.outer)
            item_len, sku_len = ID_SHAPES[x.channel]
            assert i.sku.isdigit() and i.item_id.isdigit() and i.sku[0] != "0"
            assert len(i.item_id) in item_len and len(i.sku) in sku_len, (x.channel, i)
            lines[bool(i.outer_sku), len(x.components) > 1 or x.components[0][1] > 1] += 1
    assert lines[(False, False)] and lines[(True, True)] and lines[(True, False)]


def test_the_catalogue_is_deterministic_and_shaped_like_a_merchants() -> None:
    scenario = load_scenario("double11-42k")
    shelf = scenario.shelf()
    assert shelf == load_scenario("double11-42k").shelf()  # ids do not depend on the run
    assert len({x.sku_id for x in shelf}) == len(shelf)  # a SKU id names one listing
    with_outer = sum(1 for x in shelf if x.outer) / len(shelf)
    assert 0.8 <= with_outer <= 0.9
    bundles = [x for x in shelf if len(x.components) > 1]
    packs = [x for x in shelf if len(x.components) == 1 and x.components[0][1] > 1]
    assert bundles and packs and all(x.outer == x.code for x in bundles + packs if x.outer)
    assert (("LT-CEIL-24W", 1), ("LT-BULB-E27-9W", 3)) in {x.components for x in bundles}
    item_of = {s["code"]: s["item"] for s in scenario.listing_specs()}
    ids = defaultdict(set)  # variants of one product share the marketplace item id
    for x in shelf:
        ids[(x.channel, x.shop, item_of[x.code])].add(x.item_id)
    assert all(len(v) == 1 for v in ids.values())
    assert len({next(iter(v)) for v in ids.values()}) == len(ids) < len(shelf)
    channels: dict[str, set] = defaultdict(set)
    for x in shelf:
        channels[x.components].add(x.channel)
    everywhere = [c for c, where in channels.items() if where == {"tmall", "jd", "douyin"}]
    assert len(everywhere) / len(channels) > 0.75
    skus = {s for x in shelf for s, _ in x.components}
    assert skus == set(scenario.inventory())
    assert all(s.startswith("LT-") for s in skus)
    # every single-SKU product but the limited gift box sells on all three marketplaces
    singles = {x.components[0][0] for x in shelf if x.single}
    three = {s for s in singles if channels[((s, 1),)] == {"tmall", "jd", "douyin"}}
    assert singles - three == {"LT-GIFTBOX-D11"}
