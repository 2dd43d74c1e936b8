"""The workspace's views, one module per page family; urls.py names them from here."""
from .data_quality import quality_hit_verify, quality_rule_edit, quality_rule_hits, quality_rules, quality_run
from .instruments import instance_edit, instance_new, record_form
from .locks import lock, sign, unlock
from .queries import query_csv, query_detail, query_list, query_new
from .record_home import instance_delete, record_home, record_new
from .saved_reports import (
    report_delete, report_download, report_edit, report_filter_check, report_new, report_view, reports,
)
from .scans import scan_edit, scan_new
from .worklist import records, worklist

__all__ = [
    "instance_delete", "quality_hit_verify", "quality_rule_edit", "quality_rule_hits", "quality_rules", "quality_run", "instance_edit", "instance_new", "record_form", "record_home", "record_new", "records",
    "scan_edit", "scan_new", "worklist",
    "report_delete", "report_download", "report_edit", "report_filter_check", "report_new", "report_view", "reports",
    "lock", "sign", "unlock",
    "scan_edit", "scan_new", "worklist", "query_csv", "query_detail", "query_list", "query_new",
]
