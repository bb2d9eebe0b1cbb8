"""Synthetic sample data: the five raw tables of the contract, with real structure and dirt.

The simulation is driven by latent customer types (bargain hunters, loyal high spenders,
gift buyers, browsers, one-time buyers, regulars) whose per-customer parameters are drawn
from overlapping, noisy distributions. Each customer has an activity life that ends
(churn); engagement (sessions, email opens) and purchase intensity fade over a ramp before
the end, so churn is visible in the data before it happens. Orders follow weekly and yearly
seasonality, holiday peaks, promotions and a mild trend. The same seed gives the same bytes.

The rooms, in the order the data is made: reference and params (the shop and its customer
types), calendar (demand over time), catalogue (products), affinity (tastes, staples, complements,
product lives), population (customers' latent
parameters) and contacts (the customers table), orders, events, dirt (deliberate contract
breaks), writing (files, block by block; `generate`).
"""

from segmint.sample.writing import BLOCK_CUSTOMERS, DEFAULT_END_DATE, FORMATS, Progress, generate

__all__ = ["BLOCK_CUSTOMERS", "DEFAULT_END_DATE", "FORMATS", "Progress", "generate"]
