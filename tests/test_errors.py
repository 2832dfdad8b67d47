"""One error tree: every exception class the hub defines derives from OrderHubError."""

import importlib
import inspect
import pkgutil

import pytest
from starlette.exceptions import HTTPException

import hub
from hub.errors import OrderHubError

# Private signals raised and caught inside one module; they never reach a caller.
CONTROL_FLOW = {
    "hub.domain.adapters.fast_path.Irregular",
    "hub.domain.rules.loader._TooLarge",
}


def hub_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class defined at the top of a module in the ``hub`` package."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(hub.__path__, prefix="hub."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


EXCEPTIONS = hub_exceptions()


def test_the_walk_finds_the_hubs_errors() -> None:
    assert "hub.app.records.LedgerError" in EXCEPTIONS
    assert "hub.connectors.retry.ServerError" in EXCEPTIONS
    assert "hub.config.ConfigError" in EXCEPTIONS
    assert len(EXCEPTIONS) >= 25


def test_the_known_list_names_only_classes_that_exist() -> None:
    assert not CONTROL_FLOW - set(EXCEPTIONS), "a listed class is gone"


# HTTP answers raised inside the ASGI layer (a starlette HTTPException) are not errors
HTTP_ANSWERS = {name for name, cls in EXCEPTIONS.items() if issubclass(cls, HTTPException)}


@pytest.mark.parametrize("name", sorted(set(EXCEPTIONS) - CONTROL_FLOW - HTTP_ANSWERS))
def test_every_hub_exception_derives_from_the_root(name: str) -> None:
    assert issubclass(EXCEPTIONS[name], OrderHubError), f"{name} has no OrderHubError root"

