"""Article images in the desk's previews, fetched by the desk itself and kept a while: an editor's
browser loads them from the desk, so the image's host never learns who looks at the article, or
when. Fetched within the newsroom's fetch rules (time limit, no private networks), images only
(no SVG, which can carry script), at most a few megabytes each, and a bounded number of bytes
kept in all."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from publisher import roster
from publisher.articles import Article
from publisher.channels.base import ImageUnavailable
from publisher.config import Settings

# Each image at most this large; all kept images at most this large together; kept this long.
IMAGE_BYTES = 5_000_000
KEPT_BYTES = 64_000_000
KEPT_SECONDS = 3_600.0
# What a browser may be given as an image (SVG is left out: it can carry script).
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"})


@dataclass(frozen=True)
class PreviewImage:
    body: bytes
    media_type: str
    fetched_at: float


class PreviewImages:
    """The images the desk's previews show, by their address; thread-safe."""

    def __init__(self, settings: Settings, kept_bytes: int = KEPT_BYTES) -> None:
        self.fetch_image = roster.image_fetcher(settings)
        self.kept_bytes = kept_bytes
        self._kept: OrderedDict[str, PreviewImage] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, url: str) -> PreviewImage | None:
        """The image at `url`, from what is kept or fetched now; None when it cannot be had."""
        now = time.monotonic()
        with self._lock:
            kept = self._kept.get(url)
            if kept is not None and now - kept.fetched_at < KEPT_SECONDS:
                self._kept.move_to_end(url)
                return kept
        try:
            fetched = self.fetch_image(url, IMAGE_BYTES)
        except ImageUnavailable:
            return None
        if fetched.content_type not in IMAGE_TYPES:
            return None
        image = PreviewImage(fetched.body, fetched.content_type, now)
        with self._lock:
            replaced = self._kept.pop(url, None)
            self._total += len(image.body) - (len(replaced.body) if replaced else 0)
            self._kept[url] = image
            while self._total > self.kept_bytes:
                _, dropped = self._kept.popitem(last=False)
                self._total -= len(dropped.body)
        return image


def through_desk(article: Article, article_id: int) -> Article:
    """The article as the desk's previews show it: its image loaded from the desk."""
    if article.image is None:
        return article
    # A path of the desk's own: model_copy does not validate, as a URL would not be relative.
    image = article.image.model_copy(update={"url": f"/articles/{article_id}/image"})
    return article.model_copy(update={"image": image})
