"""The published read model of loyalty: members' accounts (balance, pending, tier) to join on.

Read-only for everyone else (surveys break NPS down by tier); `patron.loyalty.service` writes
them. The import contracts forbid importing `patron.loyalty.tables` from outside.
"""

from patron.loyalty.tables import LoyaltyAccount

__all__ = ["LoyaltyAccount"]
