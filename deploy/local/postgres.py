"""PostgreSQL from Debian's packages: initdb into a temporary directory, run on a free loopback port."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from deploy.local.ports import free_port, wait_until

SERVER_USER = "postgres"  # initdb refuses to run as root, so root hands the cluster to this account


def bin_dir() -> Path:
    """The newest installed server; installs Debian's `postgresql` package when none is present."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        if os.geteuid() != 0:
            raise RuntimeError("PostgreSQL server binaries are missing; install them: sudo apt-get install postgresql")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
                       check=True, env=env, capture_output=True)
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", SERVER_USER, "--", *cmd]


@dataclass
class PostgresServer:
    """A running cluster; `stop()` shuts it down fast and removes its files."""

    url: str
    datadir: Path
    bindir: Path
    startup_seconds: float = 0.0

    options: str = ""

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.datadir.parent, ignore_errors=True)

    def halt(self) -> None:
        """Stop the server, keeping its data (an outage, for chaos and outage tests)."""
        subprocess.run(_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast",
                                        "-w", "stop"]), capture_output=True)

    def resume(self, timeout: float = 60.0) -> None:
        """Start the halted server again on the same port with the same data."""
        subprocess.run(_as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l",
                                        str(self.datadir.parent / "server.log"), "-o", self.options, "-w", "-t",
                                        str(int(timeout)), "start"]), check=True, capture_output=True)


def start(timeout: float = 60.0) -> PostgresServer:
    bindir = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="numport-pg-"))
    datadir = root / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
    port = free_port()
    subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(datadir), "-U", "numport", "-A", "trust",
                                    "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(root / "server.log"),
                                    "-o", options, "-w", "-t", str(int(timeout)), "start"]),
                   check=True, capture_output=True)
    url = f"postgresql://numport@127.0.0.1:{port}/postgres"
    server = PostgresServer(url, datadir, bindir, options=options)

    def ready() -> bool:
        probe = subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
        return probe.returncode == 0

    server.startup_seconds = wait_until(ready, timeout, "PostgreSQL")
    return server
