"""Registrations and replay protection in one SQLite file (WAL): a restart loses nothing.

Dify API keys and webhook secrets are stored encrypted (Fernet); nothing here ever logs them.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from bridge.management.settings import ServerConfig
from bridge.state_files.file_lock import FileInUse, FileLock
from bridge.state_files.private_file import make_private

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, base_url TEXT NOT NULL, api_key BLOB,
    origin TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS apps (
    id TEXT PRIMARY KEY, instance_id TEXT NOT NULL REFERENCES instances(id), app_id TEXT NOT NULL UNIQUE,
    app_name TEXT, app_type TEXT NOT NULL, webhook_secret BLOB NOT NULL, origin TEXT NOT NULL,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces (expires_at);
CREATE TABLE IF NOT EXISTS baselines (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS poll_cursors (instance_id TEXT PRIMARY KEY, created_after REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, client TEXT);
"""


# The `App` fields, in order.
_APP_COLUMNS = "id, instance_id, app_id, app_name, app_type, origin, created_at, api_key IS NOT NULL"


class StoreError(Exception):
    """The store cannot be opened or read (corrupt file, wrong encryption key): said at start."""


# Registrations made over the API, at most: every webhook looks its app up and `GET /api/v1/dify/apps` lists them
# all, so a runaway script registering without end would slow both. Far above any real deployment's.
MAX_INSTANCES = 1_000
MAX_APPS = 10_000


class RegistrationsFull(Exception):
    """The store holds `MAX_INSTANCES` instances or `MAX_APPS` apps already: one must be deleted first."""


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    name: str
    base_url: str
    has_api_key: bool
    origin: str  # "api" or "config"
    created_at: float


@dataclass(frozen=True, slots=True)
class App:
    id: str
    instance_id: str
    app_id: str
    app_name: str | None
    app_type: str
    origin: str
    created_at: float
    has_api_key: bool = False  # the app's own Dify API key is stored: the poller polls the app with it


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    actor: str  # the API key id (`key_id`), never the key
    action: str  # instance.register, instance.delete, app.register, app.rotate_secret, app.delete
    target: str  # what the action changed, by name or id
    client: str | None  # the caller's address


def _app(row: tuple[Any, ...]) -> App:
    """An `App` from a row of `_APP_COLUMNS`."""
    return App(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def load_fernet(cfg: ServerConfig) -> Fernet:
    """The configured key, or a key file beside the store (created 0600); in-memory stores get a fresh key."""
    if cfg.encryption_key:
        try:
            return Fernet(cfg.encryption_key.encode())
        except ValueError:
            raise StoreError("server.encryption_key: not a Fernet key (32 url-safe base64-encoded bytes)") from None
    if cfg.store == ":memory:":
        return Fernet(Fernet.generate_key())
    key_path = Path(cfg.store + ".key")
    try:
        if not key_path.exists():
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        return Fernet(key_path.read_bytes().strip())
    except OSError as exc:
        raise StoreError(f"{key_path}: cannot create or read the store's encryption key: {exc.strerror}") from None
    except ValueError:
        raise StoreError(f"{key_path}: not a Fernet key") from None


class Store:
    """Thread-safe; every call is one short transaction."""

    def __init__(self, path: str, fernet: Fernet, exclusive: bool = False) -> None:
        """`exclusive`: this process alone may use the file (`serve`): another bridge on it fails at start."""
        self._fernet = fernet
        self._plain: dict[bytes, str] = {}  # ciphertext → secret, as rotation writes a new ciphertext
        # Read on every signed request, so cached; both are cleared by every write to `apps`.
        self._by_app_id: dict[str, App | None] = {}  # Dify app id → registration
        self._secrets: dict[str, str] = {}  # registration id → webhook secret
        self._shared: dict[str, str] = {}  # Dify app id → another app holding its webhook secret
        self._lock = threading.Lock()
        try:
            self._file_lock = FileLock(path) if exclusive and path != ":memory:" else None
        except FileInUse as exc:
            raise StoreError(f"{path}: {exc}: stop that bridge, or give this one its own server.store") from None
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the store: {exc.strerror}: {exc.filename}") from None
        try:
            make_private(path)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # Survives a killed process without an fsync per nonce; registrations are rare and small.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            if "api_key" not in {row[1] for row in self._db.execute("PRAGMA table_info(apps)")}:
                self._db.execute("ALTER TABLE apps ADD COLUMN api_key BLOB")  # stores written before app keys
        except (sqlite3.DatabaseError, OSError) as exc:
            self._release_file_lock()
            raise StoreError(f"{path}: cannot open the store: {exc}") from None

    def _release_file_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._release_file_lock()

    def _forget_apps(self) -> None:
        """Called under the lock after every write to `apps`."""
        self._by_app_id.clear()
        self._secrets.clear()

    def _encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def _decrypt(self, value: bytes) -> str:
        # Each signed request needs its app's secret: decrypt a stored value once, not per request.
        plain = self._plain.get(value)
        if plain is None:
            try:
                plain = self._plain[value] = self._fernet.decrypt(value).decode()
            except InvalidToken:
                raise StoreError("a stored secret does not decrypt: the encryption key changed") from None
        return plain

    # --- instances -----------------------------------------------------------------------------

    def add_instance(self, name: str, base_url: str, api_key: str | None, origin: str = "api") -> Instance:
        instance = Instance(str(uuid.uuid4()), name, base_url.rstrip("/"), api_key is not None, origin, time.time())
        with self._lock:
            self._refuse_past("instances", MAX_INSTANCES, origin)
            self._db.execute(
                "INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?)",
                (instance.id, name, instance.base_url, self._encrypt(api_key) if api_key else None, origin,
                 instance.created_at),
            )  # fmt: skip
        return instance

    def _refuse_past(self, table: str, most: int, origin: str) -> None:
        # The config file's own declarations are bounded by the file: only API registrations are counted out.
        if origin == "api" and self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] >= most:
            raise RegistrationsFull(f"{most} {table} are registered, the most the bridge keeps: delete one first")

    def _instances(self, where: str = "", args: tuple[str, ...] = ()) -> list[Instance]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, name, base_url, api_key IS NOT NULL, origin, created_at FROM instances {where} "
                "ORDER BY created_at",
                args,
            ).fetchall()
        return [Instance(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows]

    def list_instances(self) -> list[Instance]:
        return self._instances()

    def instance(self, instance_id: str) -> Instance | None:
        found = self._instances("WHERE id = ?", (instance_id,))
        return found[0] if found else None

    def instance_by_name(self, name: str) -> Instance | None:
        found = self._instances("WHERE name = ?", (name,))
        return found[0] if found else None

    def instance_api_key(self, instance_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT api_key FROM instances WHERE id = ?", (instance_id,)).fetchone()
        return self._decrypt(row[0]) if row and row[0] else None

    # --- apps ----------------------------------------------------------------------------------

    def add_app(
        self, instance_id: str, app_id: str, app_name: str | None, app_type: str, secret: str | None = None,
        origin: str = "api", api_key: str | None = None,
    ) -> tuple[App, str]:  # fmt: skip
        """The new app and its webhook secret (shown once by the API)."""
        secret = secret or new_secret()
        app = App(str(uuid.uuid4()), instance_id, app_id, app_name, app_type, origin, time.time(), bool(api_key))
        with self._lock:
            self._refuse_past("apps", MAX_APPS, origin)
            self._db.execute(
                "INSERT INTO apps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (app.id, instance_id, app_id, app_name, app_type, self._encrypt(secret), origin, app.created_at,
                 self._encrypt(api_key) if api_key else None),
            )  # fmt: skip
            self._forget_apps()
        return app, secret

    def app_api_key(self, registration_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT api_key FROM apps WHERE id = ?", (registration_id,)).fetchone()
        return self._decrypt(row[0]) if row and row[0] else None

    def delete_app(self, registration_id: str) -> None:
        """Removes the app and the poll cursor of its own API key."""
        with self._lock:
            self._db.execute("DELETE FROM poll_cursors WHERE instance_id = ?", (registration_id,))
            self._db.execute("DELETE FROM apps WHERE id = ?", (registration_id,))
            self._forget_apps()
        if self._shared:
            self._find_shared_secrets()

    def delete_instance(self, instance_id: str) -> None:
        """Removes the instance and its poll cursor; its apps must be deleted first."""
        with self._lock:
            self._db.execute("DELETE FROM poll_cursors WHERE instance_id = ?", (instance_id,))
            self._db.execute("DELETE FROM instances WHERE id = ?", (instance_id,))

    def _apps(self, where: str = "", args: tuple[str, ...] = ()) -> list[App]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_APP_COLUMNS} FROM apps {where} ORDER BY created_at",
                args,
            ).fetchall()
        return [_app(r) for r in rows]

    def list_apps(self) -> list[App]:
        return self._apps()

    def app(self, app_id: str) -> App | None:
        """By Dify's app id (what payloads carry)."""
        with self._lock:  # one critical section, so a write in between cannot leave a stale entry
            if app_id in self._by_app_id:
                return self._by_app_id[app_id]
            row = self._db.execute(
                f"SELECT {_APP_COLUMNS} FROM apps WHERE app_id = ? ORDER BY created_at LIMIT 1",
                (app_id,),
            ).fetchone()
            found = _app(row) if row else None
            if len(self._by_app_id) < 10_000:  # unknown ids are remembered too, but not without bound
                self._by_app_id[app_id] = found
            return found

    def app_by_id(self, registration_id: str) -> App | None:
        found = self._apps("WHERE id = ?", (registration_id,))
        return found[0] if found else None

    def webhook_secret(self, app: App) -> str:
        with self._lock:
            cached = self._secrets.get(app.id)
            if cached is not None:
                return cached
            row = self._db.execute("SELECT webhook_secret FROM apps WHERE id = ?", (app.id,)).fetchone()
            if row is None:
                raise StoreError(f"app {app.app_id} disappeared")
            secret = self._decrypt(row[0])
            self._secrets[app.id] = secret
            return secret

    def rotate_secret(self, app: App) -> str:
        secret = new_secret()
        with self._lock:
            self._db.execute("UPDATE apps SET webhook_secret = ? WHERE id = ?", (self._encrypt(secret), app.id))
            self._forget_apps()
        if self._shared:
            self._find_shared_secrets()
        return secret

    def secret_shared_with(self, app_id: str) -> str | None:
        """Another app holding app `app_id`'s webhook secret (as found at start), or None."""
        return self._shared.get(app_id)

    def _find_shared_secrets(self) -> None:
        """Apps holding one webhook secret, which an older bridge stored unchecked: a signature with it cannot
        tell them apart, so each is refused (`secret_shared_with`) until one of them is rotated or deleted."""
        holders: dict[str, list[str]] = {}
        for app in self.list_apps():
            try:
                holders.setdefault(self.webhook_secret(app), []).append(app.app_id)
            except StoreError:  # the encryption key changed: each use of this app says so
                continue
        groups = [group for group in holders.values() if len(group) > 1]
        self._shared = {app_id: next(o for o in group if o != app_id) for group in groups for app_id in group}

    # --- replay protection ---------------------------------------------------------------------

    def nonces(self, now: float) -> list[tuple[str, float]]:
        """Spent nonces not expired at `now`, with their expiry (`management.nonces.SpentNonces` checks them)."""
        with self._lock:
            return self._db.execute("SELECT nonce, expires_at FROM nonces WHERE expires_at >= ?", (now,)).fetchall()

    def save_nonces(self, spent: dict[str, float], given_back: set[str], now: float) -> None:
        """One transaction: nonces spent (→ expiry) and given back since the last call; expired ones deleted."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute("DELETE FROM nonces WHERE expires_at < ?", (now,))
                self._db.executemany("INSERT OR REPLACE INTO nonces VALUES (?, ?)", spent.items())
                self._db.executemany("DELETE FROM nonces WHERE nonce = ?", [(nonce,) for nonce in given_back])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def poll_cursor(self, key_owner: str) -> float | None:
        """Where polling with a key goes on: `key_owner` is the id of the instance or app registration holding it."""
        with self._lock:
            row = self._db.execute("SELECT created_after FROM poll_cursors WHERE instance_id = ?", (key_owner,))
            found = row.fetchone()
        return None if found is None else float(found[0])

    def set_poll_cursor(self, key_owner: str, created_after: float) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO poll_cursors VALUES (?, ?)", (key_owner, created_after))

    # --- audit log ------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, target: str, client: str | None, now: float) -> None:
        """Records a management action: `actor` is the API key id (never the key), `target` what changed."""
        with self._lock:
            self._db.execute(
                "INSERT INTO audit_log (at, actor, action, target, client) VALUES (?, ?, ?, ?, ?)",
                (now, actor, action, target, client),
            )

    def audit_log(self, limit: int) -> list[AuditEntry]:
        """The newest `limit` entries, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, at, actor, action, target, client FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [AuditEntry(*row) for row in rows]

    # --- detector baselines (the `detectors.Baselines` protocol) --------------------------------

    def get(self, key: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM baselines WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        self.put_many({key: value})

    def put_many(self, values: dict[str, Any]) -> None:
        """One transaction for many keys (the write-behind cache's flush)."""
        rows = [(key, json.dumps(value)) for key, value in values.items()]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR REPLACE INTO baselines VALUES (?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- declared in the config file -----------------------------------------------------------

    def merge_declared(self, cfg: ServerConfig) -> None:
        """Adds or updates the config file's instances and apps; registrations made over the API stay."""
        for spec in cfg.instances:
            existing = self.instance_by_name(spec.name)
            if existing is None:
                self.add_instance(spec.name, spec.base_url, spec.api_key, origin="config")
                continue
            with self._lock:
                self._db.execute(
                    "UPDATE instances SET base_url = ?, api_key = ? WHERE id = ?",
                    (spec.base_url.rstrip("/"), self._encrypt(spec.api_key) if spec.api_key else None, existing.id),
                )
        for app_spec in cfg.apps:
            instance = self.instance_by_name(app_spec.instance)
            if instance is None:
                raise StoreError(f"server.apps: app {app_spec.app_id} names unknown instance {app_spec.instance!r}")
            current = self.app(app_spec.app_id)
            # A signature names no app: a secret another app holds would let one's requests pass as the other's.
            if any(a.app_id != app_spec.app_id and self.webhook_secret(a) == app_spec.webhook_secret
                   for a in self.list_apps()):  # fmt: skip
                raise StoreError(f"server.apps: app {app_spec.app_id}'s webhook_secret is another registered app's: "
                                 "give each app its own")  # fmt: skip
            if current is None:
                self.add_app(instance.id, app_spec.app_id, app_spec.app_name, app_spec.app_type,
                             app_spec.webhook_secret, origin="config", api_key=app_spec.api_key)  # fmt: skip
                continue
            api_key = self._encrypt(app_spec.api_key) if app_spec.api_key else None
            with self._lock:
                self._db.execute(
                    "UPDATE apps SET instance_id = ?, app_name = ?, app_type = ?, webhook_secret = ?, api_key = ? "
                    "WHERE id = ?",
                    (instance.id, app_spec.app_name, app_spec.app_type, self._encrypt(app_spec.webhook_secret),
                     api_key, current.id),
                )  # fmt: skip
                self._forget_apps()
        self._find_shared_secrets()
        for group in {frozenset((a, b)) for a, b in self._shared.items()}:
            logger.error(
                "apps %s hold one webhook secret (stored by an older bridge): their signed requests are refused"
                " until one is rotated (POST /api/v1/dify/apps/{id}/rotate-secret) or deleted",
                " and ".join(repr(app_id) for app_id in sorted(group)),  # stored unchecked by an older bridge
            )
