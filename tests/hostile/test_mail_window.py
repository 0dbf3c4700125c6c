"""A worker killed between the SMTP server's "250 OK" and the commit (issue 10, item 14).

The outcome is recorded right after the server's 250 to DATA, before QUIT, on a
connection opened before the send: while a slow server still holds QUIT, the delivery
is already `sent`, so a worker killed then does not send the mail again. Should a crash
land in what is left of the window, the repeat carries the same Message-ID, and the
in-app notice exists once."""
from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from app.container import Container
from app.notify.delivery import deliver
from app.notify.email import SmtpSender, message_id
from app.notify.models import Delivery, Notice
from tests.notify.test_delivery import c, notify, status  # noqa: F401 (the fixture c)


class SlowQuitServer:
    """A minimal SMTP server that accepts every message and then takes ``quit_delay`` s to answer QUIT."""

    def __init__(self, quit_delay: float) -> None:
        self.quit_delay = quit_delay
        self.accepted = threading.Event()
        self.quit_asked = threading.Event()
        self.messages: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as lines:
                conn.sendall(b"220 lambat.example ESMTP\r\n")
                for raw in lines:
                    verb = raw[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        conn.sendall(b"250 lambat.example\r\n")
                    elif verb == b"DATA":
                        conn.sendall(b"354 go ahead\r\n")
                        body = b"".join(iter(lambda: lines.readline(), b".\r\n"))
                        self.messages.append(body)
                        conn.sendall(b"250 OK queued\r\n")
                        self.accepted.set()
                    elif verb == b"QUIT":
                        self.quit_asked.set()
                        threading.Event().wait(self.quit_delay)
                        conn.sendall(b"221 bye\r\n")
                        break
                    else:
                        conn.sendall(b"250 OK\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def slow_server() -> Iterator[SlowQuitServer]:
    server = SlowQuitServer(quit_delay=4)
    yield server
    server.close()


@pytest.mark.commits  # a worker thread delivers while the test reads: each needs its own connection
def test_the_delivery_is_recorded_sent_before_quit_so_a_kill_then_sends_nothing_twice(
        c: Container, slow_server: SlowQuitServer) -> None:  # noqa: F811
    [delivery_id] = notify(c, "teknis")
    sender = SmtpSender(dataclasses.replace(c.settings, smtp_host="127.0.0.1", smtp_port=slow_server.port,
                                            smtp_timeout_seconds=10))
    outcome: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("o", deliver(c, delivery_id, sender=sender)))
    worker.start()
    assert slow_server.quit_asked.wait(timeout=20), "the worker never got to QUIT"
    # The server accepted the message and the worker is waiting for QUIT's answer: a kill now
    # must not leave the delivery to be sent again.
    assert status(c, delivery_id).status == "sent"
    worker.join(timeout=30)
    assert outcome["o"].status == "sent"
    # The job arriving again (acks_late after a kill) sends nothing.
    assert deliver(c, delivery_id, sender=sender).status == "skipped"
    assert len(slow_server.messages) == 1
    with c.db.unit_of_work() as session:
        notice = session.scalars(select(Notice)).one()
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
    assert f"Message-ID: {message_id(notice.id, delivery_id, c.settings.smtp_from)}".encode() in \
        slow_server.messages[0]
