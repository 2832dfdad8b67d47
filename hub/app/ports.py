"""The ports the use cases work against: small typed Protocols, split by role.

A shell implements them (the ledger's stores, the Ray actor handles, the router);
``tests/fakes.py`` holds in-memory fakes so a use case is unit-tested without Ray
or a database.
"""

from __future__ import annotations


# -- taking in orders, deciding them, warehouse status ---------------------------------------



# -- operator actions and rule versions -----------------------------------------------------
