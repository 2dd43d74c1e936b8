"""Fixtures the workspace's page tests share."""
import pytest


@pytest.fixture
def coordinator(client, coordinator_a):
    """The demo-a coordinator, logged in on the test client."""
    client.force_login(coordinator_a)
    return coordinator_a
