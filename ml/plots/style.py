"""What every model figure shares: the object API (no pyplot state), reference lines, PNG."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

# The diagonal / baseline a curve is compared with (chance ROC, perfect calibration, lift 1).
REFERENCE_LINE = {"ls": "--", "color": "grey", "lw": 1}
PNG_DPI = 80


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, cropped to its content."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, bbox_inches="tight")
    return buf.getvalue()
