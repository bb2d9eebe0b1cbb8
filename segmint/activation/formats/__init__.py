"""Export file formats: each vendor's documented import layout, plus plain CSV/Parquet/JSONL,
and the Postgres table sync (formats.postgres). Vendor sources are cited per class.
"""

from segmint.activation.formats.base import (
    CONTACT_COLUMNS,
    CsvVendorFormat,
    ExportFormat,
    HashedIdentifierFormat,
    WriteStats,
    iter_rows,
    text_value,
)
from segmint.activation.formats.google_ads import GoogleAdsFormat
from segmint.activation.formats.hubspot import HubSpotFormat
from segmint.activation.formats.mailchimp import MailchimpFormat
from segmint.activation.formats.meta import MetaFormat
from segmint.activation.formats.plain import CsvFormat, JsonLinesFormat, ParquetFormat, PlainFormat
from segmint.activation.formats.salesforce import SalesforceFormat

FILE_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        HubSpotFormat(),
        SalesforceFormat(),
        MailchimpFormat(),
        GoogleAdsFormat(),
        MetaFormat(),
        CsvFormat(),
        ParquetFormat(),
        JsonLinesFormat(),
    )
}

__all__ = [
    "CONTACT_COLUMNS",
    "FILE_FORMATS",
    "CsvFormat",
    "CsvVendorFormat",
    "ExportFormat",
    "GoogleAdsFormat",
    "HashedIdentifierFormat",
    "HubSpotFormat",
    "JsonLinesFormat",
    "MailchimpFormat",
    "MetaFormat",
    "ParquetFormat",
    "PlainFormat",
    "SalesforceFormat",
    "WriteStats",
    "iter_rows",
    "text_value",
]
