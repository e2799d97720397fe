from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.phoenix import Phoenix, phoenix_binary


@pytest.fixture(scope="session")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    """One Phoenix for the whole test session (it takes 10-20 s to start); tests use projects of their own."""
    binary = phoenix_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: `make test` installs Phoenix into .venv-phoenix (or set PHOENIX_BIN)")
    server = Phoenix(binary, tmp_path_factory.mktemp("phoenix")).start()
    yield server
    server.stop()
