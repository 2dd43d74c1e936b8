"""Fixtures of the service tests."""
import pytest


class BrokenRule:
    """derive.derive_patient failing for one record ("a bug in a rule"), and put right again."""

    MESSAGE = "a bug in a rule"

    def __init__(self, monkeypatch):
        from registry import derive

        self._monkeypatch, self._derive, self._real = monkeypatch, derive, derive.derive_patient

    def breaks_for(self, record_id: str) -> None:
        real = self._real

        def broken(record, settings):
            if record.record_id == record_id:
                raise ValueError(self.MESSAGE)
            return real(record, settings)

        self._monkeypatch.setattr(self._derive, "derive_patient", broken)

    def fixed(self) -> None:
        self._monkeypatch.setattr(self._derive, "derive_patient", self._real)


@pytest.fixture
def broken_rule(monkeypatch):
    return BrokenRule(monkeypatch)
