"""Write the REDCap flat export (CSV or JSON) of the registry's records.

    python manage.py export_records --output records.csv [--site CODE] [--format json] [--records ID ...]
        [--cut NAME]

--cut NAME: the records as that frozen data cut (`freeze_cut`) stored them.
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registry.management.cut_option import data_cut_option
from registry.models import ExportDoor, Site
from registry.services.records import records_export


class Command(BaseCommand):
    help = "Export records in REDCap's flat format (CSV or JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="File to write")
        parser.add_argument("--site", help="Only this site's records (its code)")
        parser.add_argument(
            "--format", choices=("csv", "json"), help="File format (default: from the extension, else csv)"
        )
        parser.add_argument("--records", nargs="+", metavar="ID", help="Only these record IDs")
        parser.add_argument("--cut", help="Export the records of this frozen data cut (its name)")

    def handle(self, *args, **options):
        path = Path(options["output"])
        file_format = options["format"] or ("json" if path.suffix.lower() == ".json" else "csv")
        site = None
        if options["site"]:
            site = Site.objects.filter(code=options["site"]).first()
            if site is None:
                raise CommandError(f"No site with the code {options['site']!r}")
        cut = data_cut_option(options["cut"])
        # newline="": the writer's own LF line ends are kept as they are on every platform.
        with path.open("w", encoding="utf-8", newline="") as output:
            count = records_export(
                output=output, site=site, records=options["records"], file_format=file_format,
                door=ExportDoor.COMMAND_EXPORT_RECORDS,
                parameters={"output": path.name, "site": options["site"], "records": options["records"]}, cut=cut,
            )
        self.stdout.write(self.style.SUCCESS(f"Exported {count} rows to {path}."))
