"""The engine, in wings read top to bottom (each imports only from those below it, as the
import-linter contract in pyproject.toml holds): `delivery` (the worker), `releases`, `posts`
(the queue and the editors' verbs), `planning` (when posts go out), `audiences` (subscribers),
`learning` (results and best hours), `storage` (the database); and beneath them all
`lifecycle`, the post lifecycle in one place."""
