"""The published read model of analytics: scores and lifecycle history other capabilities query.

Read-only for everyone else (segments compose SQL over scores); `patron.analytics.service`
writes them. The import contracts forbid importing `patron.analytics.tables` from outside.
"""

from patron.analytics.tables import CustomerScore, LifecycleChange, ScoreRun

__all__ = ["CustomerScore", "LifecycleChange", "ScoreRun"]
