"""A small derived registry for the frozen data cut tests, and the changes made to it after a cut.

Site A holds 12 synthetic patients (SYN-11-000001 … 000012), site B 8 (SYN-12-000001 … 000008),
all derived with the data cut-off 2024-06-30. `change_everything` then changes what a cut must not
see: a record edited and one deleted, a record added, and the analysis settings changed (data
cut-off 2024-12-31, death window 90 days) with every patient derived again, so that the live
derived results differ from the frozen ones.
"""
from datetime import date
from types import SimpleNamespace

from registry.models import AnalysisSettings, Patient
from registry.services.derivation import analysis_settings_update, patients_derive
from registry.services.instances import instance_delete, instance_save
from registry.services.synthetic_cohort import synthetic_cohort_create, synthetic_record_id
from tests import factories

CUTOFF = date(2024, 6, 30)
LATER_CUTOFF = date(2024, 12, 31)
SITE_A_PATIENTS = 12
SITE_B_PATIENTS = 8
SITE_A_RECORDS = [synthetic_record_id(11, number) for number in range(1, SITE_A_PATIENTS + 1)]
SITE_B_RECORDS = [synthetic_record_id(12, number) for number in range(1, SITE_B_PATIENTS + 1)]


def build_cut_world(site_a, site_b) -> SimpleNamespace:
    AnalysisSettings.objects.update_or_create(pk=1, defaults={"data_cutoff": CUTOFF})
    synthetic_cohort_create(patients=SITE_A_PATIENTS, seed=11, site=site_a)
    synthetic_cohort_create(patients=SITE_B_PATIENTS, seed=12, site=site_b)
    patients_derive(patient_ids=Patient.objects.values_list("id", flat=True))
    return SimpleNamespace(sites={"A": site_a, "B": site_b})


def derive_everyone() -> None:
    patients_derive(patient_ids=Patient.objects.values_list("id", flat=True))


def change_everything(site_a) -> None:
    edited = Patient.objects.get(record_id=SITE_A_RECORDS[0])
    edited.smoking = 2 if edited.smoking != 2 else 0
    instance_save(instance=edited, user=None, door="test")
    instance_delete(instance=Patient.objects.get(record_id=SITE_B_RECORDS[0]), user=None, door="test")
    factories.make_full_patient(site_a, "NEW-1")
    analysis_settings_update(
        values={"data_cutoff": LATER_CUTOFF.isoformat(), "death_window_days": "90"}, user=None,
        derive_all_after_commit=False,
    )
    derive_everyone()
