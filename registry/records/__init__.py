"""REDCap's flat record format: the data dictionary, field codecs, import and export."""
