"""A real PgBouncer in transaction mode in front of a Postgres, for ``make test-pooler``.

Transaction-mode pooling is what RDS Proxy and the Neon and Supabase poolers do; PgBouncer is the
reference one. It comes from the operating system (Debian/Ubuntu: ``apt-get install pgbouncer``;
macOS: ``brew install pgbouncer``), is started here as a plain child process with a generated ini in
a temporary folder, and needs no root: as root (CI) it runs as an unprivileged user, as it insists.

The ini is the strict configuration: ``pool_mode = transaction`` and no ``ignore_startup_parameters``,
so a client that sends startup ``options`` is refused exactly as a managed pooler refuses it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from local.servers import LOOPBACK, free_port, service_dir

SEARCH_PATH = ("/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/opt/homebrew/bin")
UNPRIVILEGED_USERS = ("pgserver", "postgres", "nobody")


def find_pgbouncer() -> str:
    """The ``pgbouncer`` binary (``PGBOUNCER`` overrides), or a RuntimeError saying how to get it."""
    found = os.environ.get("PGBOUNCER") or shutil.which("pgbouncer", path=os.pathsep.join(
        [os.environ.get("PATH", ""), *SEARCH_PATH]))
    if not found:
        raise RuntimeError("pgbouncer is not installed: apt-get install pgbouncer (or brew install pgbouncer); "
                           "or set PGBOUNCER to its path")
    return found


@dataclass
class PgBouncer:
    process: subprocess.Popen
    folder: Path
    port: int
    user: str
    dbname: str

    @property
    def url(self) -> str:
        return f"postgresql://{quote(self.user)}@{LOOPBACK}:{self.port}/{quote(self.dbname)}"

    @property
    def admin_url(self) -> str:
        """The admin console (``SHOW POOLS``, ``RECONNECT``, ``KILL``; simple queries only)."""
        return f"postgresql://{quote(self.user)}@{LOOPBACK}:{self.port}/pgbouncer"

    def hang_up_clients(self) -> None:
        """Close every client connection, as a pooler does to idle clients (``KILL``), then take new
        ones again (``RESUME``)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, prepare_threshold=None) as admin:
            admin.execute(f"KILL {self.dbname}", prepare=False)
            admin.execute(f"RESUME {self.dbname}", prepare=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # immediate shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _ini_value(value: str) -> str:
    return "'" + value.replace("'", "''") + "'" if any(c in value for c in " '=") else value


def start_pgbouncer(upstream_dsn: str, *, pool_size: int = 20) -> PgBouncer:
    """PgBouncer (transaction mode) on 127.0.0.1 forwarding to ``upstream_dsn``; clients log in with
    the upstream user name and no password (the pooler itself logs in to the server)."""
    from psycopg.conninfo import conninfo_to_dict

    binary = find_pgbouncer()
    params = conninfo_to_dict(upstream_dsn)
    user, dbname = str(params.get("user") or "postgres"), str(params.get("dbname") or "postgres")
    server = {key: str(params[key]) for key in ("host", "port", "user", "password", "dbname") if params.get(key)}
    folder = service_dir("atribuo-pgbouncer-")
    port = free_port()
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text("\n".join([
        "[databases]",
        f"{dbname} = " + " ".join(f"{key}={_ini_value(value)}" for key, value in server.items()),
        "[pgbouncer]",
        f"listen_addr = {LOOPBACK}",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {folder / 'userlist.txt'}",
        "pool_mode = transaction",
        f"admin_users = {user}",  # the admin console (database "pgbouncer"): RECONNECT, KILL, SHOW
        f"default_pool_size = {pool_size}",
        "max_client_conn = 500",
        f"logfile = {folder / 'pgbouncer.log'}",
        "log_connections = 0",
        "log_disconnections = 0",
        "",
    ]))
    run_as = None
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        import pwd

        run_as = next(name for name in UNPRIVILEGED_USERS if _user_exists(pwd, name))
        entry = pwd.getpwnam(run_as)
        for path in (folder, *folder.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    process = subprocess.Popen([binary, str(folder / "pgbouncer.ini")], user=run_as,  # noqa: S603
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pooler = PgBouncer(process, folder, port, user, dbname)
    _wait_until_ready(pooler)
    return pooler


def _user_exists(pwd: object, name: str) -> bool:
    try:
        pwd.getpwnam(name)  # type: ignore[attr-defined]
    except KeyError:
        return False
    return True


def _wait_until_ready(pooler: PgBouncer) -> None:
    import psycopg

    deadline = time.monotonic() + 15
    while True:
        if pooler.process.poll() is not None:
            log = pooler.folder / "pgbouncer.log"
            detail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"pgbouncer exited at start: {detail}")
        try:
            with psycopg.connect(pooler.url, connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                pooler.stop()
                raise
            time.sleep(0.05)
