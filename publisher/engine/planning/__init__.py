"""Planning: when a post goes out. An editor's words for a time, a channel's slots and
`min_gap`, quiet hours, free times, the best time a channel's history knows of, and the
calendar's cells."""
