"""Suite for customer_targeting: customer_360 + segment + churn score + consent, per customer."""

from __future__ import annotations

import great_expectations as gx

from expectations.churn_scores import RISK_BANDS
from expectations.common import (
    BOOLEAN,
    Severity,
    SuiteContext,
    columns_present,
    in_set,
    not_empty,
    not_null,
    of_type,
    orphans,
    probability,
    row_count_bounds,
    rows_where,
    suite,
    unique,
)

CONTACT_COLUMNS = ("email", "phone", "first_name", "last_name", "postal_code")
EXPECTED_COLUMNS = (
    "customer_id",
    "marketing_consent",
    "churn_probability",
    "risk_band",
    "segment_id",
    "is_marketable",
)


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Key and consent/probability semantics (ERROR); joins coverage and drift (WARN)."""
    exps = [
        columns_present(["customer_id"]),
        columns_present(list(EXPECTED_COLUMNS), Severity.WARN),
        not_null("customer_id"),
        unique(["customer_id"]),
        not_empty(Severity.WARN, "targeting has customers"),
        orphans("customer_id", "marts.customer_360", "customer_id"),
    ]
    if ctx.has("marketing_consent"):
        exps.append(of_type("marketing_consent", BOOLEAN))
    if ctx.has("churn_probability"):
        exps.append(probability("churn_probability"))
        exps.append(not_null("churn_probability", Severity.WARN, mostly=0.9))
    if ctx.has("risk_band"):
        exps.append(in_set("risk_band", RISK_BANDS))
    if ctx.has("segment_id"):
        exps.append(not_null("segment_id", Severity.WARN, mostly=0.9))
    if ctx.has("is_marketable") and ctx.has("marketing_consent"):
        erased = " or is_erased" if ctx.has("is_erased") else ""
        exps.append(
            rows_where(
                f"is_marketable and (not coalesce(marketing_consent, false){erased})",
                Severity.ERROR,
                "only consented, non-erased customers are marketable",
            )
        )
    if ctx.has("is_erased"):
        contact = [c for c in CONTACT_COLUMNS if ctx.has(c)]
        if contact:
            exps.append(
                rows_where(
                    "is_erased and coalesce(" + ", ".join(contact) + ") is not null",
                    Severity.ERROR,
                    "erased customers carry no contact fields",
                )
            )
    exps.extend(row_count_bounds(ctx, min_ratio=0.9, max_ratio=2.0))
    return suite(ctx, exps)
