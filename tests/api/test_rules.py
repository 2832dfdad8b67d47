"""The rule console: versions, check with line numbers, publish (two people), roll back,
dry-run."""

from __future__ import annotations

from hub.domain.rules import default_ruleset, load_ruleset
from tests.api.conftest import AUTH, BOB, publish

BAD = """version: 2
name: bad
weights: {order_type: 0.5, customer_tier: 0.30, region: 0.25, inventory: 0.10}
rules:
  - id: x
    precedence: 1
    when: {field: nosuchfield, eq: 1}
    then: {lane: P9}
"""


def with_rules(version: int, rules: str) -> str:
    """The default rule set at ``version`` with ``rules`` before its own rules."""
    text = default_ruleset().text.replace("version: 1\n", f"version: {version}\n", 1)
    return text.replace("rules:\n", "rules:\n" + rules, 1)


def test_versions_and_text(hub):
    body = hub.client.get("/api/rules").json()
    assert body["current"] == 1
    assert [(v["version"], v["published_by"], v["author"], v["in_force"])
            for v in body["versions"]] == [(1, "default", "default", True)]
    one = hub.client.get("/api/rules/1").json()
    assert one["text"] == default_ruleset().text and one["name"] == "default"
    assert hub.client.get("/api/rules/99").status_code == 404


def test_check_lists_every_problem_with_its_line(hub):
    r = hub.client.post("/api/rules/check", json={"text": BAD},
                        headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False
    assert [(p["line"], p["file"]) for p in body["problems"]] == [
        (3, "<upload>"), (7, "<upload>"), (8, "<upload>")]
    assert "sum to 1" in body["problems"][0]["reason"]
    assert "nosuchfield" in body["problems"][1]["reason"]
    good = hub.client.post("/api/rules/check", json={"text": with_rules(2, "")},
                        headers=AUTH).json()
    assert (good["ok"], good["version"], good["rules"], good["problems"]) == (True, 2, 2, [])


def test_bad_rule_file_is_refused_and_the_running_rules_stay(hub):
    r = publish(hub.client, BAD)
    assert r.status_code == 422
    body = r.json()
    assert [p["line"] for p in body["problems"]] == [3, 7, 8]
    assert "unchanged" in body["detail"]
    assert hub.published == []
    assert hub.client.get("/api/rules").json()["current"] == 1
    assert hub.ledger.get_ruleset(None).version == 1


def test_a_version_not_newer_is_refused(hub):
    stale = with_rules(1, "  - {id: extra, precedence: 1, when: {field: channel, eq: jd}, "
                          "then: {lane: P1}}\n")
    r = publish(hub.client, stale)
    assert r.status_code == 422
    [problem] = r.json()["problems"]
    assert problem["line"] == stale.splitlines().index("version: 1") + 1
    assert "not newer" in problem["reason"]


def test_publish_needs_a_token_and_puts_the_rules_in_force(hub):
    text = with_rules(2, "")
    assert hub.client.post("/api/rules/drafts", json={"text": text}).status_code == 401
    assert hub.client.post("/api/rules/drafts", json={"text": text},
                           headers={"Authorization": "Bearer bad"}).status_code == 403
    assert hub.published == []
    r = publish(hub.client, text, author=AUTH, approver=BOB)
    assert r.status_code == 201
    assert r.json() == {"version": 2, "previous": 1, "by": "bob", "author": "alice"}
    assert hub.published == [(2, text)]
    listed = hub.client.get("/api/rules").json()
    assert listed["current"] == 2
    assert [v["version"] for v in listed["versions"]] == [2, 1]
    assert (listed["versions"][0]["author"], listed["versions"][0]["approver"]) == (
        "alice", "bob")


def test_direct_publish_is_gone_and_publishes_nothing(hub):
    r = hub.client.post("/api/rules/publish", json={"text": with_rules(2, "")}, headers=AUTH)
    assert r.status_code == 410 and "/api/rules/drafts" in r.json()["detail"]
    assert hub.published == [] and hub.ledger.get_ruleset(None).version == 1


def test_rollback_publishes_the_old_rules_as_the_next_version(hub):
    v2 = with_rules(2, "  - {id: jd-fast, precedence: 1, when: {field: channel, eq: jd}, "
                       "then: {lane: P0}}\n")
    assert publish(hub.client, v2).status_code == 201
    assert hub.client.post("/api/rules/rollback", json={"version": 1}).status_code == 401
    r = hub.client.post("/api/rules/rollback", json={"version": 1}, headers=AUTH)
    assert r.status_code == 201
    assert r.json() == {"version": 3, "previous": 2, "by": "alice"}
    version, text = hub.published[-1]
    restored, original = load_ruleset(text), default_ruleset()
    assert version == restored.version == 3
    assert [rule.id for rule in restored.rules] == [rule.id for rule in original.rules]
    assert "rollback to v1 by alice" in text
    assert hub.client.post("/api/rules/rollback", json={"version": 42},
                           headers=AUTH).status_code == 404


def test_dry_run_counts_match_a_hand_computed_case(hub):
    # Seeded: four tmall orders (shipped P3, fast P0 same-city by vip-same-city-fast, held P3
    # incomplete_address, open P3) and one douyin order (P3). The candidate:
    #  - douyin-review (precedence 1): douyin -> hold rule_hold: the douyin order's hold
    #    changes, its lane and group do not;
    #  - tmall-p1 (precedence 5): tmall -> lane P1. With hit policy "first" it now beats
    #    vip-same-city-fast, so all four tmall orders change lane, and their packing group
    #    (lane-P3 -> lane-P1, same-city -> lane-P1); the held order stays held.
    candidate = with_rules(2, (
        "  - {id: douyin-review, precedence: 1, when: {field: channel, eq: douyin}, "
        "then: {hold: rule_hold}}\n"
        "  - {id: tmall-p1, precedence: 5, when: {field: channel, eq: tmall}, "
        "then: {lane: P1}}\n"))
    r = hub.client.post("/api/rules/dry-run", json={"text": candidate, "n": 100},
                        headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["version"], body["baseline_version"], body["orders"]) == (2, 1, 5)
    assert body["changed"] == {"lane": 4, "packing_group": 4, "hold": 1, "any": 5}
    fast = next(e for e in body["examples"] if e["order_id"] == hub.seeded.orders["fast"].order_id)
    assert fast["before"] == {"lane": "P0", "packing_group": "same-city", "hold_reason": None}
    assert fast["after"] == {"lane": "P1", "packing_group": "lane-P1", "hold_reason": None}
    douyin = next(e for e in body["examples"] if e["channel"] == "douyin")
    assert (douyin["before"]["hold_reason"], douyin["after"]["hold_reason"]) == (
        None, "rule_hold")
    assert hub.published == [] and hub.ledger.get_ruleset(None).version == 1
    # the last 2 orders stored are "open" (tmall) and "douyin"
    last_two = hub.client.post("/api/rules/dry-run", json={"text": candidate, "n": 2},
                        headers=AUTH).json()
    assert last_two["changed"] == {"lane": 1, "packing_group": 1, "hold": 1, "any": 2}


def test_dry_run_of_a_bad_file_answers_its_problems(hub):
    r = hub.client.post("/api/rules/dry-run", json={"text": BAD, "n": 10},
                        headers=AUTH)
    assert r.status_code == 422
    assert [p["line"] for p in r.json()["problems"]] == [3, 7, 8]
