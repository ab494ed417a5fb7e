"""Schemathesis over /openapi.json with every check, in-process (ASGI), on both databases.

Each operation gets a bounded number of schema-valid and schema-invalid examples, sent with
an admin key. No answer may be a server error, and every answer must match the documented
status codes, content types and bodies. Key revocation runs last so the key stays valid.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow

EXAMPLES = 3
REVOKES_THE_KEY = "DELETE /api/keys/{key_id}"
# Business rules the schema cannot carry (a rule tree's grammar, Segment's "userId or
# anonymousId", a real email address) are refused with 400 (tracking) or 422 (the rest):
# the positive-data check takes those as refusals, not as the spec and server disagreeing.
ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]
# Invalid data must be refused; a body over the 1 MiB limit is refused with 413, which
# schemathesis' default list leaves out.
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]


def _config(key: str) -> SchemathesisConfig:
    """Schemathesis' configuration: the key for the bearer scheme, the accepted statuses."""
    return SchemathesisConfig.from_dict(
        {
            "auth": {"openapi": {"HTTPBearer": {"bearer": key}}},
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
                "negative_data_rejection": {"expected-statuses": REFUSED},
            },
        }
    )


@pytest.fixture
def fuzzed(db):
    """The schema loaded from the app, calls authenticated with an admin key."""
    with transaction(db.sessions) as session:
        key = auth_service.create_key(session=session, name="f", scopes="admin", now=utcnow())[1]
    app = create_app(db.settings(), engine=db.engine)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(key))


def _operations(schema) -> list:
    """Every operation of the schema, the one that revokes keys last."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: op.label == REVOKES_THE_KEY)


def test_the_api_conforms_to_its_schema_and_never_fails(fuzzed):
    schema = fuzzed
    load_all_checks()
    checks = CHECKS.get_all()
    failures: list[str] = []
    operations = _operations(schema)
    assert len(operations) > 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                case.call_and_validate(checks=checks)

            try:
                run()
            except BaseException as exc:  # a failure group may be a BaseExceptionGroup
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    assert failures == [], "\n\n".join(failures)
