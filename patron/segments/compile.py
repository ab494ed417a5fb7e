"""Compile a rule tree into one parameterised SQLAlchemy Core query over customers.

Each condition is a two-valued boolean over the customers table and outer joins the context
collects once per query (aggregates, scores, one grouped subquery per event or order
condition), so and / or / not are plain boolean algebra and the database joins set-wise.
With `customer_ids`, the customers and every subquery are restricted to those customers,
which makes re-evaluating a segment for the few customers an order touched cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, case, false, func, not_, or_, select
from sqlalchemy.sql import ColumnElement, FromClause

from patron.customers.read import Customer
from patron.errors import InvalidInput
from patron.segments.conditions import contributed
from patron.segments.rules import Group, Node
from patron.segments.sql import COMPILERS

CUSTOMERS = Customer.__table__
# Deep enough for any hand-built chain; each level compiles its rules into the one query.
MAX_INLINE_DEPTH = 32
# Joined subqueries per query, well inside SQLite's 64 tables a join (customers included).
MAX_JOINS = 48


@dataclass
class Context:
    """What conditions compile against: now, the joins so far, the customer restriction."""

    now: datetime
    customer_ids: list[int] | None = None
    resolve: Callable[[int], Node | None] | None = None
    customers: FromClause = CUSTOMERS
    joins: dict[str, FromClause] = field(default_factory=dict)
    inlining: list[int] = field(default_factory=list)

    def outer_join(self, key: str, selectable, *, once: bool = False) -> FromClause:
        """The joined table or subquery under key (joined once; on customer_id = id).

        once: compute the subquery once, as a materialised CTE on PostgreSQL. Otherwise a
        parallel plan may hash a grouped subquery in every worker, recounting it each time.
        The CTE nests in the customers query, so statements built on it still start with
        INSERT or DELETE (SQLite's driver reports no rowcount for one starting with WITH).
        """
        if key not in self.joins:
            name = f"j{len(self.joins)}"
            if once and isinstance(selectable, Select):
                cte = selectable.cte(name, nesting=True)
                selectable = cte.prefix_with("MATERIALIZED", dialect="postgresql")
            elif isinstance(selectable, Select):
                selectable = selectable.subquery(name)
            self.joins[key] = selectable
        return self.joins[key]

    def joins_full(self, key: str) -> bool:
        """Whether a new join under key would pass the budget (conditions then correlate)."""
        return key not in self.joins and len(self.joins) >= MAX_JOINS

    def key(self, condition) -> str:
        """A join key for a condition: equal conditions share one subquery."""
        return json.dumps(condition.model_dump(mode="json"), sort_keys=True)

    def restrict(self, column) -> list:
        """Filters limiting column to the restricted customers (none when unrestricted)."""
        return [] if self.customer_ids is None else [column.in_(self.customer_ids)]

    def inline_segment(self, segment_id: int):
        """The boolean of another segment's rules, compiled into this query."""
        if segment_id in self.inlining:
            raise InvalidInput(f"segment {segment_id} refers to itself through other segments")
        if len(self.inlining) >= MAX_INLINE_DEPTH:
            chain = " → ".join(str(i) for i in [*self.inlining, segment_id])
            raise InvalidInput(
                f"segments may refer to each other at most {MAX_INLINE_DEPTH} deep "
                f"(segment {chain})"
            )
        tree = self.resolve(segment_id) if self.resolve else None
        if tree is None:
            return false()
        self.inlining.append(segment_id)
        try:
            return _compile(tree, self, None, "")
        finally:
            self.inlining.pop()


@dataclass
class Compiled:
    """A compiled tree: its boolean, the context (joins) and the leaves for explanations."""

    where: ColumnElement
    ctx: Context
    leaves: list[tuple[str, Node, ColumnElement]]

    def from_clause(self) -> FromClause:
        """customers outer-joined with everything the conditions need."""
        joined = self.ctx.customers
        for selectable in self.ctx.joins.values():
            joined = joined.outerjoin(
                selectable, selectable.c.customer_id == self.ctx.customers.c.id
            )
        return joined

    def filters(self) -> list:
        """The WHERE terms: the tree and the customer restriction."""
        return [self.where, *self.ctx.restrict(self.ctx.customers.c.id)]

    def members(self) -> Select:
        """SELECT customer_id of every matching customer."""
        return (
            select(self.ctx.customers.c.id.label("customer_id"))
            .select_from(self.from_clause())
            .where(*self.filters())
        )

    def count(self) -> Select:
        """SELECT count(*) of the matching customers."""
        return select(func.count()).select_from(self.from_clause()).where(*self.filters())

    def explain(self, limit: int) -> Select:
        """The first matching customers with one 0/1 column per leaf saying if it holds."""
        c = self.ctx.customers.c
        flags = [
            case((expr, 1), else_=0).label(f"leaf_{i}")
            for i, (_p, _n, expr) in enumerate(self.leaves)
        ]
        return (
            select(c.id, c.external_id, c.email, c.first_name, c.last_name, *flags)
            .select_from(self.from_clause())
            .where(*self.filters())
            .order_by(c.id)
            .limit(limit)
        )


def compile_tree(
    tree: Node,
    *,
    now: datetime,
    customer_ids=None,
    resolve: Callable[[int], Node | None] | None = None,
) -> Compiled:
    """Compile a parsed tree; resolve(segment_id) gives the tree of a referenced segment."""
    ids = None if customer_ids is None else sorted({int(i) for i in customer_ids})
    ctx = Context(now=now, customer_ids=ids, resolve=resolve)
    leaves: list = []
    where = _compile(tree, ctx, leaves, "rules")
    return Compiled(where, ctx, leaves)


def _compile(node: Node, ctx: Context, leaves: list | None, path: str):
    """Compile a node; record leaves (and not-groups) outside not-groups for explanations."""
    if isinstance(node, Group):
        inner = None if node.type == "not" else leaves
        parts = [
            _compile(child, ctx, inner, f"{path}.children[{i}]")
            for i, child in enumerate(node.children)
        ]
        if node.type == "and":
            expr = and_(*parts)
        else:
            expr = or_(*parts) if node.type == "or" else not_(or_(*parts))
        if node.type == "not" and leaves is not None:
            leaves.append((path, node, expr))
        return expr
    compile_ = COMPILERS.get(node.type) or contributed()[node.type].compile
    expr = compile_(node, ctx)
    if leaves is not None:
        leaves.append((path, node, expr))
    return expr
