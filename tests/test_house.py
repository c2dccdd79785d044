"""The house's rules that the layers contract (`lint-imports`, in .ci/run) cannot see: the channel
modules stand on the Article model alone, and nothing outside them knows a platform."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from publisher.channels import channel_classes

ROOT = Path(__file__).resolve().parent.parent
CHANNEL_MODULES = sorted((ROOT / "channels").glob("*.py"))
HOUSE_MODULES = sorted((ROOT / "publisher").rglob("*.py"))
# What a channel module may import of the house: its own package, the Article model and the
# base of editor errors.
ALLOWED = ("publisher.channels", "publisher.articles", "publisher.errors")


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", CHANNEL_MODULES, ids=lambda p: p.name)
def test_a_channel_module_imports_nothing_of_the_house_above_it(path: Path) -> None:
    house = {name for name in imported(path) if name.split(".")[0] == "publisher"}
    assert {name for name in house if not name.startswith(ALLOWED)} == set()


def share_addresses() -> set[str]:
    """Where the platforms' share links lead (without their query), as their modules say."""
    from urllib.parse import urlsplit

    from publisher.channels import Teaser

    teaser = Teaser("c", "t", "Text https://e.de/a", "https://e.de/a", 1, 1, "", 0, False)
    hosts = set()
    for cls in channel_classes():
        url = cls("c").share_url("Text", teaser)
        if url:
            parts = urlsplit(url)
            hosts.add(f"{parts.netloc}{parts.path}")
    return hosts


@pytest.mark.parametrize("path", HOUSE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_the_channels_spells_a_share_address(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert [address for address in share_addresses() if address in source] == []


def platform_names() -> set[str]:
    """Every channel's name as editors know it (its display name)."""
    return {cls.display_name for cls in channel_classes()}


def catalogue_texts() -> list[tuple[str, str]]:
    from publisher.catalogue import de, en

    return [
        (f"{module.__name__}.{key}", text)
        for module in (de, en)
        for table in vars(module).values()
        if isinstance(table, dict)
        for key, text in table.items()
        if isinstance(text, str)
    ]


def test_the_catalogue_names_no_platform_where_a_channel_could_say_its_own_name() -> None:
    # The bot's and the WhatsApp subscribers' own words may name their platform; the desk's
    # words about a channel's text take its name from the channel.
    names = platform_names()
    found = [
        (key, name)
        for key, text in catalogue_texts()
        for name in names
        if key.split(".")[-1].startswith(("problem_", "unit_", "error_"))
        and re.search(rf"\b{re.escape(name)}\b", text)
    ]
    assert found == []
