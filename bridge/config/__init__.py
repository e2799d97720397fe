"""The config file: the loader, the component registry it reads factories from, durations, and the
generated reference."""
