"""publisher: turns newsroom articles into channel-ready social posts and share widgets."""

__version__ = "0.1.0"
