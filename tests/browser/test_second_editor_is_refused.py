"""Two coordinators edit the same scan at once: the first save is kept, the second is refused with the
name of the one who changed the record meanwhile, and nothing of the second is written."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from registry.models import LesionMeasurement, TumorAssessment
from tests.browser import pages


def test_the_second_of_two_editors_of_a_scan_is_refused_and_told_who_changed_it(new_context, world):
    nadir_scan = TumorAssessment.objects.get(patient=world.overdue, ta_date=world.today - timedelta(days=130))
    url = f"/records/B-101/scans/{nadir_scan.redcap_repeat_instance}/"
    first, second = new_context().new_page(), new_context().new_page()
    pages.log_in(first, world.coordinator.username)
    pages.log_in(second, world.second_coordinator.username)
    first.goto(url)
    second.goto(url)

    first.locator('#scan-form [name="mm-L1-T1"]').fill("21")
    first.locator("#scan-form").get_by_role("button", name="Save scan").click()
    first.wait_for_url(re.compile(r"/records/B-101/$"))
    history_rows = history_rows_of(nadir_scan)
    second.locator('#scan-form [name="mm-L1-T2"]').fill("15")
    second.locator("#scan-form").get_by_role("button", name="Save scan").click()

    expect(second.locator("#conflict")).to_be_visible()
    expect(second.locator("#conflict")).to_contain_text(world.coordinator.username)
    measured = {m.lesion.les_id: int(m.lm_mm) for m in
                LesionMeasurement.objects.filter(assessment=nadir_scan).select_related("lesion")}
    # The first editor's 21 mm is kept; the second's 15 mm is not written (13 mm as before).
    assert measured == {"L1-T1": 21, "L1-T2": 13, "L1-T3": 6}
    assert history_rows_of(nadir_scan) == history_rows  # no write at all, not even an unchanged one


def history_rows_of(scan: TumorAssessment) -> int:
    return (TumorAssessment.history.filter(id=scan.pk).count()
            + LesionMeasurement.history.filter(assessment_id=scan.pk).count())
