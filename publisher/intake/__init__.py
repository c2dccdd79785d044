"""Intake: where articles come from (files, pasted URLs, HTML pages, text dumps, feeds)."""
