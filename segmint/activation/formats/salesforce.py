"""Salesforce Bulk API 2.0 upsert CSV for Contact."""

from __future__ import annotations

from typing import Any

from segmint.activation import identity as ident
from segmint.activation.audience import Audience, Destination
from segmint.activation.formats.base import CONTACT_COLUMNS, CsvVendorFormat, text_value


class SalesforceFormat(CsvVendorFormat):
    """Salesforce Bulk API 2.0 upsert CSV for Contact, keyed by an external ID field.

    https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/datafiles_prepare_csv.htm
    https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/walkthrough_upsert.htm
    Header = field API names, one column is the external ID field; UTF-8, comma, LF line
    ending (the job default), double quotes; empty cells leave a field unchanged on upsert;
    booleans true/false; dates YYYY-MM-DD. Removals upsert the member flag to false.
    """

    name = "salesforce"
    spec = (
        "https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/"
        "datafiles_prepare_csv.htm"
    )
    fields = (
        ("first_name", "FirstName"),
        ("last_name", "LastName"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("city", "MailingCity"),
        ("postal_code", "MailingPostalCode"),
        ("country", "MailingCountry"),
    )

    def columns(self, audience: Audience, dest: Destination) -> list[str]:
        """Contact fields + the columns of field_map."""
        mapped = [c for c in dest.field_map if c not in CONTACT_COLUMNS]
        return ["customer_key", *CONTACT_COLUMNS, *mapped]

    def removal_columns(self, audience: Audience, dest: Destination) -> list[str]:
        """The external id only."""
        return ["customer_key"]

    def header(self, audience: Audience, dest: Destination) -> list[str]:
        """External id, Contact fields, member flag, mapped fields."""
        return [
            dest.external_id_field,
            *(f for _, f in self.fields),
            dest.member_field,
            *dest.field_map.values(),
        ]

    def member_values(
        self, row: dict[str, Any], audience: Audience, dest: Destination
    ) -> list[str] | None:
        """One Contact upsert row (the external id is the pseudonymous customer_key)."""
        key = row.get("customer_key")
        if not key:
            return None
        country = ident.country_iso2(row.get("country"))
        values = [str(key)]
        for column, _ in self.fields:
            if column == "email":
                values.append(ident.normalize_email_basic(row.get("email")) or "")
            elif column == "phone":
                values.append(ident.normalize_phone_e164(row.get("phone"), country) or "")
            elif column == "country":
                values.append(country or "")
            else:
                values.append(text_value(row.get(column)))
        values.append("true")
        return values + [text_value(row.get(c)) for c in dest.field_map]

    def removal_header(self, dest: Destination) -> list[str]:
        """External id and member flag."""
        return [dest.external_id_field, dest.member_field]

    def removal_values(self, row: dict[str, Any], dest: Destination) -> list[str] | None:
        """Upsert the member flag to false."""
        key = row.get("customer_key")
        return [str(key), "false"] if key else None
