"""Check configured channels' connections (credentials, account, token expiry) with each
platform's harmless call, so that a broken or expiring connection never fails silently."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from publisher import roster
from publisher.channels import ChannelError
from publisher.channels.base import Finding
from publisher.channels.secrets import redact
from publisher.config import Settings

logger = logging.getLogger(__name__)


def check_channel(settings: Settings, name: str) -> list[Finding]:
    """What checking one configured channel found; errors are findings, never exceptions."""
    configured = settings.channels[name]
    if configured.dry_run:
        return [Finding("ok", "dry run: nothing is sent, nothing to check")]
    channel = roster.configured(settings, name)
    try:
        return channel.check()
    except ChannelError as exc:
        return [Finding("error", exc.message)]
    except Exception as exc:  # a platform answer the adapter could not read
        logger.exception("checking channel %s failed unexpectedly", name)
        return [Finding("error", redact(f"{name}: unexpected {type(exc).__name__}: {exc}"))]
    finally:
        channel.close()


def check_channels(settings: Settings, names: Iterable[str]) -> dict[str, list[Finding]]:
    """Findings per channel, in the order asked."""
    return {name: check_channel(settings, name) for name in names}
