"""`numport stack` names what a newcomer needs (API, key, database, logs) and stops on SIGINT even in the background."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from deploy.local.ports import free_port
from deploy.local.processes import NUMPORT


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a shell does to a job started with `&`


def test_stack_prints_what_to_use_and_stops_on_sigint_when_started_in_the_background():
    command = [NUMPORT, "stack", "--gateway-port", str(free_port()), "--sandbox-port", str(free_port())]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          preexec_fn=ignore_sigint) as stack:
        printed = ""
        deadline = time.monotonic() + 180
        while "stops everything" not in printed and time.monotonic() < deadline and stack.poll() is None:
            printed += stack.stdout.readline()
        assert "stops everything" in printed, printed
        api = re.search(r"NUMPORT_API_URL=(\S+) NUMPORT_API_KEY=np_local-partner_\S+", printed)
        assert api and re.search(r"Database: postgresql://\S+", printed), printed
        folder = Path(re.search(r"Service logs \(JSON lines, one file per service\): (\S+);", printed).group(1))
        assert folder.is_dir() and (folder / "gateway.log").exists()
        stack.send_signal(signal.SIGINT)
        rest, _ = stack.communicate(timeout=90)
    assert stack.returncode == 0 and "numport stack: stopped" in rest, rest
    port = int(api.group(1).rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # the gateway it started is gone
