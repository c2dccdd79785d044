"""WhatsApp (Cloud API): `*bold*` headline, bullets, the link on its own line so WhatsApp shows
its preview; 4096 characters, counted conservatively in UTF-16 units.

WhatsApp Channels have no public posting API: the Cloud API sends to opted-in numbers
(`POST /{version}/{phone-number-id}/messages`), one message and one delivery record per
recipient. Outside the 24-hour customer-service window only an approved template may be sent:
`message = "template"` always sends the configured template, and with `message = "text"` a
recipient refused for the window (131047) gets the template instead when one is configured.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from publisher.articles import Article
from publisher.channels.base import (
    NOTICE,
    Channel,
    ChannelError,
    Finding,
    Outgoing,
    Receipt,
    Teaser,
)
from publisher.channels.graph import GraphClient, GraphOptions, token_findings
from publisher.channels.secrets import secret
from publisher.channels.text import share_query, utf16_length

if TYPE_CHECKING:
    import aiohttp

TOKEN_ENV = "WHATSAPP_TOKEN"
OUTSIDE_WINDOW = "131047"
_E164 = re.compile(r"^\+?[1-9]\d{6,14}$")


class TemplateOptions(BaseModel):
    """An approved message template whose body takes the headline and the link as {{1}}, {{2}}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    language: str = "de"
    # The template's text as Meta approved it ({{1}} the headline, {{2}} the link), for the
    # desk's preview of what readers outside the 24-hour window get.
    body: str | None = None


class WhatsAppOptions(GraphOptions):
    phone_number_id: str | None = None
    recipients: tuple[str, ...] = ()
    message: Literal["text", "template"] = "text"
    preview_url: bool = True
    template: TemplateOptions | None = None
    # Words a reader sends to subscribe or unsubscribe (any case, spaces around ignored), and
    # the answers; a reply left unset is the catalogue's, in the channel's language, and an
    # empty one sends nothing.
    # Messages a second: the Cloud API allows 80 per business number by default (up to 1,000
    # once Meta raises it), https://developers.facebook.com/docs/whatsapp/throughput
    mps: int = Field(default=80, ge=1, le=1000)
    subscribe_keywords: tuple[str, ...] = ("START", "ANMELDEN")
    unsubscribe_keywords: tuple[str, ...] = ("STOP", "ABMELDEN")
    subscribed_reply: str | None = None
    unsubscribed_reply: str | None = None
    # A message cannot be recalled: when its article is withdrawn, everyone who got it is sent
    # a short notice instead; readers outside the 24-hour window get `notice_template` (an
    # approved template whose body takes the headline as {{1}}).
    withdraw_notice: bool = False
    notice_template: TemplateOptions | None = None

    # Recipients may be configured (a short list) or subscribe (`publisher subscribers`).
    required: ClassVar[tuple[str, ...]] = ("phone_number_id",)

    @field_validator("recipients")
    @classmethod
    def _numbers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for number in value:
            if not _E164.match(number.replace(" ", "")):
                raise ValueError(f"{number!r} is not a phone number in international format")
        return tuple(number.replace(" ", "") for number in value)


class WhatsApp(Channel):
    """Sends to opted-in WhatsApp numbers."""

    type = "whatsapp"
    display_name = "WhatsApp"
    order = 30
    share_rank = 1
    icon = (
        "M12 2a10 10 0 0 0-8.6 15.1L2 22l5-1.3A10 10 0 1 0 12 2zm0 18.2c-1.5 "
        "0-3-.4-4.3-1.2l-.3-.2-3 .8.8-2.9-.2-.3A8.2 8.2 0 1 1 12 "
        "20.2zm4.5-6.1c-.2-.1-1.5-.7-1.7-.8s-.4-.1-.6.1l-.8 1c-.1.2-.3.2-.5.1a6.7 6.7 0 0 "
        "1-3.3-2.9c-.2-.4.2-.4.7-1.3.1-.2 0-.3 0-.4l-.8-1.8c-.2-.5-.4-.4-.6-.4h-.5a1 1 0 0 "
        "0-.7.3 3 3 0 0 0-.9 2.2 5.2 5.2 0 0 0 1.1 2.8 11.9 11.9 0 0 0 4.6 4c1.7.7 2.4.8 "
        "3.2.7a2.8 2.8 0 0 0 1.8-1.3 2.3 2.3 0 0 0 .2-1.3c-.1-.1-.2-.2-.5-.3z"
    )
    preview_css = (
        ".pv-whatsapp{background:#d9fdd3;border-radius:8px;padding:.6em .8em;max-width:95%;"
        "box-shadow:0 1px .5px rgba(0,0,0,.13)}.pv-whatsapp .pv-img{display:block;width:100%;"
        "max-height:200px;object-fit:cover;border-radius:6px;margin-block-end:.4em}"
    )
    limit = 4096
    unit = "characters"
    # Each recipient is a call of its own; a few posts may fan out at once.
    concurrency = 2
    subscribable = True
    # The Cloud API has no numbers per message but its statuses: sent, delivered, read.
    results_from_statuses = True
    card_fetchers = ("whatsapp",)
    Options = WhatsAppOptions
    config: WhatsAppOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = GraphClient(self.name, self.api_base, self.config)

    def measure(self, text: str) -> int:
        return utf16_length(text)

    def headline(self, text: str) -> str:
        # An asterisk inside would end the bold early, so such headlines stay plain.
        return text if "*" in text else f"*{text}*"

    def link(self, url: str, label: str) -> str:
        return f"{label}: {url}" if label else url

    def fields(self, article: Any, text: str, link: str) -> dict[str, Any]:
        return {"headline": article.headline}

    def share_url(self, headline: str, teaser: Teaser) -> str:
        return "https://wa.me/?" + share_query(text=f"{headline} {teaser.link}")

    def preview_html(self, text: str) -> str:
        """WhatsApp's *bold* and _italic_, as its bubble shows them (the text escaped first)."""
        html = escape(text)
        html = re.sub(r"\*([^*\n]+)\*", r"<strong>\1</strong>", html)
        html = re.sub(r"(?<!\w)_([^_\n]+)_(?!\w)", r"<em>\1</em>", html)
        return html.replace("\n", "<br>")

    def preview(self, text: str, article: Article) -> str:
        image = self.preview_image(article) if self.config.preview_url else ""
        return f'<div class="pv-whatsapp">{image}{self.preview_html(text)}</div>'

    def template_preview(self, text: str, article: Article) -> str | None:
        template = self.config.template
        if template is None:
            return None
        found = re.search(r"https?://\S+", text)
        link = found.group(0) if found else article.url
        headline = " ".join(article.headline.split())
        if template.body:
            body = template.body.replace("{{1}}", headline).replace("{{2}}", link)
            return f'<div class="pv-whatsapp pv-template">{self.preview_html(body)}</div>'
        shown = escape(f"„{template.name}“ ({template.language}): {{{{1}}}} = {headline}")
        return (
            f'<div class="pv-whatsapp pv-template"><p>{shown}<br>{{{{2}}}} = '
            f"{escape(link)}</p></div>"
        )

    def targets(self) -> tuple[str, ...]:
        return self.config.recipients

    def messages_per_second(self) -> float:
        return float(self.config.mps)

    def _token(self) -> str:
        return secret(self.name, self.config.token_env or TOKEN_ENV)

    def send(self, message: Outgoing) -> Receipt:
        body, instead = self._bodies(message)
        token = self._token()
        try:
            return self._receipt(self._post(body, token))
        except ChannelError as exc:
            if exc.code == OUTSIDE_WINDOW and instead is not None:
                return self._receipt(self._post(instead, token))
            raise

    async def send_async(self, message: Outgoing, session: aiohttp.ClientSession) -> Receipt:
        body, instead = self._bodies(message)
        token = self._token()
        try:
            return self._receipt(await self._post_async(session, body, token))
        except ChannelError as exc:
            if exc.code == OUTSIDE_WINDOW and instead is not None:
                return self._receipt(await self._post_async(session, instead, token))
            raise

    def notices_withdrawal(self) -> bool:
        return self.config.withdraw_notice

    def _bodies(self, message: Outgoing) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """What goes out to the message's reader, and what goes instead when WhatsApp refuses
        it for the 24-hour window: the template alone when configured so or when the reader is
        outside the window, else the text with the template (if any) to fall back on. A
        withdrawal's notice has its own template."""
        if not message.recipient:
            raise ChannelError("permanent", f"{self.name}: no recipient", never_sent=True)
        if message.fields.get(NOTICE):
            notice = self.config.notice_template
            instead = self._template_body(message, notice, []) if notice else None
            if not message.free_form and instead is not None:
                return instead, None
            return self._text_body(message), instead
        if self.config.message == "template" or (not message.free_form and self.config.template):
            return self._template_body(message), None
        instead = self._template_body(message) if self.config.template else None
        return self._text_body(message), instead

    def _text_body(self, message: Outgoing) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient,
            "type": "text",
            "text": {
                "body": message.text,
                # A notice carries no link to preview.
                "preview_url": self.config.preview_url and not message.fields.get(NOTICE),
            },
        }

    def _template_body(
        self,
        message: Outgoing,
        template: TemplateOptions | None = None,
        more: list[str] | None = None,
    ) -> dict[str, Any]:
        """The template's message: the headline as {{1}}, then `more` (default: the link)."""
        template = template or self.config.template
        if template is None:
            raise ChannelError(
                "permanent", f"{self.name}: message = template needs [template]", never_sent=True
            )
        # Template parameters may not hold line breaks or tabs.
        headline = " ".join(str(message.fields.get("headline") or message.text).split())
        values = [headline, *(more if more is not None else [message.link])]
        return {
            "messaging_product": "whatsapp",
            "to": message.recipient,
            "type": "template",
            "template": {
                "name": template.name,
                "language": {"code": template.language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": value} for value in values],
                    }
                ],
            },
        }

    def _post(self, body: dict[str, Any], token: str) -> dict[str, Any]:
        return self.client.call("POST", self._messages, token, json_body=body)

    async def _post_async(
        self, session: aiohttp.ClientSession, body: dict[str, Any], token: str
    ) -> dict[str, Any]:
        return await self.client.call_async(session, "POST", self._messages, token, json_body=body)

    @property
    def _messages(self) -> str:
        return f"{self.config.phone_number_id}/messages"

    def _receipt(self, answer: dict[str, Any]) -> Receipt:
        messages = answer.get("messages") or [{}]
        return Receipt(remote_id=messages[0].get("id"))

    def check(self) -> list[Finding]:
        token = self._token()
        number = self.client.call(
            "GET",
            str(self.config.phone_number_id),
            token,
            params={"fields": "display_phone_number,verified_name,quality_rating"},
        )
        found = [
            Finding(
                "ok",
                f"number {number.get('display_phone_number', '?')} "
                f"({number.get('verified_name', 'unverified name')}) reachable, "
                f"{len(self.config.recipients)} recipients",
            )
        ]
        if number.get("quality_rating") == "RED":
            found.append(Finding("warning", "the number's quality rating is RED"))
        return found + token_findings(self.client, token)

    def close(self) -> None:
        self.client.close()
