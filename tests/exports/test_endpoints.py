"""The endpoints dataset's event description and censoring flag (CDISC ADTTE EVNTDESC and CNSR)."""
from datetime import date
from decimal import Decimal

import pytest

from tests import factories
from tests.exports.exported import export_records
from tests.exports.stored_results import make_line_derivation, make_patient_derivation

PFS_CASES = [
    # (pfs_event, pfs_event_type, pfs_censor_reason) → (cnsr, evntdesc)
    ((True, "progression", ""), ("0", "PROGRESSION")),
    ((True, "death", ""), ("0", "DEATH")),
    ((False, "", "new_therapy"), ("1", "NEW_THERAPY")),
    ((False, "", "no_adequate_assessment"), ("1", "NO_ADEQUATE_ASSESSMENT")),
    ((False, "", "death_after_missed_assessments"), ("1", "DEATH_AFTER_MISSED_ASSESSMENTS")),
    ((False, "", "cutoff"), ("1", "CUTOFF")),
    ((None, "", ""), ("", "")),  # not derived: no data cut-off
]
OS_CASES = [
    # (os_event, os_censor_reason) → (cnsr, evntdesc)
    ((True, ""), ("0", "DEATH")),
    ((False, "last_known_alive"), ("1", "LAST KNOWN ALIVE")),
    ((False, "cutoff"), ("1", "DATA CUTOFF")),
    ((None, ""), ("", "")),
]


def _one_line(site, **derived):
    patient = factories.make_patient(site, "P-1")
    make_patient_derivation(patient)
    line = factories.make_line(patient, 1, line_start=date(2021, 1, 4))
    make_line_derivation(line, **derived)


@pytest.mark.parametrize(("stored", "expected"), PFS_CASES)
def test_pfs_event_description_is_the_event_or_the_censoring_reason_upper_case(site_a, tmp_path, stored, expected):
    event, event_type, censor_reason = stored
    _one_line(site_a, pfs_date=None if event is None else date(2021, 7, 1),
              pfs_days=None if event is None else 178, pfs_months=None if event is None else Decimal("5.848049"),
              pfs_event=event, pfs_event_type=event_type, pfs_censor_reason=censor_reason)

    pfs, os_ = export_records(tmp_path, "endpoints")

    assert (pfs["paramcd"], os_["paramcd"]) == ("PFS", "OS")
    assert (pfs["cnsr"], pfs["evntdesc"]) == expected
    assert pfs["startdt"] == "2021-01-04"
    assert pfs["adt"] == ("" if event is None else "2021-07-01")


@pytest.mark.parametrize(("stored", "expected"), OS_CASES)
def test_os_event_description_is_death_last_known_alive_or_data_cutoff(site_a, tmp_path, stored, expected):
    event, censor_reason = stored
    _one_line(site_a, os_date=None if event is None else date(2023, 2, 1),
              os_days=None if event is None else 758, os_months=None if event is None else Decimal("24.903491"),
              os_event=event, os_censor_reason=censor_reason)

    _, os_ = export_records(tmp_path, "endpoints")

    assert os_["paramcd"] == "OS"
    assert (os_["cnsr"], os_["evntdesc"]) == expected
    assert (os_["aval_days"], os_["aval_months"]) == (("", "") if event is None else ("758", "24.903491"))
