"""`publisher timing CHANNEL`: what a post earns the channel by hour of the week, as its history
says, with the number of posts behind each hour; the hours `--best` chooses among."""

from __future__ import annotations

from typing import Annotated

import typer

from publisher.cli import UsageError, app, env
from publisher.cli.queue import AsJson, print_json

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The hours the table lists, best first.
SHOWN_HOURS = 12


@app.command("timing")
def timing_command(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="The channel's name")],
    as_json: AsJson = False,
) -> None:
    """What a post earns the channel by hour of the week, from its history."""
    from publisher.engine.learning.history import learned

    settings = env(ctx).settings
    if channel not in settings.channels:
        raise UsageError(f"no channel {channel!r} in the configuration")
    found = learned(env(ctx).engine, settings, channel)
    hours = [
        {
            "day": DAYS[hour.hour // 24],
            "hour": hour.hour % 24,
            "typical": round(hour.typical, 2),
            "low": round(hour.low, 2),
            "high": round(hour.high, 2),
            "posts": hour.posts,
        }
        for hour in found.hours
    ]
    if as_json:
        print_json(
            {
                "channel": channel,
                "timezone": str(settings.channel_tz(channel)),
                "measure": found.measure,
                "posts": found.posts,
                "enough": found.enough,
                "hours": hours,
            }
        )
        return
    zone = settings.channel_tz(channel)
    print(f"{channel}: {found.posts} posts measured in {found.measure} (times in {zone})")
    if not found.enough:
        print("too little history to choose times by: --best keeps to the channel's slots")
    print(f"{'hour':<16}{'typical':>10}{'80 % range':>18}{'posts':>8}")
    for hour in sorted(found.hours, key=lambda h: h.typical, reverse=True)[:SHOWN_HOURS]:
        when = f"{DAYS[hour.hour // 24]:<10}{hour.hour % 24:02d}:00"
        span = f"{hour.low:.1f}–{hour.high:.1f}"
        print(f"{when:<16}{hour.typical:>10.1f}{span:>18}{hour.posts:>8}")
