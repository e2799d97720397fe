"""The config's error, apart from the loader: a command that leaves the loading to its workers (`replay`) names
it without importing the loader (pydantic, every component)."""


class ConfigError(Exception):
    """An invalid config: `file:line: key.path: reason`."""
