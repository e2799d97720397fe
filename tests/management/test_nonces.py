from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from bridge.management.nonces import SpentNonces
from bridge.management.store import Store

KEY = Fernet(Fernet.generate_key())


def test_a_nonce_is_spent_once_until_it_expires(tmp_path: Path) -> None:
    nonces = SpentNonces(Store(str(tmp_path / "s.db"), KEY), now=1000.0)
    assert nonces.spend("app:n1", expires_at=1300.0, now=1000.0)
    assert not nonces.spend("app:n1", expires_at=1300.0, now=1100.0)
    assert nonces.spend("app:n2", expires_at=1200.0, now=1100.0)
    assert len(nonces) == 2
    assert nonces.spend("app:n3", expires_at=1600.0, now=1301.0)  # n1 and n2 expired: memory lets them go
    assert len(nonces) == 1
    assert nonces.spend("app:n1", expires_at=1601.0, now=1301.0)  # a timestamp this old is refused before


def test_a_nonce_given_back_may_be_spent_again(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "s.db"), KEY)
    nonces = SpentNonces(store, now=1000.0)
    assert nonces.spend("app:n1", 1300.0, 1000.0)
    nonces.flush(1000.0)
    nonces.give_back("app:n1")
    assert nonces.spend("app:n2", 1300.0, 1000.0)
    nonces.give_back("app:n2")  # never written
    nonces.flush(1000.0)
    assert store.nonces(1000.0) == []
    assert nonces.spend("app:n1", 1300.0, 1001.0)


def test_flushed_nonces_survive_a_restart_and_expire_in_the_store(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    first = SpentNonces(Store(path, KEY), now=1000.0)
    assert first.spend("app:old", 1100.0, 1000.0)
    assert first.spend("app:new", 1300.0, 1000.0)
    first.flush(1000.0)
    store = Store(path, KEY)
    assert sorted(store.nonces(1000.0)) == [("app:new", 1300.0), ("app:old", 1100.0)]
    second = SpentNonces(store, now=1200.0)
    assert len(second) == 1
    assert not second.spend("app:new", 1300.0, 1200.0)
    second.flush(1200.0)
    assert store.nonces(0.0) == [("app:new", 1300.0)]  # the expired one is deleted at the flush
