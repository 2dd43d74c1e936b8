"""Write one analysis dataset (derivation rules §8) and, next to it, what its rows were derived with.

    python manage.py export_dataset lines --format csv --output lines.csv [--site CODE] [--user USERNAME]

Writes lines.csv and lines.csv.provenance.json. Runs as the system (every patient) unless --user
names the user whose access applies.
"""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.models import Site
from registry.services.datasets import DATASETS, FORMATS, dataset_export, provenance_path


class Command(BaseCommand):
    help = f"Export an analysis dataset ({', '.join(DATASETS)}) from the stored derivations."

    def add_arguments(self, parser):
        parser.add_argument("name", help=f"The dataset: {', '.join(DATASETS)}")
        parser.add_argument("--output", required=True, help="File to write")
        parser.add_argument("--format", choices=FORMATS, default="csv", help="File format (default: csv)")
        parser.add_argument("--site", help="Only this site's patients (its code)")
        parser.add_argument("--user", help="Export only what this user may see (default: none, every patient)")

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
        rows = dataset_export(name=name, output=options["output"], file_format=options["format"], user=user, site=site)
        self.stdout.write(self.style.SUCCESS(
            f"Exported {rows} rows of {name} to {options['output']} "
            f"(provenance: {provenance_path(options['output'])})."
        ))
