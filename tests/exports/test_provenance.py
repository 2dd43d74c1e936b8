"""The sidecar PATH.provenance.json: what the exported rows were derived with."""
from datetime import date

from registry.models import PatientDerivation
from tests import factories
from tests.exports.exported import export_rows, read_provenance
from tests.exports.populated import make_derived_patient
from tests.exports.stored_results import DATA_CUTOFF, SETTINGS_SNAPSHOT, make_patient_derivation


def test_patients_derived_alike_give_one_rules_version_settings_and_cutoff(site_a, tmp_path):
    make_derived_patient(site_a, "P-1")
    make_derived_patient(site_a, "P-2")

    export_rows(tmp_path, "lines")
    provenance = read_provenance(tmp_path / "lines.csv")

    assert provenance.pop("exported_at")
    assert provenance == {
        "dataset": "lines", "file": "lines.csv", "format": "csv", "codebook": "lines.csv.codebook.csv", "rows": 4,
        "site": None, "sites": ["site-a"], "user": None, "deidentified": False, "deidentification": None,
        "consistent": True, "rules_version": 2, "data_cutoff": "2024-06-30", "settings_snapshot": SETTINGS_SNAPSHOT,
        "patients": 2, "derived_patients": 2, "stale_patients": 0, "not_derived_patients": 0,
        "derived_with": [{
            "rules_version": 2, "data_cutoff": "2024-06-30", "settings_snapshot": SETTINGS_SNAPSHOT,
            "patients": 2, "stale_patients": 0,
        }],
    }


def test_disagreeing_derivations_are_listed_and_counted(site_a, site_b, coordinator_a, tmp_path):
    earlier_settings = {**SETTINGS_SNAPSHOT, "data_cutoff": "2023-12-31"}
    for record_id in ("A-1", "A-2", "A-3"):
        make_derived_patient(site_a, record_id)
    PatientDerivation.objects.filter(patient__record_id="A-3").update(is_stale=True)
    make_patient_derivation(factories.make_patient(site_a, "A-4"), data_cutoff=date(2023, 12, 31),
                            settings_snapshot=earlier_settings)
    factories.make_patient(site_a, "A-5")  # not derived yet
    make_derived_patient(site_b, "B-1")  # not visible: not counted

    export_rows(tmp_path, "patients", user=coordinator_a)
    provenance = read_provenance(tmp_path / "patients.csv")

    assert provenance["user"] == "coordinator_a"
    assert provenance["rows"] == 5
    assert (provenance["consistent"], provenance["rules_version"], provenance["data_cutoff"],
            provenance["settings_snapshot"]) == (False, None, None, None)
    assert (provenance["patients"], provenance["derived_patients"], provenance["stale_patients"],
            provenance["not_derived_patients"]) == (5, 4, 1, 1)
    assert provenance["derived_with"] == [
        {"rules_version": 2, "data_cutoff": DATA_CUTOFF.isoformat(), "settings_snapshot": SETTINGS_SNAPSHOT,
         "patients": 3, "stale_patients": 1},
        {"rules_version": 2, "data_cutoff": "2023-12-31", "settings_snapshot": earlier_settings,
         "patients": 1, "stale_patients": 0},
    ]


def test_the_same_settings_stored_with_their_keys_in_another_order_are_one_group(site_a, tmp_path):
    make_derived_patient(site_a, "P-1")
    reordered = dict(reversed(list(SETTINGS_SNAPSHOT.items())))
    make_patient_derivation(factories.make_patient(site_a, "P-2"), settings_snapshot=reordered)

    export_rows(tmp_path, "patients")

    assert read_provenance(tmp_path / "patients.csv")["derived_with"] == [{
        "rules_version": 2, "data_cutoff": "2024-06-30", "settings_snapshot": SETTINGS_SNAPSHOT,
        "patients": 2, "stale_patients": 0,
    }]
