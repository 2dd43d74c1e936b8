"""What the tests of racing writers share (PostgreSQL only: SQLite runs one writing transaction at a
time): the autouse skip, and running requests at the same moment, each in its own thread and so its
own database connection."""
import threading

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writing transaction at a time")


def race(requests) -> list:
    """Runs each callable in its own thread (its own database connection), all started together."""
    start = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def run(position, request):
        try:
            start.wait()
            answers[position] = request()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(position, request)) for position, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers
