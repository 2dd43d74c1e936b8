"""Import a REDCap flat export (CSV or JSON) of records: all of it, or nothing if any row is wrong.

    python manage.py import_records records.csv --site shanghai-chest [--dry-run] [--overwrite]
"""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.models import Site
from registry.services.records import ImportResult, records_import


class Command(BaseCommand):
    help = "Import REDCap flat records (CSV or JSON). A file with any problem imports nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The REDCap flat export to import")
        parser.add_argument("--site", help="Code of the site where new records are created (needed to create any)")
        parser.add_argument("--dry-run", action="store_true", help="Check and report, write nothing")
        parser.add_argument("--format", choices=("csv", "json"), help="File format (default: from the extension)")
        parser.add_argument("--overwrite", action="store_true", help="Blank cells erase stored values")
        parser.add_argument("--user", help="Username recorded in the audit trail (default: none, full access)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        file_format = options["format"] or path.suffix.lower().lstrip(".")
        if file_format not in ("csv", "json"):
            raise CommandError(f"Cannot tell the format of {path.name}; give --format csv or --format json")
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
        result = records_import(
            source=path, file_format=file_format, site=site, user=user, dry_run=options["dry_run"],
            overwrite_behavior="overwrite" if options["overwrite"] else "normal", door="import_records",
            file_name=path.name,
        )
        if result.problems:
            self._write_problems(result)
            raise CommandError(f"{len(result.problems)} problem(s) in {path.name}; nothing was imported.")
        self._write_summary(result)

    def _write_summary(self, result: ImportResult) -> None:
        self.stdout.write(f"{'instrument':<20} {'created':>8} {'updated':>8} {'unchanged':>10}")
        for instrument in result.created:
            self.stdout.write(
                f"{instrument:<20} {result.created[instrument]:>8} {result.updated[instrument]:>8} "
                f"{result.unchanged[instrument]:>10}"
            )
        self._write_warnings(result)
        if result.dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {result.rows_read} rows."))

    def _write_warnings(self, result: ImportResult) -> None:
        """The soft checks of the values written: accepted, listed for a look (docs/soft-checks.md)."""
        if not result.warnings:
            return
        self.stdout.write(self.style.WARNING(
            f"{len(result.warnings)} value(s) accepted with a warning (soft checks; confirm or correct them):"))
        self.stdout.write("record	instrument	instance	field	value	check	message")
        for warning in result.warnings:
            self.stdout.write("\t".join((
                warning.record, warning.form, "" if warning.instance is None else str(warning.instance),
                warning.field, warning.value, warning.check, warning.message,
            )))

    def _write_problems(self, result: ImportResult) -> None:
        self.stdout.write("line\trecord\tinstrument\tinstance\tfield\tvalue\treason")
        for problem in result.problems:
            self.stdout.write("\t".join((
                "" if problem.line is None else str(problem.line), problem.record, problem.instrument,
                problem.instance, problem.field, problem.value, problem.reason,
            )))
