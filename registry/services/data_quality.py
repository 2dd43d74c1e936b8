"""Data-quality rules: saving a custom rule, running every rule and storing the hits, and
verifying a hit as correct.

A run reads every record once (registry/selectors/data_quality.py: a fixed number of queries),
applies the built-in rules, the custom rules and the derivation's flags to it
(registry/records/data_quality.py), and stores the hits in bulk, in one transaction: a run that
fails stores no hit. The hits of earlier runs are deleted once a run succeeds (the runs themselves
are kept, with their counts): the results pages show the latest run.

"Verified as correct" is a SoftCheckConfirmation (registry/services/soft_checks.py), keyed by the
value: it holds in every later run while the value stays the same, and no longer once it changes.
"""
from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from registry.models import Patient, QualityRule, QualityRuleHit, QualityRuleRun
from registry.records.data_quality import (
    CONFIRMATION_PREFIX, RANGE_SOFT_CHECK, CustomRuleError, Hit, custom_rule, flag_hits, new_numbers,
    outlier_hits, record_hits,
)
from registry.records.soft_checks import SoftCheck
from registry.selectors.access import Capability, user_can
from registry.selectors.data_quality import derivation_flags, record_values
from registry.services.bulk_statements import insert_rows
from registry.services.soft_checks import confirmed_values, soft_checks_confirm

logger = logging.getLogger(__name__)
WRITE_BATCH = 5000  # hits written at a time
DOOR = "data_quality"


@transaction.atomic
def quality_rule_save(*, user, name: str, logic: str, active: bool = True,
                      rule: QualityRule | None = None) -> QualityRule:
    """Creates (rule None) or changes a custom rule. Raises ValidationError naming the field and the
    reason (logic that cannot be read, or that names two repeating instruments): nothing is saved."""
    if rule is None:
        rule = QualityRule(created_by=user)
    rule.name, rule.logic, rule.active = name, logic, active
    rule.full_clean()
    rule.save()
    return rule


def _confirmation_code(rule: str) -> str:
    return f"{CONFIRMATION_PREFIX}{rule}"


def _verified(hit: Hit, confirmed: set[tuple]) -> bool:
    key = (hit.patient_id, hit.form, hit.instance, hit.field)
    if (*key, _confirmation_code(hit.rule), hit.value) in confirmed:
        return True
    # A value confirmed at entry when the range soft check asked about it is verified for rule D too.
    return hit.rule == "D" and (*key, RANGE_SOFT_CHECK, hit.value) in confirmed


HIT_COLUMNS = ("run", "rule", "patient", "site", "record_id", "form", "instance", "field", "value", "message",
               "verified")


def _stored(run: QualityRuleRun, hits: list[Hit], confirmed: set[tuple]) -> int:
    """Writes the hits in one statement (bulk_statements.insert_rows: no model instance per hit)."""
    insert_rows(QualityRuleHit, HIT_COLUMNS, [
        (run.pk, hit.rule, hit.patient_id, hit.site_id, hit.record_id, hit.form, hit.instance, hit.field, hit.value,
         hit.message, _verified(hit, confirmed)) for hit in hits])
    return len(hits)


def quality_rules_run(*, trigger: str, user=None) -> QualityRuleRun:
    """Runs every built-in rule, every active custom rule and the derivation's flags on every record.

    `user` (the person who asked, for an on-demand run) must hold RUN_RULES; a nightly run has none.
    Queries: the run row, the custom rules, the confirmations, the records (record_values: eight),
    the derivation flags, the hits written in batches of WRITE_BATCH, the older hits deleted."""
    if user is not None and not user_can(user, Capability.RUN_RULES):
        raise PermissionDenied("Running the data-quality rules needs the run-rules right (data managers, administrators).")
    run = QualityRuleRun.objects.create(trigger=trigger, started_by=user, started_at=timezone.now())
    try:
        with transaction.atomic():
            rules, skipped = [], []
            for rule in QualityRule.objects.filter(active=True).order_by("name"):
                try:
                    rules.append(custom_rule(rule.code, rule.name, rule.logic))
                except CustomRuleError as error:  # a rule the dictionary no longer fits: run the others
                    skipped.append(f"Custom rule {rule.name!r} was not run: {error}")
            confirmed = confirmed_values(code_prefix=CONFIRMATION_PREFIX, codes=[RANGE_SOFT_CHECK])
            numbers = new_numbers()
            patients = Patient.objects.all()
            pending: list[Hit] = []
            total = records = 0
            for record in record_values(patients):
                records += 1
                pending.extend(record_hits(record, rules, numbers=numbers))
                if len(pending) >= WRITE_BATCH:
                    total += _stored(run, pending, confirmed)
                    pending = []
            pending.extend(outlier_hits(numbers))
            for patient_id, site_id, record_id, flags in derivation_flags(patients):
                pending.extend(flag_hits(record_id, patient_id, site_id, flags))
            total += _stored(run, pending, confirmed)
            QualityRuleHit.objects.filter(run__started_at__lte=run.started_at).exclude(run=run).delete()
            run.status, run.records, run.hit_count = QualityRuleRun.Status.DONE, records, total
            run.error = "\n".join(skipped)
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "records", "hit_count", "error", "finished_at"])
    except Exception as error:  # recorded on the run for the page, then raised as it came
        run.status, run.error, run.finished_at = QualityRuleRun.Status.FAILED, repr(error), timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    return run


def quality_rules_request(*, user) -> None:
    """Queues a run asked for on the workspace's page, after the request's commit (a run takes about
    40 s on 10,000 patients: a worker runs it, not the web request; in-process without a broker).
    Raises PermissionDenied without RUN_RULES, queueing nothing."""
    if not user_can(user, Capability.RUN_RULES):
        raise PermissionDenied("Running the data-quality rules needs the run-rules right (data managers, administrators).")
    transaction.on_commit(lambda: _enqueue(user.pk))


def _enqueue(user_id: int) -> None:
    from registry.tasks import quality_rules_run_task

    quality_rules_run_task.delay(user_id)


@transaction.atomic
def quality_hit_verify(*, hit: QualityRuleHit, user) -> None:
    """Marks a hit's value verified as correct: a SoftCheckConfirmation of the rule's check on this
    value (kept while the value stays the same), and the run's hits on it marked verified. Needs
    RUN_RULES for the hit's site."""
    if not user_can(user, Capability.RUN_RULES, site_id=hit.site_id):
        raise PermissionDenied("Verifying a hit needs the run-rules right for its site (data managers, administrators).")
    check = SoftCheck(_confirmation_code(hit.rule), hit.form, hit.field, hit.value, hit.message, hit.instance)
    soft_checks_confirm(patient=hit.patient, checks=[check], user=user, door=DOOR)
    QualityRuleHit.objects.filter(run_id=hit.run_id, patient_id=hit.patient_id, rule=hit.rule, form=hit.form,
                                  instance=hit.instance, field=hit.field, value=hit.value).update(verified=True)
