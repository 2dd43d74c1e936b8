"""Reading a flat file once: the rows of the import's later passes are kept in spools."""
import io
import json

from registry.models import LesionMeasurement, Patient, TumorAssessment
from registry.records import flat_source
from registry.records.flat_source import FlatSource, RowSpool
from registry.services.records import records_import
from tests.records.flat_files import csv_text, instance_row, record_row


class _CountingFile(io.BytesIO):
    """A binary file that counts the bytes read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def read1(self, size=-1):
        data = super().read1(size)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer):
        count = super().readinto(buffer)
        self.bytes_read += count
        return count


def _rows_of_three_passes(record_id: str) -> list[dict[str, str]]:
    # Measurements first: the third pass writes them after the assessment and lesion they name.
    return [
        instance_row(record_id, "lesion_measurement", 1, lm_date="2020-01-05", lm_lesion="L1", lm_status="1",
                     lm_mm="20"),
        instance_row(record_id, "tumor_assessment", 1, ta_date="2020-01-05"),
        instance_row(record_id, "lesion", 1, les_id="L1", les_line="1", les_class="1", les_site="1"),
        record_row(record_id, sex="1", adv_dx_date="2020-01-01"),
    ]


def test_an_import_of_a_csv_file_reads_it_once(site_a):
    source = _CountingFile(csv_text(_rows_of_three_passes("A-1")).encode())

    result = records_import(source=source, file_format="csv", site=site_a, user=None)

    assert result.problems == []
    assert source.bytes_read == len(source.getvalue())
    assert (Patient.objects.count(), TumorAssessment.objects.count(), LesionMeasurement.objects.count()) == (1, 1, 1)


def test_an_import_of_a_json_file_reads_it_once_besides_its_first_bytes(site_a):
    # The first 64 bytes are read once more: they tell a JSON list from anything else.
    source = _CountingFile(json.dumps(_rows_of_three_passes("A-1")).encode())

    result = records_import(source=source, file_format="json", site=site_a, user=None)

    assert result.problems == []
    assert source.bytes_read == len(source.getvalue()) + 64
    assert LesionMeasurement.objects.get().lesion.les_id == "L1"


def test_a_spool_gives_back_its_rows_and_keys_in_order_after_moving_to_disk(monkeypatch):
    monkeypatch.setattr(flat_source, "SPOOL_MEMORY_BYTES", 1024)
    monkeypatch.setattr(RowSpool, "BATCH_ROWS", 7)
    rows = [instance_row(f"A-{number}", "lesion", number, les_id=f"L{number}") for number in range(1, 101)]
    read = list(FlatSource(io.BytesIO(csv_text(rows).encode()), "csv").rows(None))
    spool = RowSpool()

    for position, row in enumerate(read):
        spool.add("odd" if position % 2 else "even", row)
    assert spool._file._rolled  # the 100 rows outgrew 1 KiB of memory
    kept = list(spool.rows())

    assert [key for key, _ in kept] == ["even", "odd"] * 50
    assert [(row.line, row.cells) for _, row in kept] == [(row.line, row.cells) for row in read]
