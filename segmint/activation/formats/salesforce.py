"""Salesforce Bulk API 2.0 upsert CSV for Contact."""

from __future__ import annotations

from collections import Counter
from typing import Any

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination, member_field
from segmint.activation.formats.base import (
    CONTACT_COLUMNS,
    CsvVendorFormat,
    is_erased_row,
    text_value,
)

OPT_OUT_FIELD = "HasOptedOutOfEmail"


class SalesforceFormat(CsvVendorFormat):
    """Salesforce Bulk API 2.0 upsert CSV for Contact, keyed by an external ID field.

    https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/datafiles_prepare_csv.htm
    https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/create_job.htm
    Header = field API names, one column is the external ID field (the job's
    externalIdFieldName); UTF-8, comma, LF line ending (lineEnding LF, the job default),
    double quotes; empty cells leave a field unchanged on upsert; booleans true/false.
    Country as MailingCountryCode (ISO alpha-2: the picklist State and Country/Territory
    picklists take codes). Each audience has its own checkbox field (`member_field`,
    default Segmint_<audience>__c), so a removal from one audience never clears another:
    removals upsert that field to false. An erased customer's removal also sets
    HasOptedOutOfEmail (Email Opt Out) to true; deleting the Contact needs its record Id
    (Bulk API 2.0 delete jobs take Id only), which the operator looks up by external ID.
    """

    name = "salesforce"
    spec = (
        "https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/"
        "datafiles_prepare_csv.htm"
    )
    supports_replace = False  # an upsert job cannot replace; full mode sends removals too
    removals = (
        "Run the removals file as a Bulk API 2.0 upsert job on Contact (same "
        "externalIdFieldName): it sets this audience's member field to false, and "
        "HasOptedOutOfEmail to true for erased customers. Full exports send it too."
    )
    fields = (
        ("first_name", "FirstName"),
        ("last_name", "LastName"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("city", "MailingCity"),
        ("postal_code", "MailingPostalCode"),
        ("country", "MailingCountryCode"),
    )

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Contact fields + the columns of field_map."""
        mapped = [c for c in dest.field_map if c not in CONTACT_COLUMNS]
        return ["customer_key", *CONTACT_COLUMNS, *mapped]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """The external id only."""
        return ["customer_key"]

    def job(self, audience: Audience, dest: Destination, role: str) -> dict[str, Any]:
        """The Bulk API 2.0 job to create for this file (POST /jobs/ingest body)."""
        return {
            "object": "Contact",
            "operation": "upsert",
            "externalIdFieldName": dest.external_id_field,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """External id, Contact fields, member flag, mapped fields."""
        return [
            dest.external_id_field,
            *(f for _, f in self.fields),
            member_field(audience, dest),
            *dest.field_map.values(),
        ]

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """One Contact upsert row (the external id is the pseudonymous customer_key)."""
        key = row.get("customer_key")
        if not key:
            return None
        country = ident.country_iso2(row.get("country"))
        values = [str(key)]
        for column, _ in self.fields:
            if column == "email":
                values.append(ident.normalize_email_basic(row.get("email"), drops) or "")
            elif column == "phone":
                values.append(ident.normalize_phone_e164(row.get("phone"), country, drops) or "")
            elif column == "country":
                values.append(country or "")
            else:
                values.append(text_value(row.get(column)))
        values.append("true")
        return values + [text_value(row.get(c)) for c in dest.field_map]

    def removal_header(self, audience: Audience, dest: Destination) -> list[str]:
        """External id, this audience's member flag, Email Opt Out."""
        return [dest.external_id_field, member_field(audience, dest), OPT_OUT_FIELD]

    def removal_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination, drops: Counter[str]
    ) -> list[str] | None:
        """Member flag false (opt-out true for an erased customer; else unchanged)."""
        key = row.get("customer_key")
        if not key:
            return None
        return [str(key), "false", "true" if is_erased_row(row) else ""]
