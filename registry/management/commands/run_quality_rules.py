"""Run every data-quality rule on every record now, in this process (as the nightly task does).

    python manage.py run_quality_rules
"""
import time

from django.core.management.base import BaseCommand
from django.db.models import Count

from registry.models import QualityRuleRun
from registry.services.data_quality import quality_rules_run


class Command(BaseCommand):
    help = "Run the data-quality rules (built-in, derivation flags, active custom rules) and store their hits."

    def handle(self, *args, **options):
        started = time.perf_counter()
        run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)
        seconds = time.perf_counter() - started
        for rule, count in run.hits.values("rule").order_by("rule").annotate(count=Count("pk")).values_list(
                "rule", "count"):
            self.stdout.write(f"{rule} {count}")
        if run.error:
            self.stderr.write(run.error)
        self.stdout.write(self.style.SUCCESS(
            f"Ran the data-quality rules on {run.records} records: {run.hit_count} hits in {seconds:.1f} s."))
