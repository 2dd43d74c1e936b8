"""Write the study report (the reference study's tables and survival analyses from the registry).

    python manage.py study_report --format html|json --output PATH [--user USERNAME] [--cut NAME]
    python manage.py study_report --figure KEY --format png|svg --output PATH [--user USERNAME] [--cut NAME]

HTML: one self-contained page with the Kaplan-Meier curves, the swimmer and the waterfall plot. JSON:
the same figures for machines (keys: docs/study-report.md). --figure: one figure as an image file, KEY
one of fig5a ... fig6d, swimmer, waterfall. Runs as the system (every site) unless --user names the user whose
access applies. Reads the stored derivations; run `derive` first if they are stale. --cut NAME:
the report of that frozen data cut (`freeze_cut`), as its results were stored.
"""
import json
import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.management.cut_option import data_cut_option
from registry.reports.study_report import FIGURE_KEYS, study_figure, study_report, study_report_html

IMAGE_FORMATS = ("png", "svg")


class Command(BaseCommand):
    help = "Write the study report (Wu et al. 2024 reproduced) as HTML or JSON, or one of its figures as PNG or SVG."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("html", "json", *IMAGE_FORMATS), default="html",
                            help="html or json for the report; png or svg for one figure (--figure)")
        parser.add_argument("--figure", choices=FIGURE_KEYS, help="Write this figure only, as --format png or svg")
        parser.add_argument("--output", required=True, help="File to write")
        parser.add_argument("--user", help="Report only what this user may see (default: every site)")
        parser.add_argument("--cut", help="Report from this frozen data cut (its name) instead of the live records")

    def handle(self, *args, output, user=None, cut=None, figure=None, **options):
        file_format = options["format"]
        if (figure is None) != (file_format not in IMAGE_FORMATS):
            raise CommandError("--figure KEY goes with --format png or svg, and png or svg with --figure "
                               f"(got --format {file_format}{f' --figure {figure}' if figure else ''})")
        reader = None
        if user:
            reader = get_user_model().objects.filter(username=user).first()
            if reader is None:
                raise CommandError(f"No user named {user!r}")
        data_cut = data_cut_option(cut)
        path = Path(output)
        if figure is not None:
            _write_atomically(path, study_figure(figure, user=reader, cut=data_cut, image_format=file_format))
            self.stdout.write(self.style.SUCCESS(
                f"Wrote the study report's figure {figure} ({file_format}) to {path}."))
            return
        report = study_report(user=reader, figures=file_format == "html", cut=data_cut)
        text = (study_report_html(report) if file_format == "html"
                else json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        _write_atomically(path, text.encode("utf-8"))
        derived = report["derived_with"]
        self.stdout.write(self.style.SUCCESS(
            f"Wrote the study report ({file_format}, {derived['patients_in_cohorts']} patients in cohorts 1 and 2, "
            f"data cut-off {derived['data_cutoff'] or 'not set'}) to {path}."
        ))
        if not derived["consistent"] and data_cut is None:
            self.stderr.write(f"Warning: {derived['stale_patients']} patients' results are stale or were derived "
                              "with other settings; run `python manage.py derive` first for a consistent report.")


def _write_atomically(path: Path, content: bytes) -> None:
    partial = path.with_name(f"{path.name}.partial")  # the file appears complete or not at all
    try:
        partial.write_bytes(content)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
