{#- Identifiers that link several customer records or persons and therefore merge none of
    them (int_identity_graph): a shop's placeholder e-mail (reason placeholder), an e-mail
    or phone on more than var('identity_max_persons') records (too_many_records: a family
    address, a test account), a device seen with several persons (several_persons: a shared
    tablet, a store kiosk). degree: the customer records it was seen with. No personal data
    beyond the keyed hash. -#}

select
    identifier_type,
    {{ keyed_hash('identifier_value') }} as identifier_hash,
    conflict_reason,
    records as degree,
    persons,
    first_seen,
    last_seen
from {{ ref('int_identity_graph') }}
where conflict_reason is not null
