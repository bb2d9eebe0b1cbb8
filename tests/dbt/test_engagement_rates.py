"""E-mail rates are shares of the e-mails sent: an ESP export that reports every open, or an
open in the window of an e-mail sent before it, never pushes them above 1."""

from __future__ import annotations

from datetime import timedelta

from tests.dbt.helpers import END


def _event(n: int, days_before_end: float, event_type: str) -> dict:
    return {
        "event_id": f"E{n:04d}",
        "occurred_at": END - timedelta(days=days_before_end),
        "event_type": event_type,
        "customer_id": "C1",
        "channel": "email",
    }


def test_open_and_click_rates_stay_within_zero_and_one(dbt_factory) -> None:
    order = {
        "order_id": "O1",
        "customer_id": "C1",
        "ordered_at": END,
        "status": "completed",
        "total_amount": 10,
        "currency": "EUR",
    }
    events = [
        _event(1, 100, "email_send"),  # sent before the 90-day window, opened inside it
        _event(2, 80, "email_open"),
        _event(3, 10, "email_send"),  # one e-mail in the window, opened three times
        *(_event(4 + k, 9 - k, "email_open") for k in range(3)),
        *(_event(7 + k, 9 - k, "email_click") for k in range(2)),
    ]
    project = dbt_factory(
        {"customers": [{"customer_id": "C1"}], "orders": [order], "events": events}
    )
    # Seeds and models up to the feature table; the other models' tests are not this one's.
    project.build(
        "--select", "+int_customer_engagement", "--exclude-resource-type", "test", "unit_test"
    )
    sends, opens, clicks, open_rate, click_rate = project.query(
        "select email_sends_90d, email_opens_90d, email_clicks_90d, email_open_rate, "
        "email_click_rate from intermediate.int_customer_engagement "
        "where customer_id = 'C1' and cutoff_date = (select max(cutoff_date) "
        "from intermediate.int_customer_engagement)"
    )[0]
    assert (sends, opens, clicks) == (1, 4, 2)  # the counts stay what the ESP reported
    assert (open_rate, click_rate) == (1.0, 1.0)
