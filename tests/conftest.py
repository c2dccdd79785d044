"""Shared fixtures: paths to the bundled sample and the shared corpus, and a local HTTP server."""

from __future__ import annotations

import functools
import gc
import io
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, event, text
from xdist.scheduler import LoadScopeScheduling

from publisher.engine.posts import users
from publisher.engine.storage.store import make_engine, migrate, open_engine
from standins.base import QuietServer
from standins.bot_api import BotApiStandIn
from standins.graph import GRAPH_TOKEN, GraphStandIn
from standins.telegram import TELEGRAM_TOKEN, TelegramStandIn
from standins.x import X_KEYS, X_OAUTH2_TOKEN, XStandIn

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "publisher" / "samples" / "newsde-assad-putin.txt"
CORPUS = ROOT.parent / "shared" / "corpus" / "html"

# Hypothesis' own number of examples: CI runs the whole suite on two cores within five minutes.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("default")

Route = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing() -> Iterator[None]:
    """Argon2 at its lowest cost in this process: the desk's tests add editors and sign in
    hundreds of times, and a hash still verifies only its own password."""
    kept = users._hasher
    users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    users._hasher = kept


class LocalServer:
    """A real HTTP server on 127.0.0.1 whose answers the test sets per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        routes, received = self.routes, self.received

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                route = routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                else:
                    route(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append((self.path, dict(self.headers), self.rfile.read(length)))
                self.do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> str:
        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route
        return self.base + path

    def answer(
        self, path: str, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None
    ) -> str:
        """Answer every request to `path` with this status, JSON body and headers."""

        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route
        return self.base + path


def coming(month: int, day: int) -> str:
    """The next `month`-`day` from today (ISO date): a day ahead that a test can name, within
    the year an editor's time may lie ahead."""
    today = date.today()
    year = today.year if (month, day) > (today.month, today.day) else today.year + 1
    return date(year, month, day).isoformat()


def wait_for(check: Callable[[], Any], seconds: float = 15.0) -> Any:
    """Poll `check` until it gives something truthy (returned), or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError(f"not done within {seconds:g} s")


def run_cli(
    *args: str,
    cwd: Path | None = None,
    stdin: str | None = None,
    tz: str = "UTC",
    env: dict[str, str] | None = None,
    process: bool = False,
) -> subprocess.CompletedProcess:
    """`publisher ARGS` seeing only PATH, the machine time zone `tz`, a wide terminal and `env`
    from the environment: in this process (the CLI's own entry point, with its output, exit
    status, working directory, environment and standard input), or with `process` in a process
    of its own, where what is under test is the process (its start, its signals)."""
    environment = {"PATH": os.environ["PATH"], "TZ": tz, "COLUMNS": "250"} | (env or {})
    if process:
        return subprocess.run(
            [sys.executable, "-m", "publisher", *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            input=stdin,
            timeout=60,
            env=environment | {"PYTHONPATH": str(ROOT)},
        )
    return _run_in_process(list(args), cwd, stdin, environment)


def _run_in_process(
    args: list[str], cwd: Path | None, stdin: str | None, environment: dict[str, str]
) -> subprocess.CompletedProcess:
    from publisher.cli import main

    saved_environ, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    loggers = [logging.getLogger(), logging.getLogger("publisher")]
    saved_logging = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        os.environ.clear()
        os.environ.update(environment)
        time.tzset()
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode()), encoding="utf-8")
        sys.stdout, sys.stderr = out, err
        try:
            main(args)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
        time.tzset()
        for logger, handlers, level, propagate in saved_logging:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
        gc.enable()
    return subprocess.CompletedProcess(["publisher", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def sample_without_url(tmp_path: Path) -> Path:
    """The bundled sample as a CMS dump without its URL line."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "ohne-url.txt"
    path.write_text("".join(line for line in lines if not line.startswith("URL:")))
    return path


@pytest.fixture
def bot_api() -> Iterator[BotApiStandIn]:
    """Telegram's Bot API as the editors' bot talks to it."""
    stand_in = BotApiStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    local.thread.start()
    yield local
    local.httpd.shutdown()
    local.httpd.server_close()


TEST_DATABASE_ENV = "PUBLISHER_TEST_DATABASE_URL"


def _database_params() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get(TEST_DATABASE_ENV):
        params.append(pytest.param("postgresql", id="postgresql"))
    return params


# The modules that each run on one worker: those whose tests share a fixture of the module (a
# served newsroom, a browser), which that worker starts once rather than every worker. The
# desk's browser modules are not among them: Chromium's own processes would then all run at
# once on two cores, and a module of them on one worker is the suite's longest stretch.
TOGETHER = frozenset(
    {
        # The crash tests take the longest: as groups they are handed out first, not last.
        "test_bluesky_crash.py",
        "test_crash.py",
        "test_fanout_crash.py",
        "test_cli.py",
        "test_fuzz.py",
        "test_hostile_requests.py",
        "test_textdump.py",
        "test_widget_browser.py",
    }
)


class ModulesTogether(LoadScopeScheduling):
    """pytest-xdist's scheduling by scope, where a scope is a module named in TOGETHER or else
    a single test (as `--dist load` spreads them). Its own `loadgroup` would do this by mark,
    but it renames tests in a way pytest 9 no longer allows."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return module if Path(module).name in TOGETHER else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> ModulesTogether:
    return ModulesTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `one_database` (the desk, the bot, the hooks and the widget as their users
    see them) run on SQLite only: the engine's and storage's own tests run on both databases,
    and running a page's test twice proves nothing more."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("one_database")
        and getattr(getattr(item, "callspec", None), "params", {}).get("database_url")
        == "postgresql"
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in set(dropped)]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a schema of its own in the test PostgreSQL, dropped afterwards."""
    base = os.environ[TEST_DATABASE_ENV]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=_database_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a schema of its own in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'publisher.db'}"
        return
    with postgres_schema() as url:
        yield url


Statement = tuple[str, Any, bool]


@functools.cache
def _migration_on_postgresql() -> list[Statement]:
    """Every statement a migration of an empty PostgreSQL schema to the newest revision runs,
    recorded once per test process (on a schema of its own)."""
    recorded: list[Statement] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, _x: Any, many: bool):
        recorded.append((statement, parameters, many))

    with postgres_schema() as url:
        migrated = make_engine(url)
        event.listen(migrated, "before_cursor_execute", record)
        migrate(migrated)
        migrated.dispose()
    return recorded


@functools.cache
def _migrated_sqlite(folder: Path) -> Path:
    """A SQLite file migrated to the newest revision, made once per test process in `folder`."""
    made = folder / "migrated.db"
    migrated = make_engine(f"sqlite:///{made}")
    migrate(migrated)
    migrated.dispose()
    return made


@pytest.fixture
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated engine on a fresh database: a copy of a SQLite file migrated once, or on
    PostgreSQL the migration's recorded statements replayed (the same schema in a tenth of the
    time, for hundreds of tests). Migrating itself is tested in test_store.py."""
    opened = make_engine(database_url)
    if opened.dialect.name == "sqlite" and opened.url.database:
        shutil.copyfile(_migrated_sqlite(tmp_path_factory.getbasetemp()), opened.url.database)
    elif opened.dialect.name == "postgresql":
        raw = opened.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters, many in _migration_on_postgresql():
                if many:
                    cursor.executemany(statement, parameters)
                else:
                    cursor.execute(statement, parameters or None)
            raw.commit()
        finally:
            raw.close()
    opened.dispose()
    opened = open_engine(database_url)
    yield opened
    opened.dispose()


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The stand-ins' credentials in the environment, where the channels read them."""
    values = X_KEYS | {
        "X_OAUTH2_USER_TOKEN": X_OAUTH2_TOKEN,
        "FACEBOOK_PAGE_TOKEN": GRAPH_TOKEN,
        "WHATSAPP_TOKEN": GRAPH_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def x_api() -> Iterator[XStandIn]:
    stand_in = XStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def graph_api() -> Iterator[GraphStandIn]:
    stand_in = GraphStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def telegram_api() -> Iterator[TelegramStandIn]:
    stand_in = TelegramStandIn()
    yield stand_in
    stand_in.close()


# The desk's shared fixtures (the `desk` server among them) and the browser's.
pytest_plugins = [
    "tests.desk_helpers",
    "tests.browser_helpers",
    "tests.newsroom_helpers",
    "tests.platform_helpers",
]
