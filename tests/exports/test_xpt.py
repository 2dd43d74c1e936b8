"""SAS transport (xpt, version 5) files of the ADaM datasets, read back with pyreadstat, and the refusal
of xpt for any other dataset (issue 13 §5). The doors that are not the service (command line, REST
API, admin export jobs, a data cut) are tried in tests/api/test_xpt_doors.py and here for the command.

The patient is tests/exports/hand_built.py's ex-2; her endpoints rows are those of
tests/exports/test_hand_built_patient.py: line 1 PFS progression 2021-08-30 and OS data cut-off
2024-06-30; line 2 PFS censored (cutoff) 2022-10-05 and OS data cut-off; line 3 starts after the
cut-off and has no rows (rules §0 v2).
"""
import csv
from datetime import date

import pyreadstat
import pytest
from django.core.management import CommandError, call_command

from registry.exports import datasets
from registry.services.datasets import codebook_path, dataset_export
from tests.exports.hand_built import make_hand_built_patient


@pytest.fixture
def hand_built_patient(site_a):
    return make_hand_built_patient(site_a)


def test_endpoints_as_xpt_carry_the_adam_variables_with_labels(hand_built_patient, tmp_path):
    output = tmp_path / "endpoints.xpt"

    rows = dataset_export(name="endpoints", output=output, file_format="xpt")

    data, meta = pyreadstat.read_xport(output)
    assert rows == 4 and meta.number_rows == 4
    assert meta.table_name == "ADTTE"
    # The layout: the dataset's columns of at most 8 characters, in order, in capitals (record_id,
    # aval_days and aval_months are longer and left out).
    assert meta.column_names == [name.upper() for name in datasets.DATASETS["endpoints"].columns if len(name) <= 8]
    assert {"SITE", "LINE_NO", "PARAMCD", "STARTDT", "ADT", "CNSR", "EVNTDESC"} <= set(meta.column_names)
    assert not {"RECORD_ID", "AVAL_DAYS", "AVAL_MONTHS"} & set(meta.column_names)
    assert list(data["PARAMCD"]) == ["PFS", "OS", "PFS", "OS"]
    assert list(data["EVNTDESC"]) == ["PROGRESSION", "DATA CUTOFF", "CUTOFF", "DATA CUTOFF"]
    assert list(data["CNSR"]) == [0, 1, 1, 1]
    assert list(data["ADT"]) == [date(2021, 8, 30), date(2024, 6, 30), date(2022, 10, 5), date(2024, 6, 30)]
    assert list(data["STARTDT"][::2]) == [date(2020, 3, 10), date(2021, 9, 20)]
    assert list(data["SITE"]) == ["site-a"] * 4 and list(data["LINE_NO"]) == [1, 1, 2, 2]
    assert meta.original_variable_types["ADT"] == "DATE9."
    assert meta.column_names_to_labels["PARAMCD"] == "Endpoint"
    # "Start date of the time to event (the line's start)" is 50 characters: cut to 37 and "...".
    assert meta.column_names_to_labels["STARTDT"] == "Start date of the time to event (the..."
    # Text widths: Site.code's 30; a text code's longest code, PFS (3) and DEATH_AFTER_MISSED_ASSESSMENTS (30).
    assert (meta.variable_storage_width["SITE"], meta.variable_storage_width["PARAMCD"],
            meta.variable_storage_width["EVNTDESC"]) == (30, 3, 30)


def test_the_codebook_beside_an_xpt_file_lists_its_variables(hand_built_patient, tmp_path):
    output = tmp_path / "endpoints.xpt"

    dataset_export(name="endpoints", output=output, file_format="xpt")

    with codebook_path(output).open(encoding="utf-8", newline="") as stream:
        codebook = list(csv.DictReader(stream))
    _, meta = pyreadstat.read_xport(output)
    assert [row["column"] for row in codebook] == meta.column_names
    assert codebook[meta.column_names.index("PARAMCD")]["label"] == "Endpoint"


def test_a_de_identified_xpt_has_the_same_layout(hand_built_patient, tmp_path, settings):
    settings.DEIDENTIFICATION_KEY = "k" * 32
    output = tmp_path / "endpoints.xpt"

    dataset_export(name="endpoints", output=output, file_format="xpt", deidentify=True)

    data, meta = pyreadstat.read_xport(output)
    assert meta.column_names == [name.upper() for name in datasets.DATASETS["endpoints"].columns if len(name) <= 8]
    # Dates shifted back by the patient's offset (0 to 364 days): the first PFS date is no later.
    assert data["ADT"][0] <= date(2021, 8, 30)


@pytest.mark.parametrize("name", ["lines", "patients", "biopsies", "tumor_assessment"])
def test_xpt_of_a_dataset_that_is_not_adam_is_refused_by_the_service_writing_nothing(hand_built_patient, tmp_path,
                                                                                    name):
    with pytest.raises(ValueError, match=rf"xpt \(SAS transport, ADaM\) is offered for endpoints, .* not for {name}"):
        dataset_export(name=name, output=tmp_path / f"{name}.xpt", file_format="xpt")

    assert list(tmp_path.iterdir()) == []


def test_xpt_of_a_dataset_that_is_not_adam_is_refused_by_the_command_writing_nothing(hand_built_patient, tmp_path):
    output = tmp_path / "lines.xpt"

    with pytest.raises(CommandError, match="xpt .* not for lines"):
        call_command("export_dataset", "lines", "--format", "xpt", "--output", str(output))

    assert list(tmp_path.iterdir()) == []


def test_the_command_writes_endpoints_as_xpt(hand_built_patient, tmp_path):
    output = tmp_path / "endpoints.xpt"

    call_command("export_dataset", "endpoints", "--format", "xpt", "--output", str(output))

    assert pyreadstat.read_xport(output)[1].number_rows == 4  # two lines by the cut-off, two rows each
