"""De-identified exports: no identifier, pseudonymous record ids, dates shifted per patient with every
interval kept, the same output for the same key.

REC-ALPHA is tests/exports/hand_built.py's patient (site-a): her alectinib line runs from 2020-03-10
to 2021-09-14, which is 365 days to 2021-03-10 (no 29 February in between), 184 more to 2021-09-10
(21 + 30 + 31 + 30 + 31 + 31 + 10) and 4 to the 14th: 553 days; it progresses on 2021-08-30, 15 days
earlier: 538 days, which is also her stored pfs_days.
"""
import csv
import json
from collections import defaultdict
from datetime import date

import openpyxl
import pyarrow.parquet as pq
import pyreadstat
import pytest

from registry.exports.deidentify import DeidentificationKey
from registry.models import Patient
from registry.services.datasets import (
    DATASETS, DeidentificationKeyMissing, codebook_path, dataset_export, provenance_path,
)
from tests import factories
from tests.exports.hand_built import make_hand_built_patient

KEY = "a-test-key-of-forty-characters-00000000"
OTHER_KEY = "another-test-key-of-forty-characters-111"
IDENTIFIERS = ("REC-ALPHA", "REC-BRAVO", "MRN-4711", "MRN-4712", "1965-07-01", "1971-02-03")


@pytest.fixture
def two_patients(site_a, site_b, settings):
    settings.DEIDENTIFICATION_KEY = KEY
    alpha = make_hand_built_patient(site_a, "REC-ALPHA")
    Patient.objects.filter(pk=alpha.pk).update(mrn="MRN-4711")
    bravo = factories.make_full_patient(site_b, "REC-BRAVO")
    Patient.objects.filter(pk=bravo.pk).update(mrn="MRN-4712", birth_date=date(1971, 2, 3))
    return alpha, bravo


def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def _export(tmp_path, name, *, folder="files", file_format="csv", **options):
    directory = tmp_path / folder
    directory.mkdir(exist_ok=True)
    output = directory / f"{name}.{file_format}"
    dataset_export(name=name, output=output, file_format=file_format, **options)
    return output


@pytest.mark.parametrize("name", DATASETS)
def test_a_deidentified_csv_holds_no_identifier_column_and_no_record_id_anywhere(two_patients, tmp_path, name):
    output = _export(tmp_path, name, deidentify=True)

    header = _rows(output)[0].keys() if _rows(output) else set()
    assert not {"mrn", "birth_date"} & set(header)
    for path in (output, codebook_path(output), provenance_path(output)):
        text = path.read_text(encoding="utf-8")
        assert not [value for value in IDENTIFIERS if value in text], path.name
        assert KEY not in text


@pytest.mark.parametrize("file_format", ["xlsx", "sav", "dta", "parquet"])
@pytest.mark.parametrize("name", ["enrollment", "lines"])
def test_a_deidentified_typed_file_holds_no_identifier_either(two_patients, tmp_path, file_format, name):
    output = _export(tmp_path, name, file_format=file_format, deidentify=True)

    if file_format == "xlsx":
        workbook = openpyxl.load_workbook(output)
        values = [value for sheet in workbook for row in sheet.values for value in row]
    elif file_format == "parquet":
        table = pq.read_table(output)
        values = [value for row in table.to_pylist() for value in row.values()]
        values += [value.decode() for value in table.schema.metadata.values()]
    else:
        data, meta = (pyreadstat.read_sav if file_format == "sav" else pyreadstat.read_dta)(output)
        values = [*data.to_numpy().ravel(), *data.columns, meta.file_label, *(meta.notes or [])]
    texts = [str(value) for value in values]
    assert not [text for text in texts if any(identifier in text for identifier in IDENTIFIERS)]
    assert "mrn" not in texts and "birth_date" not in texts


def test_every_interval_of_a_line_is_the_identified_one(two_patients, tmp_path):
    identified = _rows(_export(tmp_path, "lines", folder="identified"))
    deidentified = _rows(_export(tmp_path, "lines", folder="deidentified", deidentify=True))

    def days(row, later, earlier):
        if not row[later] or not row[earlier]:
            return None
        return (date.fromisoformat(row[later]) - date.fromisoformat(row[earlier])).days

    pseudonyms = {DeidentificationKey(KEY.encode(), "").pseudonym(r): r for r in ("REC-ALPHA", "REC-BRAVO")}
    matched = sorted(((pseudonyms[row["record_id"]], row["line_no"]), row) for row in deidentified)
    assert [key for key, _ in matched] == [(row["record_id"], row["line_no"]) for row in identified]
    for real, (_, shifted) in zip(identified, matched, strict=True):
        for later, earlier in (("line_end", "line_start"), ("pd_date", "line_start"), ("baseline_date", "line_start"),
                               ("pd_date", "baseline_date")):
            assert days(shifted, later, earlier) == days(real, later, earlier)
        # Derived day counts and ages in completed years are kept as derived.
        assert (shifted["pfs_days"], shifted["os_days"], shifted["age_at_start"]) == (
            real["pfs_days"], real["os_days"], real["age_at_start"],
        )
    alectinib = next(shifted for (record_id, line_no), shifted in matched if (record_id, line_no) == ("REC-ALPHA", "1"))
    assert days(alectinib, "line_end", "line_start") == 553
    assert days(alectinib, "pd_date", "line_start") == 538 == int(alectinib["pfs_days"])


def _dates_by_patient(tmp_path, folder: str, **options) -> dict[str, list[date]]:
    """Every date of every dataset, per patient, in file order (the same order in both exports)."""
    found: dict[str, list[date]] = defaultdict(list)
    for name in DATASETS:
        output = _export(tmp_path, name, folder=folder, **options)
        date_columns = [row[0] for row in csv.reader(codebook_path(output).open(encoding="utf-8"))
                        if row[2] == "date"]
        for row in _rows(output):
            # birth_date is an identifier: dropped from the de-identified files, so left out of both.
            found[row["record_id"]].extend(
                date.fromisoformat(row[column]) if row[column] else None
                for column in date_columns if column != "birth_date"
            )
    return found


def test_every_date_of_a_patient_in_every_dataset_moves_by_one_offset_of_0_to_364_days(two_patients, tmp_path):
    identified = _dates_by_patient(tmp_path, "identified")
    deidentified = _dates_by_patient(tmp_path, "deidentified", deidentify=True)
    key = DeidentificationKey(KEY.encode(), "")

    offsets = {}
    for record_id, dates in identified.items():
        shifted = deidentified[key.pseudonym(record_id)]
        differences = {(real - moved).days for real, moved in zip(dates, shifted, strict=True) if real is not None}
        assert [real is None for real in dates] == [moved is None for moved in shifted]
        # One difference per patient: every interval between two of their dates, in any datasets, is kept.
        assert len(differences) == 1
        offsets[record_id] = differences.pop()
    assert len(identified["REC-ALPHA"]) > 20 and len(identified["REC-BRAVO"]) > 10
    assert all(0 <= offset <= 364 for offset in offsets.values())


def test_offsets_are_within_0_to_364_and_differ_between_patients(site_a, tmp_path, settings):
    settings.DEIDENTIFICATION_KEY = KEY
    for number in range(40):
        factories.make_patient(site_a, f"P-{number:03d}", adv_dx_date=date(2020, 3, 2))

    rows = _rows(_export(tmp_path, "enrollment", deidentify=True))

    offsets = [(date(2020, 3, 2) - date.fromisoformat(row["adv_dx_date"])).days for row in rows]
    assert all(0 <= offset <= 364 for offset in offsets)
    assert len(set(offsets)) >= 30  # 40 draws from 365 days: a few may coincide, most differ
    assert [row["record_id"] for row in rows] == sorted(row["record_id"] for row in rows)  # by pseudonym


def test_the_same_key_gives_the_same_files_and_another_key_other_pseudonyms_and_offsets(two_patients, tmp_path):
    first = _export(tmp_path, "patients", folder="first", deidentify=True)
    again = _export(tmp_path, "patients", folder="again", deidentify=True)
    other = _export(tmp_path, "patients", folder="other", deidentify=True, deidentification_key_override=OTHER_KEY)

    assert first.read_bytes() == again.read_bytes()
    assert codebook_path(first).read_bytes() == codebook_path(again).read_bytes()
    assert not {row["record_id"] for row in _rows(first)} & {row["record_id"] for row in _rows(other)}
    alpha_index_date = {
        path.parent.name: next(row["index_pd_date"] for row in _rows(path) if row["cohort"] == "1")
        for path in (first, other)
    }
    assert alpha_index_date["first"] != alpha_index_date["other"]  # the real one is 2021-08-30


def test_pseudonyms_are_the_same_in_every_dataset_so_datasets_still_join(two_patients, tmp_path):
    pseudonyms = {name: {row["record_id"] for row in _rows(_export(tmp_path, name, deidentify=True))}
                  for name in ("patients", "lines", "endpoints", "biopsies", "enrollment", "biopsy", "vital_status")}

    assert len(pseudonyms["patients"]) == 2
    assert all(found == pseudonyms["patients"] for found in pseudonyms.values())


def test_the_provenance_states_the_de_identification_but_never_the_key(two_patients, tmp_path):
    output = _export(tmp_path, "enrollment", deidentify=True)

    provenance = json.loads(provenance_path(output).read_text(encoding="utf-8"))
    assert provenance["deidentified"] is True
    block = provenance["deidentification"]
    assert block["dropped_identifier_columns"] == ["mrn", "birth_date"]
    assert block["key_source"] == "REGISTRY_DEIDENTIFICATION_KEY"
    assert len(block["key_fingerprint"]) == 12
    assert KEY not in json.dumps(provenance)
    codebook = {row["column"]: row for row in csv.DictReader(codebook_path(output).open(encoding="utf-8"))}
    assert codebook["record_id"]["deidentification"] == "pseudonym: a keyed hash of the record id"
    assert codebook["adv_dx_date"]["deidentification"] == "shifted back by the patient's date offset (0 to 364 days)"


def test_an_export_key_overrides_the_setting_and_says_so(two_patients, tmp_path, settings):
    given = _export(tmp_path, "patients", folder="given", deidentify=True, deidentification_key_override=OTHER_KEY)
    settings.DEIDENTIFICATION_KEY = OTHER_KEY
    configured = _export(tmp_path, "patients", folder="configured", deidentify=True)

    assert given.read_bytes() == configured.read_bytes()
    assert json.loads(provenance_path(given).read_text())["deidentification"]["key_source"] == "given for this export"


def test_without_a_key_a_deidentified_export_is_refused_and_nothing_is_written(two_patients, tmp_path, settings):
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = settings.LOCAL_DEVELOPMENT_SECRET_KEY

    with pytest.raises(DeidentificationKeyMissing, match="De-identified exports need a key: set "
                                                          "REGISTRY_DEIDENTIFICATION_KEY"):
        dataset_export(name="lines", output=tmp_path / "lines.csv", deidentify=True)
    with pytest.raises(DeidentificationKeyMissing, match="has 5 characters; it needs at least 32"):
        dataset_export(name="lines", output=tmp_path / "lines.csv", deidentify=True,
                       deidentification_key_override="short")

    assert list(tmp_path.iterdir()) == []


def test_without_the_setting_the_key_is_derived_from_a_real_secret_key(two_patients, tmp_path, settings):
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = "s" * 50
    first = _export(tmp_path, "patients", folder="first", deidentify=True)
    settings.SECRET_KEY = "t" * 50
    rotated = _export(tmp_path, "patients", folder="rotated", deidentify=True)

    assert json.loads(provenance_path(first).read_text())["deidentification"]["key_source"] == (
        "derived from SECRET_KEY"
    )
    # A new SECRET_KEY means new pseudonyms: set REGISTRY_DEIDENTIFICATION_KEY to keep them.
    assert {row["record_id"] for row in _rows(first)} != {row["record_id"] for row in _rows(rotated)}


@pytest.mark.parametrize("name", ["endpoints", "patients"])
def test_subjid_and_usubjid_are_the_pseudonym_in_a_deidentified_export(two_patients, tmp_path, name):
    # Rules §8 (v2): record_id and subjid are the pseudonym, usubjid is studyid-pseudonym. REC-ALPHA's
    # stored results were derived with study_id ALK-REGISTRY (tests/exports/stored_results.py).
    pseudonym = DeidentificationKey(KEY.encode(), "test").pseudonym("REC-ALPHA")

    rows = [row for row in _rows(_export(tmp_path, name, deidentify=True)) if row["record_id"] == pseudonym]

    assert rows
    assert {row["usubjid"] for row in rows} == {f"ALK-REGISTRY-{pseudonym}"}
    if name == "endpoints":
        assert {row["subjid"] for row in rows} == {pseudonym}
