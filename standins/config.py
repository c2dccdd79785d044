"""A newsroom's configuration pointed at the stand-ins."""

from __future__ import annotations

import json

from standins.graph import GraphStandIn
from standins.telegram import TelegramStandIn
from standins.x import XStandIn


def channels_toml(
    x: XStandIn,
    graph: GraphStandIn,
    telegram: TelegramStandIn,
    recipients: tuple[str, ...] = ("+4915112345678",),
    x_name: str = "x_main",
) -> str:
    """The configuration of one channel per platform, each pointed at its stand-in."""
    return (
        f'[channels.{x_name}]\ntype = "x"\napi_base = "{x.url}"\nimage = false\n'
        f'[channels.facebook]\ntype = "facebook"\napi_base = "{graph.url}"\n'
        f'page_id = "{graph.page_id}"\n'
        f'[channels.whatsapp]\ntype = "whatsapp"\napi_base = "{graph.url}"\n'
        f'phone_number_id = "{graph.phone_number_id}"\n'
        f"recipients = {json.dumps(list(recipients))}\n"
        f'[channels.telegram]\ntype = "telegram"\napi_base = "{telegram.url}"\n'
        'chat_id = "@newsde"\n'
    )
