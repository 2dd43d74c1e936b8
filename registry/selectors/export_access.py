"""Who may export what: the one rule for the command, the admin and (later) the API.

Which patients an export holds is the registry's access rule (registry/selectors/access.py):
the sites the user sees. Whether it may hold identified data (identifier fields, real record ids
and dates) depends on the role:

| role                         | identified export                     | de-identified export |
|------------------------------|---------------------------------------|----------------------|
| administrator (or superuser) | yes                                   | yes                  |
| coordinator                  | yes, of their sites (they enter it)   | yes                  |
| investigator                 | only with `may_export_identified`     | yes                  |
| viewer                       | only with `may_export_identified`     | yes                  |
| no role                      | (sees no patient: the file has no rows, as from every door)         |

`may_export_identified` is a tick on the user's registry role, set by administrators in the admin.
The system itself (no user: the command line without --user) exports everything.
"""
from __future__ import annotations

from .access import access_for, may_see_identified


class ExportNotAllowed(PermissionError):
    """The export asked for is not allowed to this user; the message says why."""


def may_export_identified(user) -> bool:
    """Whether `user` may export identified data (of the patients they see): the access rule's
    `may_see_identified`. No query beyond `access_for`'s."""
    if user is None:
        return True
    if access_for(user).role is None:
        # No role: they see no patient, so an identified export of theirs holds no identified data.
        return True
    return may_see_identified(user)


def check_export_allowed(user, *, deidentified: bool) -> None:
    """Raises ExportNotAllowed unless `user` may make this export."""
    if deidentified or may_export_identified(user):
        return
    raise ExportNotAllowed(
        f"{user.get_username()} ({access_for(user).role}) may export de-identified data only; an administrator can grant "
        "identified exports on the user's registry role (\"may export identified data\")."
    )
