"""The next free record name, as REDCap's auto-numbering proposes it (API "Generate Next Record Name").

REDCap: one more than the largest numeric record name; for a user in a data access group,
"<group id>-<n>", n one more than the largest such n. Here the group is the site (its id is the
data_access_group_id of the API's `dag` export): a user who may change exactly one site gets
"<site id>-<n>", everyone else the numeric form. Record IDs are unique across the registry, so the
largest number is taken over every record, of every site (only the number is revealed).
"""
from __future__ import annotations

import re

from registry.models import Patient
from registry.selectors.access import access_for


def next_record_name(user, *, site_id: int | None = None) -> str:
    """Two queries at most: the user's access (cached per user object) and the matching record IDs.

    `site_id`: the site the record is enrolled at (the workspace's enrolment page asks for it), which
    then gives the prefix whatever the number of the user's sites; the caller has checked the user may
    change that site."""
    site_ids = access_for(user).site_ids
    if site_id is not None:
        prefix = f"{int(site_id)}-"
    else:
        prefix = f"{next(iter(site_ids))}-" if site_ids is not None and len(site_ids) == 1 else ""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    names = Patient.objects.filter(record_id__regex=rf"^{re.escape(prefix)}[0-9]+$").values_list("record_id", flat=True)
    largest = max((int(pattern.match(name)[1]) for name in names), default=0)
    return f"{prefix}{largest + 1}"
