from registry.models import LesionMeasurement, NgsVariant
from tests import factories


def test_a_full_patient_has_one_instance_of_every_repeating_instrument(site_a):
    patient = factories.make_full_patient(site_a, "SMOKE-1")

    assert LesionMeasurement.objects.get(patient=patient).lesion.les_id == "L1-T1"
    assert NgsVariant.objects.get(patient=patient).biopsy.patient_id == patient.id
