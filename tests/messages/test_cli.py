"""`patron messages test`: a template rendered with the sample and sent to the SMTP sink."""

from __future__ import annotations

from typer.testing import CliRunner

from patron.cli import app
from patron.db import make_engine, make_sessionmaker, transaction
from patron.messages import service
from patron.migrate import upgrade
from tests.messages.conftest import NOW


def test_messages_test_sends_one_message_to_the_address(tmp_path, sink):
    url = f"sqlite:///{tmp_path / 'patron.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        t = service.create_template(
            session=s,
            data=service.TemplateInput(
                name="hello",
                variants=[
                    service.VariantInput(subject="Hi {{ customer.first_name }}", body="<p>Yo</p>")
                ],
            ),
            now=NOW,
        )
    engine.dispose()
    env = {
        "PATRON_DATABASE_URL": url,
        "PATRON_SECRET_KEY": "x",
        "PATRON_MESSAGES_EMAIL_CHANNEL": "smtp",
        "PATRON_SMTP_HOST": "127.0.0.1",
        "PATRON_SMTP_PORT": str(sink.port),
        "PATRON_SMTP_SECURITY": "none",
    }
    run = lambda *args: CliRunner().invoke(app, [str(a) for a in args], env=env)  # noqa: E731
    sent = run("messages", "test", "--template", t.id, "--to", "me@example.com")
    assert sent.exit_code == 0, sent.output
    [received] = sink.received
    assert received.rcpt == ["me@example.com"] and received.message["Subject"] == "[test] Hi Ada"
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    missing = run("messages", "test", "--template", 99, "--to", "me@example.com")
    assert missing.exit_code == 2 and "template 99 does not exist" in missing.output
    bad = run("messages", "test", "--template", t.id, "--to", "nobody")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
