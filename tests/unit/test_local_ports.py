"""The local launchers' ports: several servers started side by side never draw the same one."""

from __future__ import annotations

from deploy.local.ports import LISTEN_PORTS, free_port


def test_ports_handed_out_in_one_process_are_all_different() -> None:
    drawn = [free_port() for _ in range(300)]  # at random from 12,768 ports, 300 draws repeat one almost surely
    assert len(set(drawn)) == len(drawn)
    assert all(port in LISTEN_PORTS for port in drawn)
