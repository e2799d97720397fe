"""The queue file's error, apart from the queue (SQLite, asyncio): the CLI names it for every command."""


class QueueError(Exception):
    """The queue file cannot be opened, read or written; the message names the file."""
