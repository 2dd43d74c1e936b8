"""Locking, unlocking and signing records (registry/services/locks.py), and the write services'
refusal of locked data."""
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from registry.models import Patient, RecordLock, RecordSignature, TreatmentLine
from registry.records.record_content import record_content_hashes
from registry.selectors.locks import locked_patient_ids, record_locks, record_signatures
from registry.services.instances import instance_delete, instance_save
from registry.services.locks import (
    SIGNATURE_MEANING, LockError, RecordLocked, instance_lock, instance_unlock, record_lock, record_sign,
    record_unlock,
)
from tests import factories
from tests.access_roles import ROLE_CASES
from tests.locked_records import locked_record, make_data_manager, snapshot, whole_record_refusal

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-only"  # tests/factories.make_user's


def test_a_whole_record_lock_refuses_a_change_a_new_instance_and_a_deletion(site_a):
    patient = locked_record(site_a)
    before = snapshot()
    line = TreatmentLine.objects.get(patient=patient, redcap_repeat_instance=2)
    line.line_ecog = 1
    new_line = TreatmentLine(patient=patient, line_no=3, line_type=1, line_drug=2, line_start=date(2022, 1, 1))

    for write in (lambda: instance_save(instance=line, user=None),
                  lambda: instance_save(instance=new_line, user=None),
                  lambda: instance_delete(instance=line, user=None),
                  lambda: instance_delete(instance=Patient.objects.get(pk=patient.pk), user=None)):
        with pytest.raises(RecordLocked) as refused:
            write()
        assert str(refused.value) == (f"Nothing was written: {whole_record_refusal()}. "
                                      "A data manager may unlock it, giving a reason.")
    assert snapshot() == before


def test_an_instance_lock_blocks_that_instance_only(site_a):
    patient = locked_record(site_a, whole_record=False)  # treatment line 1 locked
    first, second = TreatmentLine.objects.filter(patient=patient).order_by("redcap_repeat_instance")
    first.line_ecog, second.line_ecog = 3, 1  # line 1 was made with ECOG 1, line 2 without

    with pytest.raises(RecordLocked, match=r"treatment_line 1 of record P-1 is locked \(by data_manager on "):
        instance_save(instance=first, user=None)
    instance_save(instance=second, user=None)  # the other line changes
    instance_save(instance=TreatmentLine(patient=patient, line_no=3, line_type=1, line_drug=2,
                                         line_start=date(2022, 1, 1)), user=None)  # and a new one is added
    stored = Patient.objects.get(pk=patient.pk)
    stored.mrn = "MRN-NEW"
    instance_save(instance=stored, user=None)  # and the record's own forms change

    assert dict(TreatmentLine.objects.filter(patient=patient).values_list("redcap_repeat_instance", "line_ecog")) == {
        1: 1, 2: 1, 3: None}
    with pytest.raises(RecordLocked):  # the record is not deleted with a locked instance in it
        instance_delete(instance=stored, user=None)


def test_a_lock_of_vital_status_lets_enrollment_change_but_not_vital_status(site_a):
    patient = factories.make_patient(site_a, "P-1", vital=1)
    instance_lock(patient=patient, form="vital_status", instance=None, user=make_data_manager())
    patient.mrn = "MRN-NEW"
    instance_save(instance=patient, user=None)
    patient.vital = 2

    with pytest.raises(RecordLocked, match="vital_status of record P-1 is locked"):
        instance_save(instance=patient, user=None)
    assert Patient.objects.values_list("mrn", "vital").get() == ("MRN-NEW", 1)


def test_an_unlock_needs_a_reason_and_keeps_who_when_and_why(site_a):
    patient = locked_record(site_a)
    data_manager = RecordLock.objects.get().locked_by

    for reason in ("", "   "):
        with pytest.raises(LockError, match="An unlock needs a reason"):
            record_unlock(patient=patient, user=data_manager, reason=reason)
    assert locked_patient_ids() == {patient.pk}

    record_unlock(patient=patient, user=data_manager, reason="Site corrected the date of diagnosis")

    lock = RecordLock.objects.get()
    assert (lock.unlocked_by, lock.unlock_reason, lock.unlocked_at is not None) == (
        data_manager, "Site corrected the date of diagnosis", True)
    assert locked_patient_ids() == set()
    # The lock's history: created (locked), then changed (unlocked) with the reason.
    assert list(lock.history.order_by("history_id").values_list("history_type", "history_change_reason",
                                                                  "history_user")) == [
        ("+", "locked", data_manager.pk), ("~", "unlocked: Site corrected the date of diagnosis", data_manager.pk)]


def test_a_record_is_locked_once_and_an_unlocked_record_cannot_be_unlocked(site_a):
    patient = locked_record(site_a)
    data_manager = RecordLock.objects.get().locked_by
    with pytest.raises(LockError, match="Already locked: record P-1 is locked"):
        record_lock(patient=patient, user=data_manager)
    record_unlock(patient=patient, user=data_manager, reason="correction")
    with pytest.raises(LockError, match="Not locked: record P-1"):
        record_unlock(patient=patient, user=data_manager, reason="again")
    record_lock(patient=patient, user=data_manager)  # locked again: a second lock row
    assert RecordLock.objects.count() == 2


def test_an_instance_that_does_not_exist_cannot_be_locked(site_a):
    patient = factories.make_patient(site_a, "P-1")
    with pytest.raises(LockError, match="Record P-1 has no treatment_line instance 4"):
        instance_lock(patient=patient, form="treatment_line", instance=4, user=make_data_manager())
    assert not RecordLock.objects.exists()


@pytest.mark.parametrize("role", list(ROLE_CASES), ids=[name for name, _ in ROLE_CASES.values()])
def test_who_may_lock_unlock_and_sign(site_a, role):
    # The capability table (registry/selectors/access.py): LOCK for data managers and administrators,
    # SIGN for them and investigators; coordinators and viewers neither.
    may_lock = role in ("administrator", "data_manager")
    may_sign = role in ("administrator", "data_manager", "investigator")
    name, case = ROLE_CASES[role]
    user = factories.make_user("someone", role=case.role, sites=[site_a] if case.member_of else [])
    patient = factories.make_patient(site_a, "P-1")

    if may_lock:
        record_lock(patient=patient, user=user)
    else:
        with pytest.raises(PermissionDenied):
            record_lock(patient=patient, user=user)
        record_lock(patient=patient, user=make_data_manager())
    if may_sign:
        record_sign(patient=patient, user=user, password=PASSWORD)
    else:
        with pytest.raises(PermissionDenied):
            record_sign(patient=patient, user=user, password=PASSWORD)
    if may_lock:
        record_unlock(patient=patient, user=user, reason="correction")
    else:
        with pytest.raises(PermissionDenied):
            record_unlock(patient=patient, user=user, reason="correction")
    assert RecordSignature.objects.count() == (1 if may_sign else 0)
    assert locked_patient_ids() == (set() if may_lock else {patient.pk})


def test_a_signature_stores_the_signer_meaning_and_content_hash_and_turns_void_after_a_change(site_a):
    patient = locked_record(site_a)
    data_manager = RecordLock.objects.get().locked_by
    hash_when_signed = record_content_hashes(Patient.objects.all())["P-1"]

    signature = record_sign(patient=patient, user=data_manager, password=PASSWORD)

    assert (signature.signed_by, signature.meaning, signature.content_hash) == (
        data_manager, SIGNATURE_MEANING, hash_when_signed)
    assert [status.valid for status in record_signatures([patient.pk])[patient.pk]] == [True]
    # Unlocked, changed, locked again: the content no longer hashes to what was signed.
    record_unlock(patient=patient, user=data_manager, reason="Site corrected the regimen")
    line = TreatmentLine.objects.get(patient=patient, redcap_repeat_instance=1)
    line.line_ecog = 2
    instance_save(instance=line, user=None)
    record_lock(patient=patient, user=data_manager)

    statuses = record_signatures([patient.pk])[patient.pk]
    assert [(status.valid, status.label) for status in statuses] == [
        (False, "void (the record changed after it was signed)")]


def test_a_wrong_password_signs_nothing(site_a):
    patient = locked_record(site_a)
    data_manager = RecordLock.objects.get().locked_by
    for password in ("", "wrong-password"):
        with pytest.raises(LockError, match="The password is not correct; nothing was signed"):
            record_sign(patient=patient, user=data_manager, password=password)
    assert not RecordSignature.objects.exists()


def test_only_a_record_locked_as_a_whole_is_signed(site_a):
    patient = locked_record(site_a, whole_record=False)
    with pytest.raises(LockError, match="Record P-1 is not locked: only a locked record is signed"):
        record_sign(patient=patient, user=RecordLock.objects.get().locked_by, password=PASSWORD)
    assert not RecordSignature.objects.exists()


def test_the_locks_of_many_records_are_read_in_one_query(site_a, django_assert_num_queries):
    data_manager = make_data_manager()
    patients = [locked_record(site_a, record_id=f"P-{n}", data_manager=data_manager, whole_record=n % 2 == 0)
                for n in range(1, 5)]
    ids = [patient.pk for patient in patients]

    # 1: the locks in force of these records, with their patient and the user who locked them.
    with django_assert_num_queries(1):
        locks = record_locks(ids)
        described = {patient_id: [lock.describe() for lock in found.all()] for patient_id, found in locks.items()}
    # 1: the whole-record locks among these records.
    with django_assert_num_queries(1):
        assert locked_patient_ids(ids) == {ids[1], ids[3]}
    by = "is locked (by data_manager on 2026-11-30 09:15 UTC)"  # tests/locked_records.py LOCKED_AT
    assert described == {
        ids[0]: [f"treatment_line 1 of record P-1 {by}"], ids[1]: [f"record P-2 {by}"],
        ids[2]: [f"treatment_line 1 of record P-3 {by}"], ids[3]: [f"record P-4 {by}"]}


def test_the_signatures_of_many_records_cost_the_same_queries_as_of_one(site_a, django_assert_num_queries):
    data_manager = make_data_manager()
    patients = [locked_record(site_a, record_id=f"P-{n}", data_manager=data_manager) for n in range(1, 4)]
    for patient in patients:
        record_sign(patient=patient, user=data_manager, password=PASSWORD)

    # 1 the signatures with their patient and signer; then the signed records' content
    # (registry/records/flat_export.py flat_rows): 2 their record IDs and ids, 3-9 one query per
    # repeating instrument (7), 10 the patients' own forms.
    for ids in ([patients[0].pk], [patient.pk for patient in patients]):
        with django_assert_num_queries(10):
            statuses = record_signatures(ids)
        assert [status.valid for found in statuses.values() for status in found] == [True] * len(ids)
