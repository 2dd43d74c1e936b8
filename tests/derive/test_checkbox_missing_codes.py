"""Rules §0 (v2) and a checkbox field's missing-data code (issue 12 §4): coded sites of new lesions are
sites not known at a progression, as a coded lesion site is. Day numbers from 2020-01-01."""
from registry.derive import quality
from registry.derive.codes import Site, YesNo

from .builders import assessment, day, derive, line, mm, patient, target


def _progression_by_new_lesions(**new_lesion_fields):
    # T1 lung 20 → 20 mm (stable), a new lesion at day 56: PD from new lesions (§2).
    return patient(lines=[line(1, start=0)], lesions=[target("T1", Site.LUNG)],
                   measurements=[mm("T1", 0, 20), mm("T1", 56, 20)],
                   assessments=[assessment(0), assessment(56, ta_new_lesion=YesNo.YES, ta_new_count=1,
                                                           **new_lesion_fields)])


def test_new_lesions_of_coded_sites_leave_cns_progression_and_the_extent_blank():
    # The one new lesion is at an unknown site: it may be the brain (CNS progression blank, not no) or an
    # effusion (extensive), so with one progressing lesion the extent is unknown rather than oligo.
    record = _progression_by_new_lesions(ta_new_sites_missing="UNK")

    result = derive(record).lines[0]

    assert (result.pd_date, result.n_progressing_lesions) == (day(56), 1)
    assert (result.extent, result.cns_progression, result.involved_sites) == ("unknown", None, frozenset())
    assert [flag.code for flag in derive(record).flags] == [quality.NEW_SITES_CODED]
    assert quality.NEW_SITES_CODED in quality.FLAG_LABELS


def test_new_lesions_of_known_sites_decide_them():
    # The control: the same progression with the new lesion in the liver is oligo, not CNS.
    result = derive(_progression_by_new_lesions(new_sites=(Site.LIVER,))).lines[0]

    assert (result.extent, result.cns_progression, result.involved_sites) == ("oligo", False, frozenset({Site.LIVER}))
