"""The examples in the docstrings of hub/ and sim/ run, so they stay true. Modules whose
examples start Ray run in the shared Ray session's absence only (they start their own)."""

import doctest
import importlib
import pkgutil

import pytest

import hub
import sim

# These examples start and stop a Ray of their own, which must not meet the test
# session's: they run where no test has started Ray (`python -m pytest --doctest-modules`).
OWN_RAY = {"hub.actors.pool"}


def _modules() -> list[str]:
    names = []
    for package in (hub, sim):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(info.name)
    return sorted(names)


def _with_examples() -> list[str]:
    found = []
    for name in _modules():
        module = importlib.import_module(name)
        if doctest.DocTestFinder().find(module) and any(
                t.examples for t in doctest.DocTestFinder().find(module)):
            found.append(name)
    return found


MODULES = _with_examples()


def test_many_modules_have_examples() -> None:
    assert len(MODULES) >= 40


@pytest.mark.parametrize("name", [m for m in MODULES if m not in OWN_RAY])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
    assert result.attempted > 0
