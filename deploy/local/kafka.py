"""Apache Kafka in KRaft single-node mode, assembled from Maven Central jars and run with `java`."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local.ports import free_port, wait_until
from shared.kafka import DEAD_LETTER_MAX_BYTES, INPUT_MAX_BYTES

KAFKA_VERSION = "3.9.1"
ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("NUMPORT_CACHE_DIR", ROOT / ".cache"))
POM = Path(__file__).with_name("kafka-pom.xml")
HEAP = os.environ.get("NUMPORT_KAFKA_HEAP", "-Xms128m -Xmx384m")

LOG4J = """log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File={log}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


def jars_dir(version: str = KAFKA_VERSION) -> Path:
    """Download the broker's jars once; later calls find the cache and download nothing."""
    target = CACHE / f"kafka-{version}" / "libs"
    marker = target / ".complete"
    if marker.exists():
        return target
    if shutil.which("mvn") is None:
        raise RuntimeError("Maven (mvn) is needed once to fetch the Kafka jars; install it (apt-get install maven)")
    target.mkdir(parents=True, exist_ok=True)
    cmd = ["mvn", "-q", "-B", "-f", str(POM), f"-Dkafka.version={version}",
           "dependency:copy-dependencies", f"-DoutputDirectory={target}", "-DincludeScope=runtime"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"mvn could not fetch Kafka {version}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    marker.touch()
    return target


def _java(libs: Path, *args: str, heap: str = "-Xmx128m") -> list[str]:
    # C1 only: the JVM starts sooner and stops compiling soon after; C2 kept an idle broker busy for minutes
    # (10-20 ms CPU/s) recompiling what a run had made hot, for code a local broker never runs hard enough to need.
    # No perf data: nothing here reads it (jstat), and the JVM would sample it every 50 ms.
    return ["java", *heap.split(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
            "-cp", f"{libs}/*", *args]


@dataclass
class KafkaBroker:
    """A running single-node broker; `stop()` shuts it down and removes its data."""

    bootstrap: str
    workdir: Path
    process: subprocess.Popen[bytes]
    startup_seconds: float = 0.0
    owns_workdir: bool = field(default=True)

    def stop(self, timeout: float = 20.0) -> None:
        self.halt(timeout)
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def halt(self, timeout: float = 20.0) -> None:
        """Stop the broker, keeping its data (an outage, for chaos and outage tests)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def resume(self, timeout: float = 90.0) -> None:
        """Start the halted broker again on the same ports with the same data."""
        self.process = _launch(jars_dir(), self.workdir)
        wait_until(lambda: _ready(self), timeout, "Kafka broker", interval=0.5)


def _properties(workdir: Path, port: int, controller_port: int) -> str:
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={workdir / 'data'}",
        "num.partitions=3",
        "auto.create.topics.enable=true",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=3",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "transaction.state.log.num.partitions=3",
        "group.initial.rebalance.delay.ms=0",
        f"message.max.bytes={INPUT_MAX_BYTES}",  # input topics; `.dlq` topics raise it on themselves
        f"replica.fetch.max.bytes={DEAD_LETTER_MAX_BYTES}",  # followers copy the largest dead letter too
        "num.network.threads=2",
        "num.io.threads=2",
        # A local single node has no other voter or broker to keep in step: the controller's no-op record (which
        # moves the metadata log on while nothing changes) and the broker's heartbeat to its own controller need
        # not run several times a second (defaults 500 ms and 2 s; an idle broker spent 4 ms CPU/s on them).
        "metadata.max.idle.interval.ms=5000",
        "broker.heartbeat.interval.ms=5000",
        "broker.session.timeout.ms=18000",
        "",
    ])


async def _answers(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # refused connections are expected while the broker boots
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.describe_cluster()
        return True
    finally:
        await admin.close()
        quiet.setLevel(level)


def broker_answers(bootstrap: str) -> bool:
    """A real client request (DescribeCluster), not merely an open port."""
    return asyncio.run(_answers(bootstrap))


def start(workdir: Path | None = None, timeout: float = 90.0) -> KafkaBroker:
    libs = jars_dir()
    owns = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="numport-kafka-")) if workdir is None else workdir
    workdir.mkdir(parents=True, exist_ok=True)
    port, controller_port = free_port(), free_port()
    config = workdir / "server.properties"
    config.write_text(_properties(workdir, port, controller_port))
    log4j = workdir / "log4j.properties"
    log4j.write_text(LOG4J.format(log=workdir / "broker.log"))
    subprocess.run(_java(libs, "kafka.tools.StorageTool", "format", "-t", str(uuid.uuid4()), "-c", str(config)),
                   check=True, capture_output=True)
    broker = KafkaBroker(f"127.0.0.1:{port}", workdir, _launch(libs, workdir), owns_workdir=owns)
    try:
        broker.startup_seconds = wait_until(lambda: _ready(broker), timeout, "Kafka broker", interval=0.5)
    except Exception:
        broker.stop()
        raise
    return broker


def _launch(libs: Path, workdir: Path) -> subprocess.Popen[bytes]:
    log = open(workdir / "stdout.log", "ab")  # noqa: SIM115 - the broker keeps writing after we return
    return subprocess.Popen(
        _java(libs, f"-Dlog4j.configuration=file:{workdir / 'log4j.properties'}", "kafka.Kafka",
              str(workdir / "server.properties"), heap=HEAP),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def _ready(broker: KafkaBroker) -> bool:
    if broker.process.poll() is not None:
        raise RuntimeError(f"Kafka exited with {broker.process.returncode}; see {broker.workdir}/stdout.log")
    return broker_answers(broker.bootstrap)
