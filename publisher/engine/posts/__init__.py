"""The queue: articles and their one identity, the posts queued from them, the editors' verbs
on them (approve, cancel, restore, retry, mark sent), paused channels, overdue posts asked about
first, and the listings the CLI, bot and desk show."""
