"""What ``orderhub run --demo`` starts beside the hub: the emulator set replaying the
Double-11 opening hour (a fresh seed each time) at a ten-fold speed-up."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.clock import ScaledClock
from hub.config import HubSettings

DEMO_DIR = Path("var/demo")


def start_demo_emulators(speedup: float = 10.0) -> tuple[Any, ScaledClock, datetime]:
    """The running emulator set, the shared business clock, and business time zero."""
    from sim.emulators.suite import EmulatorSuite, SuiteConfig
    from sim.generator import generate
    from sim.scenario import load_scenario
    from sim.trace import write_trace

    scenario = load_scenario("double11-42k")
    header, events = generate(scenario, seed=int(time.time()) % 100_000,
                              window=("00:00", "01:00"))
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    trace = DEMO_DIR / "trace.jsonl"
    write_trace(trace, header, events)
    clock = ScaledClock(scenario.origin, speedup, wall_origin=time.time() + 10)
    config = SuiteConfig.model_validate({"trace": trace, "speedup": speedup,
                                         "erp": {"stock": scenario.inventory()},
                                         "wms": {"default_workers": 40}})
    return EmulatorSuite(config, clock=clock).start(), clock, scenario.origin


def demo_settings(settings: HubSettings, suite: Any) -> HubSettings:
    """``settings`` pointed at the emulators (their channels, back offices and robot);
    the environment was read into ``settings`` already and is not read again."""
    return HubSettings.load(environ=False, **{**settings.model_dump(), **suite.hub_settings()})
