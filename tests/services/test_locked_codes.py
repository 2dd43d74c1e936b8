"""A lock of a record form covers its missing-data codes (issue 12 §4, §5): a change of a code alone,
a checkbox field's included, is refused on a locked enrollment form."""
import pytest

from registry.models import Patient
from registry.services.instances import instance_save
from registry.services.locks import RecordLocked, instance_lock
from tests import factories
from tests.locked_records import make_data_manager

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("companion, code", [("alk_method_missing", "UNK"), ("smoking_missing", "NASK")])
def test_a_code_alone_is_not_changed_on_a_locked_form(site_a, companion, code):
    patient = factories.make_patient(site_a, "P-1", smoking=None)
    instance_lock(patient=patient, form="enrollment", instance=None, user=make_data_manager())
    setattr(patient, companion, code)

    with pytest.raises(RecordLocked, match="enrollment of record P-1 is locked"):
        instance_save(instance=patient, user=None)
    assert Patient.objects.values_list(companion, flat=True).get() == ""
