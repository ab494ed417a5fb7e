"""SQL of membership conditions: the referenced segment's rules, compiled inline."""

from __future__ import annotations

# The referenced segment's rule tree is compiled inline (not its stored memberships), so the
# result is always current and one query still answers the whole tree.
COMPILERS = {"segment": lambda c, ctx: ctx.inline_segment(c.segment_id)}
