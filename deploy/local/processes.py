"""numport services as real OS processes (`numport run <service>`) and ASGI apps on loopback ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from deploy.local.ports import free_port, wait_until

NUMPORT = str(Path(sys.executable).with_name("numport"))


class ServiceProcess:
    def __init__(self, service: str, env: dict[str, str], port: int | None = None,
                 log_folder: Path | None = None) -> None:
        """`log_folder`: write the log to `<folder>/<service>.log` (the stack's named folder), else a temp file."""
        self.service = service
        self.port = port or free_port()
        self.env = {**os.environ, **env, "NUMPORT_HTTP_PORT": str(self.port)}
        self.log_path = log_folder / f"{service}.log" if log_folder else \
            Path(tempfile.mkstemp(prefix=f"numport-{service}-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **extra_env: str) -> ServiceProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([NUMPORT, "run", self.service], env={**self.env, **extra_env},
                                            stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited with {self.process.returncode}:\n{self.logs()[-3000:]}")
            answer = httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)
            if answer.status_code == 200 and answer.json().get("service") != self.service:
                raise RuntimeError(f"port {self.port} is answered by {answer.json().get('service')}, "
                                   f"not {self.service}")
            return answer.status_code == 200

        wait_until(ready, timeout, f"{self.service} service")

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


class ThreadedServer:
    """An ASGI app on a loopback port in a background thread (the sandbox as services see it: over HTTP)."""

    def __init__(self, app: object, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)
