"""Telegram: HTML parse mode with only the tags Telegram knows, `<`, `>` and `&` escaped; 4096
characters for a message, 1024 for a photo caption, counted in UTF-16 units after entity parsing.

Posts go through python-telegram-bot's `Bot` (TELEGRAM_BOT_TOKEN, or the channel's `token_env`)
to a channel (`@name` or a numeric id) where the bot is an administrator allowed to post.
The library is asynchronous; each channel runs one event loop in a thread of its own, so the
engine's worker threads hand it calls and wait for the answer.

Results: the Bot API has no call that reads a message's views or reactions (core.telegram.org/
bots/api, checked 2026-12). Reaction counts reach a bot only as `message_reaction_count`
updates, pushed to a bot that is an administrator of the channel and asks for them: the
editors' bot (`publisher bot`, or `[bot]` in `publisher run`) does, and its counts are kept as
they come (`channels.telegram_reactions`, `publisher.engine.learning.pushed`) and measured at each
point as likes. Views reach no bot at all and stay null, never made-up zeros.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Coroutine, Mapping
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from publisher.articles import Article
from publisher.channels.base import (
    REPLY_TO,
    Channel,
    ChannelError,
    Finding,
    Heard,
    Outgoing,
    PlatformOptions,
    Receipt,
    Removed,
    Result,
    Teaser,
    TokenOptions,
)
from publisher.channels.secrets import secret
from publisher.channels.telegram_errors import classify, status_request
from publisher.channels.telegram_html import NAME, PreviewRenderer, parse_entities
from publisher.channels.telegram_markup import to_html, to_markup
from publisher.channels.telegram_reactions import nothing_heard, reaction_counts
from publisher.channels.text import share_query, utf16_length

if TYPE_CHECKING:
    from telegram import Bot, Message

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
TELEGRAM_API_BASE = "https://api.telegram.org"
T = TypeVar("T")

CAPTION_LIMIT = 1024


class TelegramOptions(TokenOptions):
    chat_id: str | int | None = None
    link_preview: bool = True

    required: ClassVar[tuple[str, ...]] = ("chat_id",)


class _LoopThread:
    """An asyncio event loop running in a daemon thread, taking coroutines from other threads."""

    def __init__(self, name: str) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name=f"telegram-{name}", daemon=True
        )
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Telegram(Channel):
    """Posts to a Telegram channel or group through a bot."""

    type = "telegram"
    display_name = NAME
    card_fetchers = ("telegrambot",)
    results_pushed = True
    formatted = True
    replies = True
    order = 40
    share_rank = 4
    icon = (
        "M21.9 4.3 18.7 19.4c-.2 1-.9 1.3-1.8.8l-4.8-3.6-2.3 2.2c-.3.3-.5.5-1 .5l.3-4.9 "
        "8.9-8c.4-.3-.1-.5-.6-.2l-11 6.9-4.7-1.5c-1-.3-1-1 .2-1.5L20.6 3c.9-.3 1.6.2 1.3 1.3z"
    )
    preview_css = (
        ".pv-telegram{background:#fff;border-radius:12px;padding:.6em .8em;"
        "border:1px solid #d6e4f0}.pv-telegram .pv-link{color:#0f6fb0}"
        ".pv-telegram .pv-img{display:block;width:100%;max-height:220px;object-fit:cover;"
        "border-radius:8px;margin-block-end:.4em}"
    )
    limit = 4096
    unit = "UTF-16 units"
    Options = TelegramOptions
    config: TelegramOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_base = self.api_base or TELEGRAM_API_BASE
        self._runner: _LoopThread | None = None
        self._bot: Bot | None = None
        self._lock = threading.Lock()

    @classmethod
    def heard(cls, options: PlatformOptions, update: Mapping[str, Any]) -> Heard | None:
        chat = options.chat_id if isinstance(options, TelegramOptions) else None
        return reaction_counts(chat, update)

    @classmethod
    def nothing_heard(cls) -> Result:
        return nothing_heard()

    def measure(self, text: str) -> int:
        return utf16_length(parse_entities(text)[0])

    def limit_for(self, article: Article | None = None) -> int:
        return CAPTION_LIMIT if article is not None and article.image else self.limit

    def headline(self, text: str) -> str:
        return f"<b>{escape(text, quote=False)}</b>"

    def bullet(self, marker: str, text: str) -> str:
        return super().bullet(escape(marker, quote=False), escape(text, quote=False))

    def paragraph(self, text: str) -> str:
        return escape(text, quote=False)

    def link(self, url: str, label: str) -> str:
        return f'<a href="{escape(url)}">{escape(label or url, quote=False)}</a>'

    def fields(self, article: Article, text: str, link: str) -> dict[str, Any]:
        photo = str(article.image.url) if article.image else None
        return {"parse_mode": "HTML", "photo": photo}

    def validate(self, text: str, article: Article | None = None) -> list[str]:
        return parse_entities(text)[1] + super().validate(text, article)

    def share_url(self, headline: str, teaser: Teaser) -> str:
        return "https://t.me/share/url?" + share_query(url=teaser.link, text=headline)

    def editable(self, text: str) -> str:
        return to_markup(text)

    def from_editable(self, text: str) -> str:
        return to_html(text)

    def bot_preview(self, text: str) -> str:
        # The post is Telegram's HTML, checked by `validate`: the bot shows it as it will look.
        return text

    def preview_html(self, text: str) -> str:
        # Telegram's own formatting, redrawn from a short list of tags: an edited text's markup
        # is never passed on to the page as it stands.
        renderer = PreviewRenderer()
        renderer.feed(text)
        renderer.close()
        return renderer.html()

    def preview(self, text: str, article: Article) -> str:
        return (
            f'<div class="pv-telegram">{self.preview_image(article)}{self.preview_html(text)}</div>'
        )

    def _call(self, make: Any) -> Any:
        """Run `make(bot)` on the channel's loop, the bot set up on first use."""
        from telegram import Bot
        from telegram.error import TelegramError

        with self._lock:
            if self._runner is None:
                self._runner = _LoopThread(self.name)
            if self._bot is None:
                token = secret(self.name, self.config.token_env or TOKEN_ENV)
                timeout = self.config.timeout
                self._bot = Bot(
                    token,
                    base_url=f"{self.api_base}/bot",
                    base_file_url=f"{self.api_base}/file/bot",
                    request=status_request()(
                        connection_pool_size=8,
                        connect_timeout=min(timeout, 5.0),
                        read_timeout=timeout,
                        write_timeout=timeout,
                        media_write_timeout=timeout,
                    ),
                )
            bot, runner = self._bot, self._runner
        try:
            return runner.run(self._initialized(bot, make), self.config.timeout * 3)
        except TelegramError as exc:
            raise classify(self.name, exc) from None
        except TimeoutError:
            raise ChannelError("uncertain", f"{self.name}: no answer in time") from None

    @staticmethod
    async def _initialized(bot: Bot, make: Any) -> Any:
        await bot.initialize()
        return await make(bot)

    def remove(self, remote_id: str) -> Removed:
        """`deleteMessage`. Telegram lets a bot delete its message only within 48 hours of
        sending it: an older one is said to be removed by hand."""
        chat = self.config.chat_id
        try:
            self._call(lambda bot: bot.delete_message(chat, int(remote_id)))
        except ChannelError as exc:
            said = exc.message.lower()
            if "message to delete not found" in said:
                return "already_gone"
            if "message can't be deleted" in said:
                raise ChannelError(
                    "permanent",
                    f"{self.name}: Telegram lets a bot delete a message only within 48 hours of "
                    "sending it: delete this one by hand in the channel",
                    code="too_old_to_delete",
                ) from None
            raise
        return "removed"

    def edit(self, remote_id: str, text: str) -> None:
        """`editMessageText`, or `editMessageCaption` for a post sent as a photo; the same text
        again counts as done (Telegram answers "message is not modified")."""
        chat, number = self.config.chat_id, int(remote_id)
        try:
            try:
                self._call(
                    lambda bot: bot.edit_message_text(
                        text, chat_id=chat, message_id=number, parse_mode="HTML"
                    )
                )
            except ChannelError as exc:
                if "no text in the message" not in exc.message.lower():
                    raise
                self._call(
                    lambda bot: bot.edit_message_caption(
                        chat_id=chat, message_id=number, caption=text, parse_mode="HTML"
                    )
                )
        except ChannelError as exc:
            if "message is not modified" not in exc.message.lower():
                raise

    def send(self, message: Outgoing) -> Receipt:
        from telegram import LinkPreviewOptions, ReplyParameters

        chat = self.config.chat_id
        parent = message.fields.get(REPLY_TO)
        if parent:
            # A correction under the message it corrects.
            sent = self._call(
                lambda bot: bot.send_message(
                    chat,
                    message.text,
                    parse_mode="HTML",
                    reply_parameters=ReplyParameters(int(parent), allow_sending_without_reply=True),
                )
            )
            return _receipt(sent)
        photo = message.fields.get("photo")
        preview = LinkPreviewOptions(
            is_disabled=not self.config.link_preview, url=message.link, prefer_large_media=True
        )
        note = None
        if photo:
            try:
                sent = self._call(
                    lambda bot: bot.send_photo(
                        chat, photo=photo, caption=message.text, parse_mode="HTML"
                    )
                )
                return _receipt(sent)
            except ChannelError as exc:
                # Telegram could not fetch the picture: the post goes out as a text message.
                if exc.code != "photo":
                    raise
                note = f"sent without the picture ({exc.message})"
        sent = self._call(
            lambda bot: bot.send_message(
                chat, message.text, parse_mode="HTML", link_preview_options=preview
            )
        )
        receipt = _receipt(sent)
        return Receipt(receipt.remote_id, receipt.permalink, note)

    def check(self) -> list[Finding]:
        me = self._call(lambda bot: bot.get_me())
        chat = self._call(lambda bot: bot.get_chat(self.config.chat_id))
        title = chat.title or chat.username or chat.id
        return [
            Finding("ok", f"bot @{me.username} authorised"),
            Finding("ok", f"chat {title} ({chat.type}) reachable"),
        ]

    def close(self) -> None:
        from telegram.error import TelegramError

        with self._lock:
            runner, bot = self._runner, self._bot
            self._runner = self._bot = None
        if runner is not None:
            if bot is not None:
                with contextlib.suppress(TelegramError, TimeoutError):
                    runner.run(bot.shutdown(), 5)
            runner.stop()


def _receipt(sent: Message) -> Receipt:
    return Receipt(remote_id=str(sent.message_id), permalink=sent.link)
