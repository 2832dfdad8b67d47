"""Orders and a candidate rule set for the shadow-run tests (app, API, actors)."""

from __future__ import annotations

from hub.domain.order import Buyer
from hub.domain.rules import default_ruleset
from tests.factories import order

# the candidate: Douyin live-room first buyers to a gift bench, JD orders held for review
CANDIDATE_RULES = """  - id: live-gift-bench
    precedence: 5
    when: {all: [{field: channel, eq: douyin}, {field: source, eq: live_room},
                 {field: buyer.tags, contains: new_first_order}]}
    then: {packing_group: live-gift-bench}
  - id: jd-review
    precedence: 6
    when: {field: channel, eq: jd}
    then: {hold: rule_hold}
"""


def candidate_text(version: int = 2) -> str:
    text = default_ruleset().text.replace("version: 1\n", f"version: {version}\n", 1)
    return text.replace("rules:\n", "rules:\n" + CANDIDATE_RULES, 1)


def live_new_buyer(n: int):
    return order(n, channel="douyin", order_id=f"D{300000 + n}", source="live_room",
                 source_detail="room-88", buyer=Buyer(id=f"fan-{n}", tags=("new_first_order",)))


def mixed_orders(start: int = 0) -> tuple[list, int, int]:
    """(orders, how many the candidate moves to another group, how many it holds)."""
    live = [live_new_buyer(start + i) for i in range(6)]
    jd = [order(start + 100 + i, channel="jd", order_id=f"J{400000 + start + i}")
          for i in range(4)]
    plain = [order(start + 200 + i) for i in range(10)]
    return live + jd + plain, len(live), len(jd)
