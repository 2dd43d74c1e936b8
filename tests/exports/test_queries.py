"""Exports read a batch of patients with a constant number of queries, whatever the batch holds."""
import pytest

from registry.exports import datasets
from registry.models import RegistryRole
from registry.services.datasets import dataset_export
from tests import factories
from tests.exports.populated import make_derived_patient

DATASETS = ["lines", "endpoints", "assessments", "biopsies", "patients", "responses", "tumor_sums"]
# An identified export (the default here) ends with one INSERT: its row of the identified-export log.
LOG = 1


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("patients", [2, 10])
def test_one_batch_takes_three_queries_for_2_or_10_patients(
    site_a, tmp_path, django_assert_num_queries, name, patients,
):
    for number in range(patients):
        make_derived_patient(site_a, f"P-{number:02d}")

    # 1. the exported patients' record_id, id and site code (patient JOIN site)
    # 2. the batch's rows: the raw records LEFT JOIN their stored derivations (or the assessment
    #    derivations JOIN their line and assessment; responses: also the line's derivation; tumor_sums:
    #    the lines LEFT JOIN their derivation and their assessment derivations)
    # 3. the batch's PatientDerivation rules version, cut-off, settings and staleness, for the provenance
    with django_assert_num_queries(3 + LOG):
        dataset_export(name=name, output=tmp_path / f"{name}.csv")


@pytest.mark.parametrize("name", DATASETS)
def test_each_further_batch_takes_two_queries(site_a, tmp_path, django_assert_num_queries, monkeypatch, name):
    monkeypatch.setattr(datasets, "BATCH_PATIENTS", 4)
    for number in range(10):
        make_derived_patient(site_a, f"P-{number:02d}")

    # 1 for the patients, then rows and provenance (2 queries) for each of the batches of 4, 4 and 2.
    with django_assert_num_queries(1 + 3 * 2 + LOG):
        rows = dataset_export(name=name, output=tmp_path / f"{name}.csv")

    # responses: an OVRLRESP row per assessment (no best response stored); tumor_sums: line 1's baseline
    # and its assessment.
    assert rows == {"lines": 20, "endpoints": 40, "assessments": 10, "biopsies": 10, "patients": 10,
                    "responses": 10, "tumor_sums": 20}[name]


def test_a_user_adds_only_the_queries_of_their_access(site_a, tmp_path, django_assert_num_queries):
    coordinator = factories.make_user("coordinator", role="coordinator", sites=[site_a])
    for number in range(3):
        make_derived_patient(site_a, f"P-{number:02d}")

    # The user's role and their sites (registry/selectors/access.py), then the three above and the log.
    with django_assert_num_queries(2 + 3 + LOG):
        dataset_export(name="lines", output=tmp_path / "lines.csv", user=coordinator)


FORMS = ["enrollment", "treatment_line", "local_therapy", "tumor_assessment", "lesion", "lesion_measurement",
         "biopsy", "ngs_variant", "vital_status"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("patients", [2, 10])
def test_a_raw_dataset_takes_three_queries_for_2_or_10_patients(site_a, tmp_path, django_assert_num_queries, form,
                                                                patients):
    for number in range(patients):
        factories.make_full_patient(site_a, f"P-{number:02d}")

    # 1. the exported patients; 2. the batch's instances of the form, with the assessment, lesion or
    # biopsy a measurement or variant names JOINed; 3. the batch's derivations, for the provenance.
    with django_assert_num_queries(3 + LOG):
        dataset_export(name=form, output=tmp_path / f"{form}.csv")


@pytest.mark.parametrize("form", FORMS)
def test_each_further_batch_of_a_raw_dataset_takes_two_queries(site_a, tmp_path, django_assert_num_queries,
                                                               monkeypatch, form):
    monkeypatch.setattr(datasets, "BATCH_PATIENTS", 4)
    for number in range(10):
        factories.make_full_patient(site_a, f"P-{number:02d}")

    with django_assert_num_queries(1 + 3 * 2 + LOG):
        rows = dataset_export(name=form, output=tmp_path / f"{form}.csv")

    assert rows == 10  # one instance of every instrument a patient


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "sav", "dta", "parquet"])
@pytest.mark.parametrize("deidentify", [False, True])
def test_the_format_adds_no_query_and_an_identified_export_one_for_its_log(
    site_a, tmp_path, django_assert_num_queries, settings, file_format, deidentify,
):
    settings.DEIDENTIFICATION_KEY = "k" * 32
    for number in range(3):
        make_derived_patient(site_a, f"P-{number:02d}")

    # The three of every export; an identified one also writes its row of the identified-export log.
    with django_assert_num_queries(3 if deidentify else 3 + LOG):
        dataset_export(name="lines", output=tmp_path / f"lines.{file_format}", file_format=file_format,
                       deidentify=deidentify)


def test_an_investigator_asking_for_identified_data_adds_one_query_for_the_role_and_grant(
    site_a, tmp_path, django_assert_num_queries,
):
    investigator = factories.make_user("investigator", role="investigator")
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)
    make_derived_patient(site_a, "P-01")

    # The user's role with its grant (registry/selectors/access.py), the three of every export, then
    # the identified-export log's row.
    with django_assert_num_queries(1 + 3 + LOG):
        dataset_export(name="lines", output=tmp_path / "lines.csv", user=investigator)
