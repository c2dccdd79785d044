"""A generic webhook: POSTs each post as JSON to a URL the newsroom names (Slack-style relays,
in-house systems, test stand-ins). An `Idempotency-Key` header lets the receiver drop repeats."""

from __future__ import annotations

from typing import Any, ClassVar

from publisher.channels.base import Channel, ChannelError, Outgoing, Receipt, TokenOptions
from publisher.channels.http import RATE_LIMIT_WAIT, HttpSession, by_status, retry_after
from publisher.channels.secrets import secret


class WebhookOptions(TokenOptions):
    url: str = ""
    timeout: float = 10.0

    required: ClassVar[tuple[str, ...]] = ("url",)


class Webhook(Channel):
    """Posts JSON `{post_id, channel, text, link, fields}` to `url`."""

    type = "webhook"
    display_name = "Webhook"
    platform = False
    order = 900
    limit = 10_000
    unit = "characters"
    concurrency = 4
    Options = WebhookOptions
    config: WebhookOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url = self.config.url
        self.http = HttpSession(self.name, self.config.timeout)

    def measure(self, text: str) -> int:
        return len(text)

    def _headers(self, message: Outgoing) -> dict[str, str]:
        headers = {"Idempotency-Key": f"publisher-post-{message.post_id}"}
        if self.config.token_env:
            headers["Authorization"] = f"Bearer {secret(self.name, self.config.token_env)}"
        return headers

    def send(self, message: Outgoing) -> Receipt:
        if not self.url:
            raise ChannelError("permanent", f"{self.name}: no url configured", never_sent=True)
        body = {
            "post_id": message.post_id,
            "channel": self.name,
            "text": message.text,
            "link": message.link,
            "fields": dict(message.fields),
        }
        response = self.http.request("POST", self.url, json=body, headers=self._headers(message))
        status = response.status_code
        if 200 <= status < 300:
            answer = response.json() if "json" in response.headers.get("Content-Type", "") else {}
            return Receipt(remote_id=_text(answer.get("id")), permalink=_text(answer.get("url")))
        wait = retry_after(response.headers.get("Retry-After"), RATE_LIMIT_WAIT)
        # A receiver may drop a repeated key, but need not: a lost answer stays unclear.
        raise by_status(status, f"{self.name}: HTTP {status}", wait=wait)

    def close(self) -> None:
        self.http.close()


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None
