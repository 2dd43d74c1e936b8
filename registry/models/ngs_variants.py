from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from . import fields
from .choices import VariantKind
from .instruments import RepeatingInstance


class NgsVariant(RepeatingInstance):
    """One alteration found by NGS in one biopsy (repeating instrument `ngs_variant`).

    REDCap's flat format names the biopsy by date (`var_bx_date`); here it is a foreign key.
    """

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="ngs_variants")
    biopsy = models.ForeignKey(
        "registry.Biopsy", on_delete=models.CASCADE, related_name="variants",
        verbose_name="Date of the biopsy this alteration was found in",
    )
    var_gene = fields.text("Gene (HGNC symbol)", max_length=30, required=True)
    var_kind = fields.coded(VariantKind, "Alteration", required=True)
    var_protein = fields.text("Protein change (e.g. G1202R, p.G1202R or p.Gly1202Arg)", max_length=60)
    var_vaf = fields.number("Variant allele frequency (%)", decimal_places=3)
    var_cn = fields.number("Copy number")
    var_partner = fields.text("Fusion partner gene", max_length=30)
    ngs_variant_complete = fields.record_status("NGS variant")
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "biopsy__bx_date", "redcap_repeat_instance"]
        constraints = [*RepeatingInstance.Meta.constraints]

    def __str__(self) -> str:
        return f"{self.var_gene} {self.var_protein}".strip()

    def clean(self) -> None:
        errors = {}
        if self.patient_id is not None and self.biopsy_id is not None and self.biopsy.patient_id != self.patient_id:
            errors["biopsy"] = "The biopsy belongs to another patient."
        if self.var_protein.strip() and self.var_kind not in (None, VariantKind.POINT_MUTATION):
            errors["var_protein"] = "A protein change is recorded only for a point mutation or small indel."
        if self.var_partner.strip() and self.var_kind not in (None, VariantKind.FUSION):
            errors["var_partner"] = "A fusion partner is recorded only for a fusion."
        if errors:
            raise ValidationError(errors)
