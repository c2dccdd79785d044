"""Learning: what sent posts achieved (the platforms' numbers and first-party clicks), the
history a channel's best hours are learned from, and the scorecard editors read."""
