"""Exports read a batch of patients with a constant number of queries, whatever the batch holds."""
import pytest

from registry.exports import datasets
from registry.services.datasets import dataset_export
from tests import factories
from tests.exports.populated import make_derived_patient

DATASETS = ["lines", "endpoints", "assessments", "biopsies", "patients"]


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("patients", [2, 10])
def test_one_batch_takes_three_queries_for_2_or_10_patients(
    site_a, tmp_path, django_assert_num_queries, name, patients,
):
    for number in range(patients):
        make_derived_patient(site_a, f"P-{number:02d}")

    # 1. the exported patients' record_id, id and site code (patient JOIN site)
    # 2. the batch's rows: the raw records LEFT JOIN their stored derivations (or the assessment
    #    derivations JOIN their line and assessment)
    # 3. the batch's PatientDerivation rules version, cut-off, settings and staleness, for the provenance
    with django_assert_num_queries(3):
        dataset_export(name=name, output=tmp_path / f"{name}.csv")


@pytest.mark.parametrize("name", DATASETS)
def test_each_further_batch_takes_two_queries(site_a, tmp_path, django_assert_num_queries, monkeypatch, name):
    monkeypatch.setattr(datasets, "BATCH_PATIENTS", 4)
    for number in range(10):
        make_derived_patient(site_a, f"P-{number:02d}")

    # 1 for the patients, then rows and provenance (2 queries) for each of the batches of 4, 4 and 2.
    with django_assert_num_queries(1 + 3 * 2):
        rows = dataset_export(name=name, output=tmp_path / f"{name}.csv")

    assert rows == {"lines": 20, "endpoints": 40, "assessments": 10, "biopsies": 10, "patients": 10}[name]


def test_a_user_adds_only_the_queries_of_their_access(site_a, tmp_path, django_assert_num_queries):
    coordinator = factories.make_user("coordinator", role="coordinator", sites=[site_a])
    for number in range(3):
        make_derived_patient(site_a, f"P-{number:02d}")

    # The user's role and their sites (registry/selectors/access.py), then the three above.
    with django_assert_num_queries(2 + 3):
        dataset_export(name="lines", output=tmp_path / "lines.csv", user=coordinator)
