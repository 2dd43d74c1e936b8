"""A small registry for saved-report tests, and the report worked by hand on it.

Site A: A-1 woman, line 1 alectinib (code 2) from 2020-03-10, line 2 lorlatinib (7) from 2021-05-01;
        A-2 man, line 1 alectinib from 2020-04-01;
        A-3 woman, line 1 crizotinib (1) from 2019-01-15.
Site B: B-1 woman, line 1 alectinib from 2020-06-01.

WOMEN_ON_ALECTINIB: fields sex, line_drug, line_start; filter `[sex] = "2" and [line_drug] = "2"`;
sorted by line_start, newest first.
"""
from datetime import date

from tests import factories

WOMEN_ON_ALECTINIB = {
    "name": "Women on alectinib", "fields": ["line_start", "sex", "line_drug"],
    "filter_logic": '[sex] = "2" and [line_drug] = "2"', "sort_field": "line_start", "sort_direction": "desc",
}
COLUMNS = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "sex", "line_drug", "line_start"]
# By hand: A-1 and B-1 are women with an alectinib line (the filter holds on that line's row, which reads
# the record's sex), A-2 is a man, A-3 had crizotinib. A kept record brings all its rows (A-1's lorlatinib
# line too). Rows with a line_start, newest first: A-1 #2 2021-05-01, B-1 #1 2020-06-01, A-1 #1 2020-03-10;
# then the record rows, which hold no line_start, in record order (A-1, B-1). On an instance row the
# record's own fields (sex) are blank, as in REDCap's flat format.
ADMINISTRATOR_ROWS = [
    ["A-1", "treatment_line", "2", "", "7", "2021-05-01"],
    ["B-1", "treatment_line", "1", "", "2", "2020-06-01"],
    ["A-1", "treatment_line", "1", "", "2", "2020-03-10"],
    ["A-1", "", "", "2", "", ""],
    ["B-1", "", "", "2", "", ""],
]
# A coordinator of site A: the same rule on site A's records only.
SITE_A_ROWS = [ADMINISTRATOR_ROWS[0], ADMINISTRATOR_ROWS[2], ADMINISTRATOR_ROWS[3]]


def make_registry(site_a, site_b) -> None:
    a1 = factories.make_patient(site_a, "A-1", sex=2)
    factories.make_line(a1, 1, line_drug=2, line_start=date(2020, 3, 10))
    factories.make_line(a1, 2, line_drug=7, line_start=date(2021, 5, 1))
    a2 = factories.make_patient(site_a, "A-2", sex=1)
    factories.make_line(a2, 1, line_drug=2, line_start=date(2020, 4, 1))
    a3 = factories.make_patient(site_a, "A-3", sex=2)
    factories.make_line(a3, 1, line_drug=1, line_start=date(2019, 1, 15))
    b1 = factories.make_patient(site_b, "B-1", sex=2)
    factories.make_line(b1, 1, line_drug=2, line_start=date(2020, 6, 1))
