"""Files that hold the bridge's state: owner-only SQLite files and one bridge per file."""
