"""Suite for marts.fct_orders: no order is summed in a currency other than the base currency.

Every sum of money downstream (revenue, monetary, CLV, AOV, demand, cohorts) reads
total_amount_base. An order in another currency without a usable rate in raw.fx_rates has a
null base amount; publishing would then show totals that silently leave it out, so the check
blocks publish and names each currency with its count of orders and their date range.
"""

from __future__ import annotations

import great_expectations as gx

from expectations.common import Severity, SuiteContext, columns_present, query_rows, suite

MONEY_COLUMNS = ("currency", "total_amount", "fx_rate_to_base", "total_amount_base")

# One row per currency whose orders have no rate dated on or before their order date.
MISSING_RATES_SQL = (
    "select currency, count(*) as orders_without_rate, "
    "min(order_date) as first_order_date, max(order_date) as last_order_date "
    "from {batch} where fx_rate_to_base is null "
    "group by currency order by orders_without_rate desc, currency"
)


def build_suite(ctx: SuiteContext) -> gx.ExpectationSuite:
    """Money columns present; every order has a rate to the base currency (ERROR)."""
    return suite(
        ctx,
        [
            columns_present(MONEY_COLUMNS),
            query_rows(
                MISSING_RATES_SQL,
                Severity.ERROR,
                "every order in another currency has a rate in raw.fx_rates dated on or "
                "before its order date (else its amounts would be summed unconverted)",
            ),
        ],
    )
