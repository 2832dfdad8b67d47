"""Shared fixtures. Ray starts at most once per test session."""

from __future__ import annotations

import os

import pytest

SOAK_ENV = "ORDERHUB_SOAK"  # set to 1 (``make soak``) to run the tests marked ``soak``


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long live runs (marked ``soak``) keep ``make test`` inside its 20 minutes; ``make
    soak`` runs them. Selecting them by ``-m soak`` runs them too."""
    if os.environ.get(SOAK_ENV) == "1" or "soak" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason=f"a soak: `make soak` (or {SOAK_ENV}=1) runs it")
    for item in items:
        if item.get_closest_marker("soak") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ray_session():
    import ray

    if not ray.is_initialized():
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={"env_vars": {"PYTHONPATH": os.getcwd()}},
        )
    yield ray
    ray.shutdown()
