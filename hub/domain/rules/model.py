"""What a checked rule file becomes: ``RuleSet`` with its ``Rule``s, and the ``RuleError``
that lists every problem of a refused file as ``FILE:LINE: reason`` lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from hub.domain.rules.conditions import Cond
from hub.errors import OrderHubError

if TYPE_CHECKING:
    from hub.domain.rules.evaluator import Evaluator


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class RuleError(OrderHubError):
    """A rule file that was refused; ``problems`` holds every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class AnomalyPolicy:
    severity: str  # info | warn | critical
    group: str  # the group to alert, e.g. "cs-address"
    action: str  # hold | remedy | alert


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    precedence: int
    when: Cond
    then: dict[str, str]  # lane, packing_group, hold, alert, delivery
    line: int = 0
    description: str = ""


@dataclass(frozen=True)
class RuleSet:
    """A checked rule set. ``rules`` are in evaluation order (precedence, then file order);
    ``evaluator`` is compiled on first use and cached (it is not pickled)."""

    version: int
    name: str
    hit_policy: str
    weights: dict[str, float]
    scores: dict[str, dict[str, float]]
    lanes: dict[str, float]
    low_stock: int
    remote_regions: tuple[str, ...]
    remote_remedy: dict[str, str]
    duplicate_window_minutes: int
    anomalies: dict[str, AnomalyPolicy]
    rules: tuple[Rule, ...]
    text: str = field(default="", repr=False)
    filename: str = "<rules>"

    @cached_property
    def evaluator(self) -> Evaluator:
        from hub.domain.rules.evaluator import Evaluator

        return Evaluator(self.rules, self.hit_policy)

    def lane_for(self, score: float) -> str:
        """The lane a priority score falls in: ``lane_for(96) == "P0"``."""
        for lane in ("P0", "P1", "P2"):
            if score >= self.lanes[lane]:
                return lane
        return "P3"

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("evaluator", None)
        return state
