"""Small builders for test data. Each returns a saved object with sensible clinical defaults."""
from datetime import date
from itertools import count

from django.contrib.auth import get_user_model

from registry.models import (
    Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, RegistryRole, Site, SiteMembership,
    TreatmentLine, TumorAssessment,
)

_sequence = count(1)


def make_site(code: str | None = None, name: str | None = None) -> Site:
    number = next(_sequence)
    code = code or f"site-{number}"
    return Site.objects.create(code=code, name=name or f"Hospital {code}")


def make_user(username: str | None = None, *, role: str | None = None, sites=(), superuser: bool = False):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_sequence)}", password="pw-for-tests-only", is_staff=True,
        is_superuser=superuser,
    )
    if role:
        RegistryRole.objects.create(user=user, role=role)
    for site in sites:
        SiteMembership.objects.create(user=user, site=site)
    return user


def make_patient(site: Site, record_id: str | None = None, **values) -> Patient:
    defaults = {"sex": 2, "adv_dx_date": date(2020, 3, 2), "histology": 1}
    defaults.update(values)
    return Patient.objects.create(site=site, record_id=record_id or f"P-{next(_sequence):04d}", **defaults)


def _next_instance(model, patient) -> int:
    return model.objects.filter(patient=patient).count() + 1


def make_line(patient: Patient, line_no: int = 1, **values) -> TreatmentLine:
    defaults = {"line_type": 1, "line_drug": 2, "line_start": date(2020, 3, 10)}
    defaults.update(values)
    return TreatmentLine.objects.create(
        patient=patient, line_no=line_no, redcap_repeat_instance=_next_instance(TreatmentLine, patient), **defaults
    )


def make_local_therapy(patient: Patient, **values) -> LocalTherapy:
    defaults = {"lt_date": date(2021, 1, 5), "lt_type": 1, "lt_site": 3, "lt_intent": 1}
    defaults.update(values)
    return LocalTherapy.objects.create(
        patient=patient, redcap_repeat_instance=_next_instance(LocalTherapy, patient), **defaults
    )


def make_assessment(patient: Patient, ta_date: date = date(2020, 3, 4), **values) -> TumorAssessment:
    return TumorAssessment.objects.create(
        patient=patient, ta_date=ta_date, redcap_repeat_instance=_next_instance(TumorAssessment, patient),
        **values,
    )


def make_lesion(patient: Patient, les_id: str = "L1-T1", **values) -> Lesion:
    defaults = {"les_line": 1, "les_class": 1, "les_site": 1}
    defaults.update(values)
    return Lesion.objects.create(
        patient=patient, les_id=les_id, redcap_repeat_instance=_next_instance(Lesion, patient), **defaults
    )


def make_measurement(assessment: TumorAssessment, lesion: Lesion, **values) -> LesionMeasurement:
    defaults = {"lm_status": 1, "lm_mm": 20}
    defaults.update(values)
    return LesionMeasurement.objects.create(
        patient=assessment.patient, assessment=assessment, lesion=lesion,
        redcap_repeat_instance=_next_instance(LesionMeasurement, assessment.patient), **defaults,
    )


def make_biopsy(patient: Patient, bx_date: date = date(2022, 1, 25), **values) -> Biopsy:
    defaults = {"bx_specimen": 1}
    defaults.update(values)
    return Biopsy.objects.create(
        patient=patient, bx_date=bx_date, redcap_repeat_instance=_next_instance(Biopsy, patient), **defaults
    )


def make_variant(biopsy: Biopsy, **values) -> NgsVariant:
    defaults = {"var_gene": "ALK", "var_kind": 1, "var_protein": "G1202R"}
    defaults.update(values)
    return NgsVariant.objects.create(
        patient=biopsy.patient, biopsy=biopsy, redcap_repeat_instance=_next_instance(NgsVariant, biopsy.patient),
        **defaults,
    )


def make_full_patient(site: Site, record_id: str | None = None) -> Patient:
    """A patient with one instance of every instrument, for list and access tests."""
    patient = make_patient(site, record_id, vital=1, last_alive_date=date(2023, 11, 20))
    make_line(patient)
    make_local_therapy(patient)
    assessment = make_assessment(patient)
    lesion = make_lesion(patient)
    make_measurement(assessment, lesion)
    biopsy = make_biopsy(patient)
    make_variant(biopsy)
    return patient
