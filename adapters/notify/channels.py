"""Delivery to webhook, Slack, PagerDuty (over the shared httpx client) and email (SMTP, in a worker thread)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import httpx
import trio

from adapters.notify import payloads
from domain.alerting import Alert, AlertChannel, ChannelKind
from ports.alerting import DeliveryError


class ChannelNotifier:
    def __init__(self, client: httpx.AsyncClient, timeout_s: float = 5.0) -> None:
        self._client = client
        self._timeout = timeout_s

    async def send(self, channel: AlertChannel, alert: Alert, *, escalation: bool = False) -> None:
        if channel.kind is ChannelKind.EMAIL:
            await self._email(channel, alert, escalation)
            return
        if channel.kind is ChannelKind.SLACK:
            body = payloads.slack(alert, escalation)
        elif channel.kind is ChannelKind.PAGERDUTY:
            body = payloads.pagerduty(alert, escalation, channel.routing_key)
        else:
            body = payloads.webhook(alert, escalation)
        try:
            response = await self._client.post(channel.url, json=body, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{channel.name}: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"{channel.name}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise DeliveryError(f"{channel.name}: HTTP {response.status_code}", transient=False)

    async def _email(self, channel: AlertChannel, alert: Alert, escalation: bool) -> None:
        subject, text = payloads.email(alert, escalation)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = channel.email_from
        message["To"] = ", ".join(channel.email_to)
        message.set_content(text)

        def deliver() -> None:
            with smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=self._timeout) as smtp:
                smtp.send_message(message)

        try:
            await trio.to_thread.run_sync(deliver)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{channel.name}: {type(exc).__name__}: {exc}") from exc
