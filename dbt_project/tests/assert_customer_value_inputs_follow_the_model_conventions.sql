-- Rows of customer_value_inputs that break the model's conventions: 0 <= recency <= T; a
-- repeat purchase day is a later day, so frequency > 0 implies 0 < frequency <= recency;
-- without a repeat, recency and monetary_value are 0; nothing after the cutoff.
select *
from {{ ref('customer_value_inputs') }}
where recency < 0
    or recency > tenure_days
    or frequency < 0
    or (frequency > 0 and (recency = 0 or frequency > recency))
    or (frequency = 0 and (recency <> 0 or monetary_value <> 0))
    or last_purchase_date > cutoff_date
