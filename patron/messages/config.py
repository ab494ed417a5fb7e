"""Sending settings of messages: every PATRON_* variable the channels and the sender read.

Read from the environment when a worker or a page needs them (`from_env`), so tests and the
CLI can pass their own. `SETTINGS` is what the manifest declares and the README documents.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr

from patron.config import Setting
from patron.errors import InvalidInput
from patron.messages import rules

EMAIL_CHANNELS = ("capture", "smtp")
NO_CAP = rules.FrequencyCap(limit=0)
SMTP_SECURITY = ("starttls", "ssl", "none")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "PATRON_MESSAGES_EMAIL_CHANNEL",
        "capture",
        "How email leaves: `capture` keeps every message in the dashboard mailbox "
        "(/messages/mailbox) and sends nothing; `smtp` sends through PATRON_SMTP_HOST.",
    ),
    Setting("PATRON_MESSAGES_FROM", "Patron <patron@localhost>", "From address of every email."),
    Setting("PATRON_MESSAGES_REPLY_TO", "", "Reply-To address of every email (none when empty)."),
    Setting(
        "PATRON_MESSAGES_PUBLIC_URL",
        "http://127.0.0.1:8000",
        "Public base URL of Patron, used in the links of messages (one-click unsubscribe).",
    ),
    Setting(
        "PATRON_MESSAGES_UNSUBSCRIBE_MAILTO",
        "",
        "Address of the `mailto:` List-Unsubscribe of marketing mail; the From address when empty.",
    ),
    Setting(
        "PATRON_MESSAGES_UNCERTAIN",
        "never_resend",
        "What happens to a message whose worker stopped between sending and recording it: "
        "`never_resend` marks it uncertain (nobody gets it twice, some may get it never), "
        "`resend` queues it again (nobody misses it, some may get it twice).",
    ),
    Setting(
        "PATRON_MESSAGES_LEASE_SECONDS",
        "120",
        "Seconds a worker holds the messages it claimed; renewed while it sends.",
    ),
    Setting("PATRON_MESSAGES_BATCH", "100", "Messages a sender claims, renders and sends at once."),
    Setting(
        "PATRON_MESSAGES_SENDERS",
        "2",
        "Sender jobs woken in parallel for bulk (marketing) mail; each holds one connection.",
    ),
    Setting(
        "PATRON_MESSAGES_TRACK_OPENS",
        "false",
        "`true` adds an open pixel (/o/{token}.gif) to email; off by default (privacy).",
    ),
    Setting(
        "PATRON_MESSAGES_CLICK_ATTRIBUTION_DAYS",
        "5",
        "An order within this many days of a click on a message is its conversion.",
    ),
    Setting(
        "PATRON_MESSAGES_DELIVERY_ATTRIBUTION_DAYS",
        "1",
        "An order within this many days of a message's delivery (no click) is its conversion.",
    ),
    Setting(
        "PATRON_MESSAGES_CAP_LIMIT",
        "0",
        "Most marketing messages (broadcasts and journeys together) a customer gets in "
        "PATRON_MESSAGES_CAP_DAYS days; 0 for no frequency cap.",
    ),
    Setting(
        "PATRON_MESSAGES_DOUBLE_OPT_IN",
        "false",
        "`true`: a new email consent grant (API, preference centre, import not marked "
        "`confirmed`) waits as `pending` until the customer follows the confirmation mail.",
    ),
    Setting("PATRON_MESSAGES_CAP_DAYS", "7", "Days of the frequency cap's sliding window."),
    Setting(
        "PATRON_MESSAGES_CAP_POLICY",
        "defer",
        "A marketing message over the cap: `defer` (sent when the window allows, reason kept) "
        "or `skip` (skipped with reason frequency_cap). Priority > 0 is exempt.",
    ),
    Setting(
        "PATRON_MESSAGES_QUIET_HOURS",
        "",
        "Local hours (in each customer's time zone) in which marketing messages wait, e.g. "
        "`21:00-08:00`; messages are deferred to the end of the window. Empty: none.",
    ),
    Setting("PATRON_SMTP_HOST", "localhost", "SMTP server that `smtp` sends through."),
    Setting("PATRON_SMTP_PORT", "587", "Port of the SMTP server."),
    Setting(
        "PATRON_SMTP_SECURITY",
        "starttls",
        "`starttls` (upgrade a plain connection), `ssl` (TLS from the start, port 465) or `none`.",
    ),
    Setting("PATRON_SMTP_USERNAME", "", "SMTP login (no authentication when empty)."),
    Setting("PATRON_SMTP_PASSWORD", "", "SMTP password."),
    Setting(
        "PATRON_SMTP_RATE_PER_SECOND",
        "0",
        "Most messages one sender sends per second over SMTP; 0 for no limit.",
    ),
    Setting("PATRON_SMTP_TIMEOUT_SECONDS", "30", "Seconds an SMTP command may take."),
    Setting("PATRON_DKIM_DOMAIN", "", "Domain (d=) of the DKIM signature; no signing when empty."),
    Setting("PATRON_DKIM_SELECTOR", "patron", "Selector (s=) of the DKIM signature."),
    Setting(
        "PATRON_DKIM_KEY_FILE", "", "PEM file of the RSA private key that signs outgoing mail."
    ),
    Setting(
        "PATRON_MESSAGES_WEBHOOK_URL",
        "",
        "Where the `webhook` channel (SMS, push) POSTs each message as signed JSON.",
    ),
    Setting(
        "PATRON_MESSAGES_WEBHOOK_SECRET",
        "",
        "`whsec_` secret that signs the webhook channel's requests (Standard Webhooks).",
    ),
)
_DEFAULTS = {s.name: s.default for s in SETTINGS}


@dataclass(frozen=True)
class MessageConfig:
    """Resolved sending settings of one process."""

    secret_key: str
    email_channel: str = "capture"
    from_address: str = "Patron <patron@localhost>"
    reply_to: str = ""
    public_url: str = "http://127.0.0.1:8000"
    unsubscribe_mailto: str = ""
    uncertain_policy: str = "never_resend"
    lease_seconds: int = 120
    batch: int = 100
    senders: int = 2
    cap: rules.FrequencyCap = NO_CAP
    quiet: rules.QuietHours | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_rate_per_second: float = 0.0
    smtp_timeout_seconds: float = 30.0
    dkim_domain: str = ""
    dkim_selector: str = "patron"
    dkim_key_file: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    track_opens: bool = False
    click_days: int = 5
    delivery_days: int = 1

    def __post_init__(self):
        if self.email_channel not in EMAIL_CHANNELS:
            raise InvalidInput(f"PATRON_MESSAGES_EMAIL_CHANNEL must be one of {EMAIL_CHANNELS}")
        if self.smtp_security not in SMTP_SECURITY:
            raise InvalidInput(f"PATRON_SMTP_SECURITY must be one of {SMTP_SECURITY}")
        if self.uncertain_policy not in rules.UNCERTAIN_POLICIES:
            raise InvalidInput(
                f"PATRON_MESSAGES_UNCERTAIN must be one of {rules.UNCERTAIN_POLICIES}"
            )

    @property
    def from_email(self) -> str:
        """The bare address of From."""
        return parseaddr(self.from_address)[1] or "patron@localhost"

    @property
    def domain(self) -> str:
        """The domain of Message-IDs: the From address's."""
        return self.from_email.rpartition("@")[2] or "localhost"

    @property
    def mailto(self) -> str:
        """Where `mailto:` unsubscribes go."""
        return self.unsubscribe_mailto or self.from_email


def _number(env: Mapping[str, str], name: str, kind=int):
    """A numeric setting, naming it when it is not a number."""
    value = env.get(name, _DEFAULTS[name])
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, got {value!r}")


def from_env(secret_key: str, env: Mapping[str, str] | None = None, **overrides) -> MessageConfig:
    """The sending settings from the environment (or a mapping), with explicit overrides."""
    env = os.environ if env is None else env

    def text(name: str) -> str:
        return env.get(name, _DEFAULTS[name]).strip()

    values = dict(
        secret_key=secret_key,
        email_channel=text("PATRON_MESSAGES_EMAIL_CHANNEL"),
        from_address=text("PATRON_MESSAGES_FROM"),
        reply_to=text("PATRON_MESSAGES_REPLY_TO"),
        public_url=text("PATRON_MESSAGES_PUBLIC_URL").rstrip("/"),
        unsubscribe_mailto=text("PATRON_MESSAGES_UNSUBSCRIBE_MAILTO"),
        uncertain_policy=text("PATRON_MESSAGES_UNCERTAIN"),
        lease_seconds=_number(env, "PATRON_MESSAGES_LEASE_SECONDS"),
        batch=max(1, _number(env, "PATRON_MESSAGES_BATCH")),
        senders=max(1, _number(env, "PATRON_MESSAGES_SENDERS")),
        cap=rules.FrequencyCap(
            limit=_number(env, "PATRON_MESSAGES_CAP_LIMIT"),
            days=_number(env, "PATRON_MESSAGES_CAP_DAYS"),
            policy=text("PATRON_MESSAGES_CAP_POLICY"),
        ),
        quiet=rules.parse_quiet_hours(text("PATRON_MESSAGES_QUIET_HOURS")),
        smtp_host=text("PATRON_SMTP_HOST"),
        smtp_port=_number(env, "PATRON_SMTP_PORT"),
        smtp_security=text("PATRON_SMTP_SECURITY"),
        smtp_username=text("PATRON_SMTP_USERNAME"),
        smtp_password=env.get("PATRON_SMTP_PASSWORD", ""),
        smtp_rate_per_second=_number(env, "PATRON_SMTP_RATE_PER_SECOND", float),
        smtp_timeout_seconds=_number(env, "PATRON_SMTP_TIMEOUT_SECONDS", float),
        dkim_domain=text("PATRON_DKIM_DOMAIN"),
        dkim_selector=text("PATRON_DKIM_SELECTOR"),
        dkim_key_file=text("PATRON_DKIM_KEY_FILE"),
        webhook_url=text("PATRON_MESSAGES_WEBHOOK_URL"),
        webhook_secret=text("PATRON_MESSAGES_WEBHOOK_SECRET"),
        track_opens=text("PATRON_MESSAGES_TRACK_OPENS").lower() in ("1", "true", "yes", "on"),
        click_days=_number(env, "PATRON_MESSAGES_CLICK_ATTRIBUTION_DAYS"),
        delivery_days=_number(env, "PATRON_MESSAGES_DELIVERY_ATTRIBUTION_DAYS"),
    )
    values.update(overrides)
    return MessageConfig(**values)


def description(config: MessageConfig) -> dict[str, str]:
    """What is configured, without secrets (for a settings page or `messages test`)."""
    shown = {
        "email channel": config.email_channel,
        "from": config.from_address,
        "uncertain policy": config.uncertain_policy,
        "frequency cap": f"{config.cap.limit} in {config.cap.days} days ({config.cap.policy})"
        if config.cap.limit
        else "off",
        "quiet hours": f"{config.quiet.start:%H:%M}-{config.quiet.end:%H:%M}"
        if config.quiet
        else "off",
        "DKIM": f"{config.dkim_selector}._domainkey.{config.dkim_domain}"
        if config.dkim_domain and config.dkim_key_file
        else "off",
    }
    if config.email_channel == "smtp":
        auth = "with login" if config.smtp_username else "no login"
        shown["smtp"] = f"{config.smtp_host}:{config.smtp_port} ({config.smtp_security}, {auth})"
    return shown
