"""The publish domain: the last asset, a read-only snapshot of every analyst-facing table.

Its own group on purpose: one asset, but a stage of its own (runs only when every blocking
check of the run passed; the previous snapshot stays otherwise).
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.publish.assets import publish_asset

# Schemas copied into the published snapshot; publish depends on every asset in them.
PUBLISHED_SCHEMAS = ("marts", "ml", "activation")


def defs(upstream: dg.Definitions) -> dg.Definitions:
    """Publish after every analyst-facing asset of `upstream` (the other domains, merged)."""
    keys = {
        key for a in upstream.assets or [] if isinstance(a, dg.AssetsDefinition) for key in a.keys
    }
    published = sorted(
        (k for k in keys if k.path[0] in PUBLISHED_SCHEMAS), key=lambda k: k.to_user_string()
    )
    return dg.Definitions(assets=[publish_asset(published)])
