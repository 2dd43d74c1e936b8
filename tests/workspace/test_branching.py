"""The data dictionary's branching logic, evaluated on the server (registry/workspace/branching.py).

Expected values are read off the dictionary's "Show field only if" column (fixtures/data_dictionary.csv):
death_date and death_cause show only when [vital] = '2' (dead); line_end_reason only when [line_end] is
not blank; line_tki_generation only when [line_type] = '1' and [line_drug] = '99'; ta_new_sites and
ta_new_count only when [ta_new_lesion] = '1'.
"""
from registry.workspace.branching import hidden_fields


def test_death_fields_show_only_for_a_dead_patient():
    assert {"death_date", "death_cause"} <= hidden_fields("vital_status", {"vital": "1"})
    assert {"death_date", "death_cause"} <= hidden_fields("vital_status", {})
    assert not {"death_date", "death_cause"} & hidden_fields("vital_status", {"vital": "2"})


def test_line_end_reason_shows_once_the_line_has_an_end_date():
    assert "line_end_reason" in hidden_fields("treatment_line", {"line_end": ""})
    assert "line_end_reason" not in hidden_fields("treatment_line", {"line_end": "2024-01-31"})


def test_tki_generation_needs_an_alk_tki_line_with_another_inhibitor():
    # Both conditions of the "and": an ALK TKI (line_type 1) whose regimen is Other (99).
    assert "line_tki_generation" not in hidden_fields("treatment_line", {"line_type": "1", "line_drug": "99"})
    assert "line_tki_generation" in hidden_fields("treatment_line", {"line_type": "2", "line_drug": "99"})
    assert "line_tki_generation" in hidden_fields("treatment_line", {"line_type": "1", "line_drug": "7"})


def test_new_lesion_details_show_only_after_a_yes():
    assert {"ta_new_sites", "ta_new_count"} <= hidden_fields("tumor_assessment", {"ta_new_lesion": "0"})
    assert not {"ta_new_sites", "ta_new_count"} & hidden_fields("tumor_assessment", {"ta_new_lesion": "1"})


def test_fields_without_logic_are_never_hidden_and_names_narrow_the_answer():
    hidden = hidden_fields("treatment_line", {})
    assert "line_start" not in hidden and "line_drug" not in hidden
    assert hidden_fields("vital_status", {}, names=["death_date"]) == {"death_date"}
