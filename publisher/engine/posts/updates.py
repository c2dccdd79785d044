"""The Telegram updates the editors' bot acted on: Telegram delivers an update again when the
bot's confirmation was lost (a crash, a restart mid-way), and a command or a button must not
act twice. Update ids only grow, so the newest one acted on is all there is to keep."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update

from publisher.clock import utcnow
from publisher.engine.storage.schema import bot_updates


def first_time(engine: Engine, bot: str, update_id: int) -> bool:
    """Whether the update is new to `bot` (noted as acted on from now): False for one acted on
    before. Noted before it is acted on: an update cut short by a crash is not acted on again
    (a command done twice is worse than one to send again)."""
    now = utcnow()
    with engine.begin() as connection:
        newer = connection.execute(
            update(bot_updates)
            .where(bot_updates.c.bot == bot, bot_updates.c.update_id < update_id)
            .values(update_id=update_id, handled_at=now)
        ).rowcount
        if newer:
            return True
        known = connection.execute(
            select(bot_updates.c.update_id).where(bot_updates.c.bot == bot)
        ).first()
        if known is not None:
            return False
        connection.execute(insert(bot_updates).values(bot=bot, update_id=update_id, handled_at=now))
        return True
