"""Write the study report (the reference study's tables and survival analyses from the registry).

    python manage.py study_report --format html|json --output PATH [--user USERNAME] [--cut NAME]

HTML: one self-contained page with the Kaplan-Meier curves. JSON: the same figures for machines
(keys: docs/study-report.md). Runs as the system (every site) unless --user names the user whose
access applies. Reads the stored derivations; run `derive` first if they are stale. --cut NAME:
the report of that frozen data cut (`freeze_cut`), as its results were stored.
"""
import json
import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.management.cut_option import data_cut_option
from registry.reports.study_report import study_report, study_report_html


class Command(BaseCommand):
    help = "Write the study report (Wu et al. 2024 reproduced) as HTML or JSON."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("html", "json"), default="html")
        parser.add_argument("--output", required=True, help="File to write")
        parser.add_argument("--user", help="Report only what this user may see (default: every site)")
        parser.add_argument("--cut", help="Report from this frozen data cut (its name) instead of the live records")

    def handle(self, *args, output, user=None, cut=None, **options):
        file_format = options["format"]
        reader = None
        if user:
            reader = get_user_model().objects.filter(username=user).first()
            if reader is None:
                raise CommandError(f"No user named {user!r}")
        data_cut = data_cut_option(cut)
        report = study_report(user=reader, figures=file_format == "html", cut=data_cut)
        text = (study_report_html(report) if file_format == "html"
                else json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        path = Path(output)
        partial = path.with_name(f"{path.name}.partial")  # the file appears complete or not at all
        try:
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        derived = report["derived_with"]
        self.stdout.write(self.style.SUCCESS(
            f"Wrote the study report ({file_format}, {derived['patients_in_cohorts']} patients in cohorts 1 and 2, "
            f"data cut-off {derived['data_cutoff'] or 'not set'}) to {path}."
        ))
        if not derived["consistent"] and data_cut is None:
            self.stderr.write(f"Warning: {derived['stale_patients']} patients' results are stale or were derived "
                              "with other settings; run `python manage.py derive` first for a consistent report.")
