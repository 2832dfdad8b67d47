"""The builder's block model (hub/api/static/rules/blocks.js), run in headless Chromium
on generated block documents: opening a document as blocks and saving it back keeps
every rule's meaning (its condition decides the same on every order tried) and every
other key; moving a condition between groups or a rule between places loses nothing and
adds nothing."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from hub.api.app import create_app
from hub.app.rules import RuleConsole
from hub.config import ApiConfig
from hub.ledger import open_ledger
from sim.emulators.server import LoopbackServer
from tests.api.seed import seed
from tests.browser.cdp import Browser, find_chromium

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)")

VALUES = {"channel": ["douyin", "tmall", "jd"], "source": ["live_room", "search", ""],
          "buyer.tags": ["new_first_order", "vip_old"], "amounts.paid_fen": [0, 5000, 90000]}
OPS = {"channel": ["eq", "ne", "in", "not_in", "exists"], "source": ["eq", "ne", "exists"],
       "buyer.tags": ["contains", "exists"], "amounts.paid_fen": ["gt", "ge", "lt", "le", "eq"]}


@st.composite
def leaves(draw: Any) -> dict:
    field = draw(st.sampled_from(sorted(VALUES)))
    op = draw(st.sampled_from(OPS[field]))
    if op == "exists":
        value: Any = draw(st.booleans())
    elif op in ("in", "not_in"):
        value = draw(st.lists(st.sampled_from(VALUES[field]), min_size=1, max_size=3,
                              unique=True))
    else:
        value = draw(st.sampled_from(VALUES[field]))
    return {"field": field, "op": op, "value": value}


conds = st.recursive(leaves(), lambda inner: st.one_of(
    st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda x: {"not": x}, inner)), max_leaves=8)


@st.composite
def documents(draw: Any) -> dict:
    n = draw(st.integers(1, 4))
    lines = st.none() | st.integers(1, 90)
    rules = [{"id": f"r{i}", "precedence": (i + 1) * 10, "line": draw(lines),
              "when": draw(st.none() | conds), "then": {"packing_group": f"g{i}"},
              **({"description": "说明"} if i % 2 else {})} for i in range(n)]
    return {"settings": {"version": 3, "name": "x", "lanes": {"P0": 80, "P1": 60, "P2": 40}},
            "hit_policy": draw(st.sampled_from(["first", "collect"])), "rules": rules}


def holds(cond: dict | None, facts: dict) -> bool:
    if cond is None:
        return True
    if "all" in cond:
        return all(holds(c, facts) for c in cond["all"])
    if "any" in cond:
        return any(holds(c, facts) for c in cond["any"])
    if "not" in cond:
        return not holds(cond["not"], facts)
    have, op, want = facts.get(cond["field"]), cond["op"], cond["value"]
    if op == "exists":
        return (have not in (None, "", [])) == want
    if op == "contains":
        return want in (have or [])
    if op in ("in", "not_in"):
        return (have in want) == (op == "in")
    if op in ("eq", "ne"):
        return (have == want) == (op == "eq")
    return {"gt": have > want, "ge": have >= want, "lt": have < want, "le": have <= want}[op]


def orders(n: int = 60) -> list[dict]:
    rnd = random.Random(7)
    return [{"channel": rnd.choice(VALUES["channel"]), "source": rnd.choice(VALUES["source"]),
             "buyer.tags": rnd.sample(VALUES["buyer.tags"], rnd.randint(0, 2)),
             "amounts.paid_fen": rnd.choice([0, 4999, 5000, 5001, 90000, 120000])}
            for _ in range(n)]


def leaf_count(cond: dict | None) -> Counter:
    if cond is None:
        return Counter()
    if "field" in cond:
        return Counter([json.dumps(cond, sort_keys=True)])
    inner = cond.get("all") or cond.get("any") or [cond["not"]]
    return sum((leaf_count(c) for c in inner), Counter())


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("blocks")
    ledger = open_ledger(tmp / "ledger.sqlite3")
    seeded = seed(ledger)
    app = create_app(ledger, writer=ledger, rules=RuleConsole(ledger, ledger, clock=seeded.clock),
                     api=ApiConfig(token=SecretStr("x:y")), clock=seeded.clock)
    with LoopbackServer(app, name="blocks") as server, Browser.start(tmp / "profile") as browser:
        page = browser.new_page()
        page.navigate(server.url + "/")
        page.wait_for("document.readyState === 'complete'")
        page.evaluate("import('/static/rules/blocks.js').then((m) => { window.B = m; })")
        yield page
    ledger.close()


def js(page, expression: str) -> Any:
    return json.loads(page.evaluate(f"JSON.stringify({expression})"))


CHECKS = settings(max_examples=120, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])


@CHECKS
@given(doc=documents())
def test_open_and_save_keep_every_rule_meaning(page, doc):
    back = js(page, f"B.toDocument(B.fromDocument({json.dumps(doc)}))")
    assert back["settings"] == doc["settings"] and back["hit_policy"] == doc["hit_policy"]
    assert len(back["rules"]) == len(doc["rules"])
    for before, after in zip(doc["rules"], back["rules"], strict=True):
        assert {k: v for k, v in after.items() if k != "when"} == \
            {k: v for k, v in before.items() if k != "when"}
        for facts in orders():
            assert holds(after["when"], facts) == holds(before["when"], facts), (before, after)


@CHECKS
@given(doc=documents(), pick=st.randoms(use_true_random=False))
def test_moves_lose_nothing(page, doc, pick):
    model = js(page, f"B.fromDocument({json.dumps(doc)})")
    groups = js(page, f"B.groups({json.dumps(model)})")
    node_paths = js(page, f"""(() => {{ const m = {json.dumps(model)}; const out = [];
        const walk = (n, p) => {{ if (p.at.length) out.push(p); if (B.isGroup(n))
          n.items.forEach((c, i) => walk(c, {{rule: p.rule, at: [...p.at, i]}})); }};
        m.rules.forEach((r, i) => walk(r.when, {{rule: i, at: []}})); return out; }})()""")
    if not node_paths:
        return
    source = pick.choice(node_paths)
    target = pick.choice(groups)["path"]
    moved = js(page, f"""(() => {{ const m = {json.dumps(model)};
        const src = {json.dumps(source)}, dst = {json.dumps(target)};
        const node = B.nodeAt(m, src), group = B.nodeAt(m, dst);
        const others = group.items.filter((x) => x !== node);
        const to = B.moveNode(m, src, dst, {pick.randint(0, 3)});
        if (!to) return {{to, doc: B.toDocument(m)}};
        const parent = B.nodeAt(m, {{rule: to.rule, at: to.at.slice(0, -1)}});
        const rest = parent.items.filter((x) => x !== node);
        return {{to, doc: B.toDocument(m), landed: B.nodeAt(m, to) === node && parent === group,
          beside: rest.length === others.length && rest.every((x, i) => x === others[i])}};
        }})()""")
    inside = source["rule"] == target["rule"] and target["at"][:len(source["at"])] == source["at"]
    assert (moved["to"] is None) == inside  # a group never moves into itself
    if moved["to"] is not None:  # it landed in the group it was dropped on, beside its items
        assert moved["landed"] and moved["beside"], moved
    before = sum((leaf_count(r.get("when")) for r in doc["rules"]), Counter())
    after = sum((leaf_count(r["when"]) for r in moved["doc"]["rules"]), Counter())
    assert after == before

    order = js(page, f"""(() => {{ const m = {json.dumps(model)};
        B.moveRule(m, {pick.randrange(len(doc["rules"]))}, {pick.randrange(len(doc["rules"]))});
        return m.rules.map((r) => [r.id, r.precedence]); }})()""")
    assert sorted(i for i, _ in order) == sorted(r["id"] for r in doc["rules"])
    assert [p for _, p in order] == [(i + 1) * 10 for i in range(len(order))]
