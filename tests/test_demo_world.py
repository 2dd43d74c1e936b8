"""The shared demo cohort of tests/demo_world.py is a complete `load_demo` result, not a partial copy."""
import io

from django.core.management import call_command

from registry.models import Patient, PatientDerivation


def test_the_demo_put_back_is_what_load_demo_leaves_so_running_it_again_adds_and_derives_nothing(
        demo_cohort_loaded):
    output = io.StringIO()

    call_command("load_demo", stdout=output)

    # load_demo imports only patients not there yet and derives only the missing or stale: with all 73
    # patients (37 odd record numbers in demo-a, 36 even in demo-b), the settings and their current
    # derivations put back, it finds nothing to do.
    printed = output.getvalue()
    assert "Demo patients of demo-a already loaded." in printed
    assert "Demo patients of demo-b already loaded." in printed
    assert "Derived results are current for 73 patients (0 derived just now), data cut-off 2024-02-28." in printed
    assert Patient.objects.count() == PatientDerivation.objects.filter(is_stale=False).count() == 73
