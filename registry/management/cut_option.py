"""The `--cut NAME` option the export commands share (export_dataset, export_records, study_report)."""
from django.core.management.base import CommandError

from registry.models import DataCut
from registry.selectors.data_cuts import DataCutNotFound, data_cut_named


def data_cut_option(name: str | None) -> DataCut | None:
    """The frozen cut `--cut` names, None without the option; an unknown name stops the command."""
    if not name:
        return None
    try:
        return data_cut_named(name)
    except DataCutNotFound as error:
        raise CommandError(str(error)) from None
