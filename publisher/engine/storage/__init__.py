"""Storage: the database (SQLite or PostgreSQL), its tables and migrations, and how a running
worker hears that another process changed the queue."""
