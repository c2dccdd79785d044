"""Audiences: a subscriber channel's readers (WhatsApp): who opted in and out, and what
they and the platform tell the channel afterwards."""
