"""The validator and scorer replicas take a batch as orders or as the bytes the router
pickled once for both pools, and answer the same."""

from hub.actors.workers import Scorer, Validator, for_pools
from hub.domain.rules import default_ruleset
from tests.factories import order


def test_a_batch_pickled_once_is_checked_and_scored_as_the_orders_themselves() -> None:
    rules = default_ruleset()
    ref = (rules.version, rules.text)
    batch = [order(n) for n in range(1, 6)] + [order(1).model_copy(update={"order_id": "dup"})]
    inventory = {f"SKU-{n}": 0 if n == 3 else 50 for n in range(7)}
    validator, scorer = Validator(), Scorer()
    blob = for_pools(batch)
    checked = validator.check(batch, inventory, [], ref)
    assert validator.check(blob, inventory, [], ref) == checked
    assert any(checked)  # the batch has findings to compare (out of stock, duplicate)
    assert scorer.score(blob, inventory, ref) == scorer.score(batch, inventory, ref)
