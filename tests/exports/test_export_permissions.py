"""Who may export what, as a matrix of roles (with and without the grant) and identified or not.

Investigators and viewers export de-identified files unless an administrator ticked
`may_export_identified` on their role; administrators and coordinators may export identified data;
everyone gets only the patients of the sites they see.
"""
import pytest

from registry.models import RegistryRole, Role
from registry.services.datasets import ExportNotAllowed, dataset_export
from tests import factories
from tests.exports.exported import export_records
from tests.exports.populated import make_derived_patient

EVERY_SITE = ["A-1", "B-1"]
SITE_A = ["A-1"]
REFUSED = "refused"

# user → (identified export, de-identified export): the record ids exported, or REFUSED.
MATRIX = {
    "superuser": (EVERY_SITE, EVERY_SITE),
    "administrator": (EVERY_SITE, EVERY_SITE),
    "investigator": (REFUSED, EVERY_SITE),
    "investigator with the grant": (EVERY_SITE, EVERY_SITE),
    "coordinator of site A": (SITE_A, SITE_A),
    "viewer of site A": (REFUSED, SITE_A),
    "viewer of site A with the grant": (SITE_A, SITE_A),
    "user without a role": ([], []),
}


def _user(description: str, site_a):
    granted = description.endswith("with the grant")
    if description == "superuser":
        return factories.make_user("root", superuser=True)
    role, sites = {
        "administrator": (Role.ADMINISTRATOR, []),
        "investigator": (Role.INVESTIGATOR, []),
        "coordinator of site A": (Role.COORDINATOR, [site_a]),
        "viewer of site A": (Role.VIEWER, [site_a]),
        "user without a role": (None, []),
    }[description.removesuffix(" with the grant")]
    user = factories.make_user("someone", role=role, sites=sites)
    if granted:
        RegistryRole.objects.filter(user=user).update(may_export_identified=True)
    return user


@pytest.mark.parametrize("description", MATRIX)
@pytest.mark.parametrize("deidentify", [False, True], ids=["identified", "de-identified"])
def test_export_permission_matrix(site_a, site_b, tmp_path, settings, description, deidentify):
    settings.DEIDENTIFICATION_KEY = "k" * 32
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")
    user = _user(description, site_a)
    expected = MATRIX[description][deidentify]

    if expected == REFUSED:
        with pytest.raises(ExportNotAllowed, match="may export de-identified data only"):
            dataset_export(name="patients", output=tmp_path / "patients.csv", user=user)
        assert list(tmp_path.iterdir()) == []
        return
    records = export_records(tmp_path, "patients", user=user, deidentify=deidentify)

    assert len(records) == len(expected)
    if not deidentify:
        assert [record["record_id"] for record in records] == expected
    assert sorted(record["site"] for record in records) == sorted(
        {"A-1": "site-a", "B-1": "site-b"}[record_id] for record_id in expected
    )


def test_the_system_may_export_everything_identified(site_a, site_b, tmp_path):
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")

    assert [record["record_id"] for record in export_records(tmp_path, "patients")] == EVERY_SITE


def test_the_refusal_names_the_user_their_role_and_the_grant(site_a, tmp_path):
    investigator = factories.make_user("dr_lee", role=Role.INVESTIGATOR)

    with pytest.raises(ExportNotAllowed) as refused:
        dataset_export(name="enrollment", output=tmp_path / "enrollment.xlsx", file_format="xlsx", user=investigator)

    assert str(refused.value) == (
        "dr_lee (investigator) may export de-identified data only; an administrator can grant identified exports "
        "on the user's registry role (\"may export identified data\")."
    )
    assert list(tmp_path.iterdir()) == []
