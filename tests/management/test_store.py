from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bridge.cli.commands import main
from bridge.management.settings import AppSpec, InstanceSpec, ServerConfig
from bridge.management.store import Store, StoreError, load_fernet


def _store(tmp_path: Path, key: bytes | None = None) -> Store:
    cfg = ServerConfig(store=str(tmp_path / "s.db"), encryption_key=key.decode() if key else None)
    return Store(cfg.store, load_fernet(cfg))


def test_declared_registrations_merge_and_update(tmp_path: Path) -> None:
    store = _store(tmp_path)
    api_instance = store.add_instance("from-api", "http://a", None)
    declared = ServerConfig(
        instances=[InstanceSpec(name="declared", base_url="http://d/", api_key="app-1")],
        apps=[AppSpec(instance="declared", app_id="x", app_name="X", webhook_secret="s" * 16)],
    )
    store.merge_declared(declared)
    changed = declared.model_copy(update={"apps": [AppSpec(instance="declared", app_id="x", webhook_secret="t" * 16)]})
    store.merge_declared(changed)
    assert [i.name for i in store.list_instances()] == ["from-api", "declared"]
    (app,) = store.list_apps()
    assert store.webhook_secret(app) == "t" * 16 and app.origin == "config"
    assert store.instance_api_key(store.list_instances()[1].id) == "app-1"
    assert store.instance(api_instance.id) == api_instance
    with pytest.raises(StoreError, match="unknown instance 'nope'"):
        store.merge_declared(ServerConfig(apps=[AppSpec(instance="nope", app_id="y", webhook_secret="u" * 16)]))
    store.close()


def test_a_declared_app_cannot_take_the_secret_another_app_holds(tmp_path: Path) -> None:
    # A signature names no app: with one secret, a request signed for one app would pass as the other's.
    store = _store(tmp_path)
    instance = store.add_instance("i", "http://a", None)
    registered, secret = store.add_app(instance.id, "from-api", None, "workflow")
    with pytest.raises(StoreError, match="app copy's webhook_secret is another registered app's") as info:
        store.merge_declared(ServerConfig(apps=[AppSpec(instance="i", app_id="copy", webhook_secret=secret)]))
    assert secret not in str(info.value)
    assert store.list_apps() == [registered]
    store.merge_declared(ServerConfig(apps=[AppSpec(instance="i", app_id="copy", webhook_secret="own" * 6)]))
    # The app's own secret, declared again at the next start, is its own.
    store.merge_declared(ServerConfig(apps=[AppSpec(instance="i", app_id="copy", webhook_secret="own" * 6)]))
    assert len(store.list_apps()) == 2
    store.close()


def test_key_file_is_private_and_a_changed_key_is_reported(tmp_path: Path) -> None:
    store = _store(tmp_path)
    instance = store.add_instance("i", "http://i", "app-secret")
    store.close()
    assert stat.S_IMODE(os.stat(tmp_path / "s.db.key").st_mode) == 0o600
    other = _store(tmp_path, Fernet.generate_key())
    with pytest.raises(StoreError, match="the encryption key changed"):
        other.instance_api_key(instance.id)
    other.close()


def test_spent_nonces_are_kept_until_they_expire(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save_nonces({"a": 100.0, "b": 300.0, "c": 300.0}, set(), now=50)
    store.save_nonces({}, {"c"}, now=50)  # given back
    assert sorted(store.nonces(now=50)) == [("a", 100.0), ("b", 300.0)]
    store.save_nonces({}, set(), now=200)  # expired nonces are forgotten
    assert store.nonces(now=0) == [("b", 300.0)]
    store.close()


def test_a_corrupt_store_stops_serve_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "bridge.db"
    db.write_bytes(b"this is not a database" * 100)
    pipelines = "service: {pipelines: {traces: {exporters: [console]}}}\n"
    config = tmp_path / "c.yaml"
    config.write_text(f'exporters: {{console: }}\nserver: {{store: "{db}"}}\n' + pipelines)
    assert main(["serve", "--config", str(config)]) == 2
    assert f"store error: {db}: cannot open the store" in capsys.readouterr().err
    bad_key = tmp_path / "k.yaml"
    bad_key.write_text('exporters: {console: }\nserver: {store: ":memory:", encryption_key: nope}\n' + pipelines)
    assert main(["serve", "--config", str(bad_key)]) == 2
    assert "server.encryption_key: not a Fernet key" in capsys.readouterr().err


def test_a_store_written_before_app_keys_opens_and_apps_take_keys(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "s.db")
    old.execute(
        "CREATE TABLE apps (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, app_id TEXT NOT NULL UNIQUE, "
        "app_name TEXT, app_type TEXT NOT NULL, webhook_secret BLOB NOT NULL, origin TEXT NOT NULL, "
        "created_at REAL NOT NULL)"
    )
    old.execute("INSERT INTO apps VALUES ('r1', 'i1', 'old-app', NULL, 'workflow', x'00', 'api', 1.0)")
    old.commit()
    old.close()
    store = _store(tmp_path)
    (app,) = store.list_apps()
    assert app.app_id == "old-app" and not app.has_api_key and store.app_api_key(app.id) is None
    keyed, _ = store.add_app("i1", "new-app", None, "workflow", api_key="app-KEY")
    assert keyed.has_api_key and store.app_api_key(keyed.id) == "app-KEY"
    store.set_poll_cursor(keyed.id, 5.0)
    store.delete_app(keyed.id)
    assert store.poll_cursor(keyed.id) is None
    store.close()
