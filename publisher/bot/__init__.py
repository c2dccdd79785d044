"""The editors' Telegram bot, built on python-telegram-bot's Application: commands and buttons
(`publisher.bot.commands`), an article on its way to the queue (`publisher.bot.drafts`), who
may use them (`publisher.bot.access`), notifications (`publisher.bot.notify`), the reaction
counts of the channels it administers (`publisher.engine.learning.pushed`), polling or webhook mode.
Runs alone (`publisher bot`) or in a thread of `publisher run` (`[bot] enabled = true`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading

from sqlalchemy import Engine
from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    MessageReactionHandler,
    TypeHandler,
    filters,
)

from publisher.bot.commands import BotHandlers
from publisher.bot.menu import COMMANDS, menu
from publisher.bot.notify import Notifier
from publisher.catalogue import translator
from publisher.channels.secrets import secret
from publisher.config import BotSettings, Settings

logger = logging.getLogger(__name__)


def build_application(engine: Engine, settings: Settings) -> tuple[Application, BotHandlers]:
    """The bot's Application with every handler, talking to `[bot] api_base`."""
    bot = settings.bot
    token = secret("bot", bot.token_env)
    base = bot.api_base.rstrip("/")
    application = (
        Application.builder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .build()
    )
    desk = BotHandlers(engine, settings)
    # First of all: an update Telegram delivers again (its confirmation lost) is not acted on.
    application.add_handler(TypeHandler(Update, desk.once), group=-3)
    # A channel's reaction counts come from no user: kept before the door turns strangers away.
    counts = MessageReactionHandler.MESSAGE_REACTION_COUNT_UPDATED
    application.add_handler(
        MessageReactionHandler(desk.reactions_counted, message_reaction_types=counts), group=-2
    )
    # Before every other handler: strangers go no further.
    application.add_handler(TypeHandler(Update, desk.gate.stop_strangers), group=-1)
    for command in COMMANDS:
        application.add_handler(CommandHandler(command.name, getattr(desk, command.handler)))
    application.add_handler(CallbackQueryHandler(desk.button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, desk.message))
    # A voice note, a photo, a sticker, a file: the bot reads only text, and says so.
    media = (
        filters.VOICE
        | filters.AUDIO
        | filters.PHOTO
        | filters.VIDEO
        | filters.VIDEO_NOTE
        | filters.Sticker.ALL
        | filters.Document.ALL
    )
    application.add_handler(MessageHandler(media, desk.not_text))
    # Last: a command none of the handlers above took.
    application.add_handler(MessageHandler(filters.COMMAND, desk.unknown))
    application.add_error_handler(desk.on_error)
    return application, desk


async def serve(engine: Engine, settings: Settings, stop: asyncio.Event) -> None:
    """Run the bot until `stop` is set: register the command list, take updates (long polling,
    or Telegram's webhook with its secret token checked), send notifications."""
    application, desk = build_application(engine, settings)
    bot = settings.bot
    async with application:
        # Telegram's clients show the list in the user's language: English by default, German
        # for German users (the command names themselves must stay latin).
        for language in ("en", "de"):
            await application.bot.set_my_commands(
                [BotCommand(name, text) for name, text in menu(translator(language, "bot"))],
                language_code=None if language == "en" else language,
            )
        await application.start()
        notifier: asyncio.Task[None] | None = None
        try:
            await _take_updates(application, bot)
            notifier = asyncio.create_task(Notifier(desk).run(application))
            if bot.digest_at is not None and application.job_queue is not None:
                at = bot.digest_at.replace(tzinfo=settings.tz)
                application.job_queue.run_daily(desk.send_digest, at, name="digest")
            logger.info("editors' bot running (%s)", bot.mode)
            await stop.wait()
        finally:
            if notifier is not None:
                notifier.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await notifier
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()


async def _take_updates(application: Application, bot: BotSettings) -> None:
    """Long polling, or Telegram's webhook (its secret token header checked on every call).
    Reaction counts of the channels the bot administers are asked for by name, as Telegram
    wants them asked for."""
    allowed = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MESSAGE_REACTION_COUNT]
    if application.updater is None:
        raise RuntimeError("the bot application has no updater")
    if bot.mode == "webhook":
        await application.updater.start_webhook(
            listen=bot.webhook_listen,
            port=bot.webhook_port,
            url_path="telegram",
            webhook_url=bot.webhook_url,
            secret_token=secret("bot", bot.secret_token_env),
            allowed_updates=allowed,
        )
    else:
        await application.updater.start_polling(
            poll_interval=0.0, timeout=10, allowed_updates=allowed
        )


def run_forever(engine: Engine, settings: Settings) -> None:
    """`publisher bot`: serve until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(engine, settings, stop)

    asyncio.run(main())


class BotThread:
    """The bot in a thread of a process that has other work (`publisher run`)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, name="bot", daemon=True)
        self.failed: BaseException | None = None
        self._ready = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.stop_event = asyncio.Event()
            self._ready.set()
            await serve(self.engine, self.settings, self.stop_event)

        try:
            self.loop.run_until_complete(main())
        except BaseException as exc:  # reported by the owner, the worker carries on
            self.failed = exc
            self._ready.set()
            logger.error("the editors' bot stopped: %s", exc)

    def start(self) -> None:
        self.thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        if self.stop_event is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)


__all__ = ["BotThread", "build_application", "run_forever", "serve"]
