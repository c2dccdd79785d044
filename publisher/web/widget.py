"""The article page's share bar ("Artikel teilen"), follow box and link-preview tags, made from
the same article and teaser logic as the posts. Share links carry each channel's teaser text and
tracking parameters; the page makes no request to any platform until the reader clicks.

Every value is escaped for its context by Jinja2's autoescaping (HTML text and attributes) after
URL parameters are percent-encoded; only http(s) URLs reach an href."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from publisher import roster
from publisher.articles import Article, check_http_url
from publisher.channels.text import share_query
from publisher.config import Settings
from publisher.links import with_tracking
from publisher.teasers import compose

LABELS = {
    "de": {
        "share": "Artikel teilen",
        "share_on": "Auf {platform} teilen",
        "email": "Per E-Mail teilen",
        "copy": "Link kopieren",
        "copied": "Link kopiert",
        "native": "Teilen …",
        "follow": "Folgen Sie {outlet} schon bei {platforms}?",
        "or": "oder",
        "new_window": "öffnet in neuem Fenster",
    },
    "en": {
        "share": "Share article",
        "share_on": "Share on {platform}",
        "email": "Share by e-mail",
        "copy": "Copy link",
        "copied": "Link copied",
        "native": "Share …",
        "follow": "Do you already follow {outlet} on {platforms}?",
        "or": "or",
        "new_window": "opens in a new window",
    },
}


@dataclass(frozen=True)
class ShareLink:
    """One share button: where it leads, what a screen reader says, and the platform's logo as
    SVG path data (empty for the e-mail button, which has its own icon)."""

    platform: str
    href: str
    label: str
    icon: str = ""


@dataclass(frozen=True)
class FollowLink:
    platform: str
    name: str
    href: str


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("publisher.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _language(settings: Settings) -> str:
    language = settings.widget.language or settings.language
    return language if language in LABELS else "en"


def share_links(article: Article, settings: Settings) -> list[ShareLink]:
    """The share links, each with its channel's teaser text and tracked link."""
    labels = LABELS[_language(settings)]
    wanted = [p for p in settings.widget.platforms if p != "email"]
    channels = roster.resolve(settings, wanted) if wanted else {}
    teasers = compose(article, channels, settings)
    links: list[ShareLink] = []
    for platform in settings.widget.platforms:
        if platform == "email":
            links.append(ShareLink(platform, _mailto(article, settings), labels["email"]))
            continue
        channel, teaser = channels[platform], teasers[platform]
        check_http_url(teaser.link)
        href = channel.share_url(article.headline, teaser)
        if href is not None:
            label = labels["share_on"].format(platform=channel.display_name)
            links.append(ShareLink(platform, href, label, channel.icon))
    return links


def _mailto(article: Article, settings: Settings) -> str:
    link = article.url
    if settings.tracking.enabled:
        filled = {
            key: value.replace("{channel}", "email").replace("{type}", "email")
            for key, value in settings.tracking.params.items()
        }
        link = with_tracking(article.url, filled)
    summary = article.lead or (article.bullets[0] if article.bullets else "")
    body = f"{summary}\n\n{check_http_url(link)}" if summary else check_http_url(link)
    return "mailto:?" + share_query(subject=article.headline, body=body)


def follow_links(settings: Settings) -> list[FollowLink]:
    return [
        FollowLink(network, profile.name, check_http_url(profile.url))
        for network, profile in settings.widget.follow.items()
    ]


def render_widget(article: Article, settings: Settings) -> str:
    """The HTML snippet: share bar (and the follow box when profiles are configured)."""
    language = _language(settings)
    labels = LABELS[language]
    follows = follow_links(settings)
    names = [f.name for f in follows]
    joined = ", ".join(names[:-1]) + f" {labels['or']} " + names[-1] if len(names) > 1 else ""
    return (
        _templates()
        .get_template("widget.html.j2")
        .render(
            labels=labels,
            links=share_links(article, settings),
            page_url=check_http_url(article.url),
            title=article.headline,
            follows=follows,
            follow_text=labels["follow"].format(
                outlet=settings.widget.outlet or {"de": "uns"}.get(language, "us"),
                platforms=joined or (names or [""])[0],
            )
            if follows
            else "",
        )
    )


def render_meta(article: Article, settings: Settings) -> str:
    """Open Graph and Twitter card tags for the article page's <head>."""
    description = article.lead or " ".join(article.bullets[:2]) or article.headline
    return (
        _templates()
        .get_template("meta.html.j2")
        .render(
            article=article,
            url=check_http_url(article.url),
            image=check_http_url(str(article.image.url)) if article.image else None,
            description=description,
            section=article.section or article.kicker,
            published=article.published_at.isoformat() if article.published_at else None,
            site=settings.widget.outlet,
            locale={"de": "de_DE", "en": "en_US"}.get(article.language or ""),
        )
    )
