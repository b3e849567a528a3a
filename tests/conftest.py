"""Shared fixtures: an isolated PATCHWAVE_HOME per test and the store on SQLite and PostgreSQL.

Store tests take the ``store`` fixture and run twice: on a SQLite file and on the PostgreSQL
server at 127.0.0.1:5432 (a database of their own). PostgreSQL is skipped only when it is
unreachable, and the skip reason says so.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from patchwave.settings import get_settings
from patchwave.store import Store, open_store
from patchwave.store.tables import Base

PG_ADMIN_URL = os.environ.get(
    "PATCHWAVE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "pwhome"
    monkeypatch.setenv("PATCHWAVE_HOME", str(home))
    monkeypatch.delenv("PATCHWAVE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    open_store(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def _pg_url() -> Iterator[str | None]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable" here
        admin.dispose()
        yield f"unreachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        return
    name = f"patchwave_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    open_store(url).dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "store.db"
        shutil.copy(template, path)
        st = open_store(f"sqlite:///{path}")
    else:
        url: str | None = request.getfixturevalue("_pg_url")
        if url is None or url.startswith("unreachable"):
            pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is {url}; store test ran on SQLite only")
        st = open_store(url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with st.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield st
    st.dispose()


@pytest.fixture
def store_url(store: Store) -> str:
    """The store's URL with its password, for code that opens its own connections."""
    return store.engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """One Prefect API (a subprocess server on loopback) for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``prefect server start`` on a free loopback port, for tests that run campaigns in
    separate processes (the ephemeral API would cost each process ~10 s to start). Yields its
    API URL."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tmp_path_factory.mktemp("prefect-server")
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": "",
        "PREFECT_UI_ENABLED": "false",
    }
    log = (home / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"prefect server did not start: see {home / 'server.log'}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
