"""The dry-run channel: plain text with the link; sending only records what would have been sent,
so everything runs without credentials. Channels with `dry_run = true` deliver through it."""

from __future__ import annotations

import logging

from publisher.channels.base import Channel, Outgoing, Receipt, Removed

logger = logging.getLogger(__name__)


class Log(Channel):
    """Records what would have been sent instead of sending it."""

    type = "log"
    display_name = "Log"
    platform = False
    order = 1000
    limit = 1_000_000
    unit = "characters"
    concurrency = 1000

    def measure(self, text: str) -> int:
        return len(text)

    def send(self, message: Outgoing) -> Receipt:
        logger.info(
            "would post %s to %s: %r",
            message.post_id,
            self.name,
            message.text[:200],
            extra={"post_id": message.post_id, "channel": self.name},
        )
        return Receipt(remote_id=f"log-{message.post_id}")

    def remove(self, remote_id: str) -> Removed:
        logger.info("would take %s down from %s", remote_id, self.name)
        return "removed"

    def edit(self, remote_id: str, text: str) -> None:
        logger.info("would edit %s on %s: %r", remote_id, self.name, text[:200])
