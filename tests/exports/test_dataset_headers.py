"""Each dataset's header is exactly derivation rules §8's column list (version 2), in its order.

The expected lists are copied from the spec by hand, not from registry/exports/, so that a column
renamed or moved in the code fails here.
"""
import pytest

from tests.exports.exported import export_rows

SPEC_COLUMNS = {
    "lines": [
        "record_id", "site", "line_no", "line_type", "line_drug", "tki_generation", "line_start", "line_end",
        "line_end_reason", "line_ecog", "cns_mets_at_start", "age_at_start", "histology_at_start", "baseline_date",
        "cohort", "subsequent_to_index", "pd_date", "best_response", "extent", "n_progressing_lesions",
        "cns_progression", "cns_only_progression", "symptomatic_progression", "symptomatic_cns_progression",
        "local_therapy_for_pd", "continued_beyond_pd", "beyond_pd_days", "pfs_days", "pfs_months", "pfs_event",
        "pfs_censor_reason", "os_days", "os_months", "os_event",
        # v2, after the v1 columns
        "first_subsequent_line", "first_subsequent_tki_line", "alk_mut_status_at_index", "compound_mutation_at_index",
        "os_censor_reason",
    ],
    "endpoints": [
        "record_id", "site", "line_no", "paramcd", "startdt", "adt", "aval_days", "aval_months", "cnsr", "evntdesc",
        # v2: the ADaM ADTTE variables, then the line's analysis flags
        "studyid", "usubjid", "subjid", "siteid", "param", "aval", "avalu", "trtp", "cnsdtdsc", "srcdom", "srcvar",
        "srcseq", "cohort", "subsequent_to_index", "first_subsequent_line", "first_subsequent_tki_line",
        "tki_generation", "alk_mut_status_at_index",
    ],
    "assessments": [
        "record_id", "line_no", "ta_date", "target_sum_mm", "pct_change_baseline", "pct_change_nadir",
        "target_response", "nontarget_response", "new_lesions", "overall_response", "response_source",
        "discrepancy",
    ],
    "biopsies": [
        "record_id", "bx_date", "phase", "alk_kd_mutations", "alk_compound", "g1202r", "alk_independent",
        "transformation", "mechanism_category",
        "at_index_resistance",  # v2
    ],
    "patients": [
        "record_id", "site", "sex", "age_at_adv_dx", "smoking", "histology", "cns_mets_dx", "cohort", "tki_sequence",
        "index_pd_date", "alk_mut_status_at_index", "os_dx_days", "os_dx_months", "os_dx_event",
        # v2
        "studyid", "usubjid", "stage_dx", "adv_dx_date", "death_date", "last_known_alive_date",
        "compound_mutation_at_index", "n_lines",
    ],
}


@pytest.mark.parametrize("name", SPEC_COLUMNS)
def test_an_empty_registry_exports_only_the_spec_header(db, tmp_path, name):
    rows = export_rows(tmp_path, name)

    assert rows == [SPEC_COLUMNS[name]]


def test_the_file_has_lf_line_ends_and_no_byte_order_mark(db, tmp_path):
    export_rows(tmp_path, "biopsies")

    assert (tmp_path / "biopsies.csv").read_bytes() == (
        b"record_id,bx_date,phase,alk_kd_mutations,alk_compound,g1202r,alk_independent,transformation,"
        b"mechanism_category,at_index_resistance\n"
    )
