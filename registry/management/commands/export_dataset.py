"""Write one dataset and, next to it, its codebook and what its rows were derived with.

    python manage.py export_dataset NAME --format csv|xlsx|sav|dta|parquet|xpt --output PATH
        [--deidentify [--deidentification-key-file FILE]] [--site CODE] [--user USERNAME] [--cut NAME]

NAME: an analysis dataset of rules §8 (lines, endpoints, assessments, biopsies, patients) or an
instrument's raw records (enrollment, treatment_line, ..., vital_status). Writes PATH,
PATH.codebook.csv and PATH.provenance.json. Runs as the system (every patient, identified data
allowed) unless --user names the user whose access and export permissions apply. --cut NAME
exports the rows of that frozen data cut (`freeze_cut`) instead of the live records. xpt (SAS
transport, version 5) is for the ADaM datasets only (endpoints; responses and tumor_sums where they
exist): another dataset is refused, writing nothing.
"""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.management.cut_option import data_cut_option
from registry.models import ExportDoor, Site
from registry.services.datasets import (
    DATASETS, FORMATS, DeidentificationKeyMissing, ExportNotAllowed, codebook_path, dataset_export, provenance_path,
)


class Command(BaseCommand):
    help = f"Export a dataset ({', '.join(DATASETS)}) with its codebook and provenance."

    def add_arguments(self, parser):
        parser.add_argument("name", help=f"The dataset: {', '.join(DATASETS)}")
        parser.add_argument("--output", required=True, help="File to write")
        parser.add_argument("--format", choices=FORMATS, default="csv",
                            help="File format (default: csv); xpt for the ADaM datasets only")
        parser.add_argument("--site", help="Only this site's patients (its code)")
        parser.add_argument("--user", help="Export only what this user may see and export (default: the system)")
        parser.add_argument("--cut", help="Export from this frozen data cut (its name) instead of the live records")
        parser.add_argument(
            "--deidentify", action="store_true",
            help="Drop identifier fields, pseudonymise record ids and shift each patient's dates "
                 "(key: REGISTRY_DEIDENTIFICATION_KEY)",
        )
        parser.add_argument(
            "--deidentification-key-file", metavar="FILE",
            help="With --deidentify: read this export's key (32+ characters) from FILE instead of the setting",
        )

    def handle(self, *args, **options):
        name = options["name"]
        if name not in DATASETS:
            raise CommandError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
        site = None
        if options["site"]:
            site = Site.objects.filter(code=options["site"]).first()
            if site is None:
                raise CommandError(f"No site with the code {options['site']!r}")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user named {options['user']!r}")
        cut = data_cut_option(options["cut"])
        key = None
        if options["deidentification_key_file"]:
            if not options["deidentify"]:
                raise CommandError("--deidentification-key-file is for de-identified exports: add --deidentify")
            try:
                key = Path(options["deidentification_key_file"]).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise CommandError(f"Cannot read the key file: {error}") from None
        try:
            rows = dataset_export(
                name=name, output=options["output"], file_format=options["format"], user=user, site=site,
                deidentify=options["deidentify"], deidentification_key_override=key,
                door=ExportDoor.COMMAND_EXPORT_DATASET, cut=cut,
            )
        except (ExportNotAllowed, DeidentificationKeyMissing, ValueError) as error:
            raise CommandError(str(error)) from None
        deidentified = " de-identified" if options["deidentify"] else ""
        if cut is not None:
            name = f"{name} (data cut {cut.name})"
        self.stdout.write(self.style.SUCCESS(
            f"Exported {rows}{deidentified} rows of {name} to {options['output']} "
            f"(codebook: {codebook_path(options['output'])}, provenance: {provenance_path(options['output'])})."
        ))
