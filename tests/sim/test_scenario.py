"""Scenario files: every shipped one loads; a bad one is refused naming the file and field."""

import os
import shutil

import pytest

from sim.scenario import SCENARIOS, ScenarioError, env_folders, load_scenario, parse_window

SHIPPED = ("baseline-8k", "double11-42k", "surge-100k", "fault-drill")


def test_every_shipped_scenario_loads() -> None:
    on_disk = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    assert set(SHIPPED) <= set(on_disk)
    for name in on_disk:
        s = load_scenario(name)
        assert s.name == name and s.source == SCENARIOS / f"{name}.toml"
        assert abs(sum(s.anomalies.values()) - 0.073) < 1e-9
        urgent = sum(share * s.mix_of(channel).get(kind, 0) / sum(s.mix_of(channel).values())
                     for channel, c in s.channels.items() for share in [c.share]
                     for kind in ("live_flash", "presale_final"))
        assert 0.15 < urgent / sum(c.share for c in s.channels.values()) < 0.25, name
        assert s.inventory() == {k.sku: k.stock for k in s.skus}
    d11 = load_scenario("double11-42k")
    assert d11.hourly_weights[0] == max(d11.hourly_weights)  # the midnight opening spike
    assert max(d11.hourly_weights[20:23]) > 2 * d11.hourly_weights[4]  # live-stream evening
    drill = load_scenario("fault-drill")
    assert {f.target for f in drill.faults} == {"tmall", "jd", "douyin", "wms"}
    assert {f.kind for f in drill.faults} == {"outage", "throttle", "error5xx"}
    assert drill.rule_file(drill.rule_changes[0]).is_file()


def test_found_by_path_and_in_extra_folders(tmp_path, monkeypatch) -> None:
    copy = tmp_path / "my-day.toml"
    text = (SCENARIOS / "baseline-8k.toml").read_text(encoding="utf-8")
    copy.write_text(text.replace('name = "baseline-8k"', 'name = "my-day"'), encoding="utf-8")
    assert load_scenario(copy).name == "my-day"
    assert load_scenario(str(copy)).orders_per_day == 8000
    with pytest.raises(ScenarioError, match="no such scenario"):
        load_scenario("my-day")
    assert load_scenario("my-day", folders=[tmp_path]).source == copy
    # the environment is read by the commands (env_folders), not by the loader
    monkeypatch.setenv("ORDERHUB_SCENARIOS", str(tmp_path))
    with pytest.raises(ScenarioError, match="no such scenario"):
        load_scenario("my-day")
    assert load_scenario("my-day", folders=env_folders(os.environ)).source == copy


def test_extra_folders_come_from_orderhub_scenarios(tmp_path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert env_folders({"ORDERHUB_SCENARIOS": f"{first}{os.pathsep}{second}"}) == \
        [first, second]
    assert env_folders({}) == []


def test_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match=r"no-such-day\.toml: no such scenario "
                                            r"\(known: .*double11-42k"):
        load_scenario("no-such-day")


BAD = [
    ("orders_per_day = 42000", 'orders_per_day = "many"', "orders_per_day: Input should be"),
    ("push = false", "push = false\ncolour = 'red'", "colour: Extra inputs"),
    ("share = 0.30", "share = -0.30", "channels.jd.share: Input should be greater"),
    ("invalid_phone = 0.011", "invalid_phone = 0.011\nout_of_stock_paid = 0.01",
     "anomalies: cannot plant"),
    ("3.5, 4.0, 4.0,\n", "3.5, 4.0,\n", "hourly_weights: List should have at least 24"),
    ('window = ["00:00", "02:00"]', 'window = ["02:00", "01:00"]', "window: window 02:00-01:00"),
    ('window = ["00:00", "02:00"]', 'window = ["00:00", "25:00"]', "window: '25:00' is not"),
    ("presale_deposit = 0.02 }", "presale_deposit = 0.02, gift = 0.01 }",
     "channels.jd.order_types: jd cannot carry"),
    ("sources = { shortvideo = 0.3 }", "sources = { search = 0.3 }",
     "channels.douyin.sources: douyin cannot carry"),
    ('live_rooms = ["jdlive-5501"]', "live_rooms = []", "channels.jd.live_rooms: live_flash"),
    ("same_city = 0.08", "same_city = 0.08\nairmail = 0.1", "delivery: unknown"),
    ("repeat = 0.20", "repeat = 0.90", "buyers: new_first_order \\+ repeat is more than 1"),
    ("price_fen = 59900", "price_fen = 0", "skus.2.price_fen: Input should be greater"),
    ('sku = "LT-CEIL-36W"', 'sku = "LT-CEIL-24W"', "skus: SKU codes must be distinct"),
    ('{ sku = "LT-STRIP-10M", quantity = 1 }', '{ sku = "LT-STRIP-20M", quantity = 1 }',
     "listings.12.components.0.sku: unknown merchant SKU 'LT-STRIP-20M'"),
    ('{ sku = "LT-BULB-E27-9W", quantity = 3 }', '{ sku = "LT-BULB-E27-9W", quantity = 0 }',
     "listings.7.components.0.quantity: Input should be greater than or equal to 1"),
    ('components = [{ sku = "LT-SWITCH-2G", quantity = 1 }]', "components = []",
     "listings.14.components: List should have at least 1"),
    ('components = [{ sku = "LT-SWITCH-2G", quantity = 1 }]',
     'components = [{ sku = "LT-SWITCH-2G" }, { sku = "LT-SWITCH-2G", quantity = 2 }]',
     "listings.14.components.1.sku: 'LT-SWITCH-2G' twice"),
    ('code = "CEIL-36W"', 'code = "CEIL-24W"', "listings.1.code: 'CEIL-24W' is listed twice"),
    ('channels = ["tmall", "jd"]', 'channels = ["tmall", "pdd"]',
     "listings.10.channels.1: Input should be"),
    ("price_fen = 2990", "price_fen = 0", "listings.7.price_fen: Input should be greater"),
    ("outer_codes = 0.85", "outer_codes = 1.5", "outer_codes: Input should be less than"),
    ("by_outer_code = 0.10", "by_outer_code = -1", "by_outer_code: Input should be greater"),
    ("[anomalies]", "[[faults]]\nat = '00:10'\ntarget = 'ups'\nkind = 'outage'\n"
                    "duration_s = 60\n\n[anomalies]", "faults.0.target: Input should be"),
    ("[anomalies]", "[[faults]]\nat = '00:10'\ntarget = 'jd'\nkind = 'meteor'\n"
                    "duration_s = 60\n\n[anomalies]", "faults.0.kind: unknown fault kind"),
    ("[anomalies]", "[[rule_changes]]\nat = '00:30'\nfile = 'rules/none.yaml'\n\n[anomalies]",
     r"rule_changes\.0\.file: cannot read .*none\.yaml"),
    ("seed = 11", "seed = = 11", "not valid TOML: .*line 6"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD, ids=[b[2][:30] for b in BAD])
def test_a_bad_file_names_itself_and_the_field(tmp_path, old, new, message) -> None:
    text = (SCENARIOS / "double11-42k.toml").read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"bad\.toml: (.|\n)*({message})"):
        load_scenario(bad)


def test_a_rule_change_must_keep_what_the_truth_relies_on(tmp_path) -> None:
    shutil.copytree(SCENARIOS / "rules", tmp_path / "rules")
    rules = tmp_path / "rules" / "surge-v2.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "remote_regions: [新疆, 西藏, 青海, 内蒙古, 甘肃, 宁夏]", "remote_regions: [新疆]"),
        encoding="utf-8")
    drill = tmp_path / "drill.toml"
    shutil.copy(SCENARIOS / "fault-drill.toml", drill)
    with pytest.raises(ScenarioError, match=r"drill\.toml: rule_changes\.0\.file: .*remote"):
        load_scenario(drill)
    rules.write_text("version: [", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"rule_changes\.0\.file: .*not a valid rule set"):
        load_scenario(drill)


def test_parse_window() -> None:
    assert parse_window("00:00-02:00") == ("00:00", "02:00")
    assert parse_window(" 19:00 - 24:00 ") == ("19:00", "24:00")
    with pytest.raises(ScenarioError, match="expected HH:MM-HH:MM"):
        parse_window("00:00")


BAD_CREWS = [
    ("default_workers = 10", "default_workers = 0", "warehouse.default_workers: Input should be"),
    ("workers = 70", "workers = -1", "warehouse.groups.lane-P2.workers: Input should be"),
    ("workers = 70", "workers = 7.5", "warehouse.groups.lane-P2.workers: Input should be"),
    ("workers = 70", 'workers = 70\nshifts = [["20:00", "08:00"]]',
     "warehouse.groups.lane-P2.shifts: shift 20:00-08:00 does not run forward"),
    ("workers = 70", 'workers = 70\nshifts = [["08:00", "25:00"]]',
     "warehouse.groups.lane-P2.shifts: '25:00' is not a time of day"),
    ("workers = 70", 'workers = 70\nshifts = [["08:00"]]', "warehouse.groups.lane-P2.shifts.0"),
    ("workers = 70", "workers = 70\nshifts = []", "warehouse.groups.lane-P2.shifts: List should"),
    ("workers = 70", "workers = 70\nbreaks = 2", "warehouse.groups.lane-P2.breaks: Extra"),
    ("same_city = 2\n", "same_city = 0\n", r"promises: \['same_city'\]: hours must be more"),
    ("same_city = 2\n", "same_city = 2\nteleport = 1\n", "promises: unknown"),
    ('warehouse = ["浙江省", "杭州市"]', 'warehouse = ["浙江省", "东莞市"]',
     "regions.warehouse: the generator cannot serve"),
    ('warehouse = ["浙江省", "杭州市"]', 'warehouse = ["甘肃省", "嘉峪关市"]',
     "regions.warehouse: the generator cannot serve .*remote"),
    ("[anomalies]", "[odd]\nlong_address = 0.5\n\n[anomalies]", "odd: shares must be"),
    ("[anomalies]", "[odd]\nugly = 0.01\n\n[anomalies]", "odd: unknown"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_CREWS, ids=[b[2][:40] for b in BAD_CREWS])
def test_bad_crews_promises_warehouse_city_and_odd_shares_are_named(tmp_path, old, new,
                                                                     message) -> None:
    test_a_bad_file_names_itself_and_the_field(tmp_path, old, new, message)


def test_promises_by_order_type_then_delivery() -> None:
    s = load_scenario("double11-42k")
    assert s.promise_hours("normal", "same_city") == 2
    assert s.promise_hours("normal", "express") == 24
    assert s.promise_hours("gift", "standard") == 48
    assert s.promise_hours("live_flash", "same_city") == 24  # the order type wins
    assert s.promise_hours("presale_final", "express") == 48


def test_promises_default_for_the_services_a_file_leaves_out(tmp_path) -> None:
    text = (SCENARIOS / "double11-42k.toml").read_text(encoding="utf-8")
    path = tmp_path / "few.toml"
    path.write_text(text.replace("same_city = 2\nexpress = 24\n", "normal = 12\n", 1),
                    encoding="utf-8")
    s = load_scenario(path)
    assert s.promise_hours("normal", "same_city") == 12
    assert s.promise_hours("gift", "same_city") == 2 and s.promise_hours("gift", "express") == 24


def test_the_warehouse_crews_are_wms_config_fields() -> None:
    d11 = load_scenario("double11-42k").warehouse
    assert d11["default_workers"] == 10
    assert d11["groups"]["lane-P2"] == {"workers": 70}
    assert set(d11["groups"]) == {"lane-P0", "same-city", "live-new-buyer", "lane-P1",
                                  "lane-P2", "lane-P3"}
    base = load_scenario("baseline-8k").warehouse
    assert base["groups"]["lane-P3"]["shifts"] == [["08:00", "16:00"], ["16:00", "24:00"]]
    assert "live-flash" in load_scenario("fault-drill").warehouse["groups"]
    for name in SHIPPED:  # every packing group of the rule sets the scenario uses has a crew
        assert load_scenario(name).warehouse["groups"].keys() >= {"lane-P2", "same-city"}


def test_a_listing_on_a_channel_the_scenario_does_not_sell_on_is_named(tmp_path) -> None:
    text = (SCENARIOS / "double11-42k.toml").read_text(encoding="utf-8")
    start, end = text.index("[channels.jd]"), text.index("[channels.douyin]")
    text = text[:start] + text[end:]  # no JD today, but a listing still names it
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.toml: listings\.10\.channels: \['jd'\] "
                                            "not among the scenario's channels"):
        load_scenario(bad)


def test_the_catalogue_the_erp_starts_with() -> None:
    s = load_scenario("double11-42k")
    catalogue = s.catalogue()
    assert {x["sku"] for x in catalogue["skus"]} == set(s.inventory())
    assert all(x["name"] and x["name"] != x["sku"] for x in catalogue["skus"])
    shelf = s.shelf()
    assert len(catalogue["listings"]) == sum(1 for x in shelf if x.in_erp) < len(shelf)
    entry = next(e for e in catalogue["listings"] if len(e["components"]) == 2)
    assert set(entry) == {"channel", "shop", "item_id", "sku_id", "components"}
    assert entry["components"] == [{"sku": "LT-CEIL-24W", "quantity": 1},
                                   {"sku": "LT-BULB-E27-9W", "quantity": 3}]
    parts = s.expansions()
    assert len(parts) == len(shelf) and parts[entry["sku_id"]] == (
        ("LT-CEIL-24W", 1), ("LT-BULB-E27-9W", 3))
    # left out of the ERP: a single SKU whose outer code names it
    assert all(x.single and x.outer == x.components[0][0] for x in shelf if not x.in_erp)


def test_without_listings_each_sku_is_a_listing_of_itself(tmp_path) -> None:
    text = (SCENARIOS / "double11-42k.toml").read_text(encoding="utf-8")
    bare = tmp_path / "bare.toml"
    bare.write_text(text[:text.index("[[listings]]")], encoding="utf-8")
    s = load_scenario(bare)
    shelf = s.shelf()
    assert len(shelf) == len(s.skus) * 4  # 4 shops: tmall 2, jd 1, douyin 1
    assert {x.components for x in shelf} == {((k.sku, 1),) for k in s.skus}
