"""What every model figure shares: the object API (no pyplot state), reference lines, the
headline (a title stating the takeaway over a subtitle naming the data window), PNG."""

from __future__ import annotations

import io
import math
import textwrap

from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

# The diagonal / baseline a curve is compared with (chance ROC, perfect calibration, lift 1).
REFERENCE_LINE = {"ls": "--", "color": "grey", "lw": 1}
# A simple baseline drawn as a line over the model's bars (forecast backtests).
BASELINE_LINE = {"color": "black", "marker": "o", "lw": 1.5, "ms": 5}
PNG_DPI = 80
TITLE_SIZE, SUBTITLE_SIZE = 12, 9
TITLE_GID, SUBTITLE_GID = "headline-title", "headline-subtitle"


def _wrap(text: str, fig_width: float, size: float, em: float = 0.55) -> str:
    """`text` wrapped to the figure's width (an average glyph is ~`em` of its size wide)."""
    width = max(20, int(fig_width * 72 / (size * em)))
    return "\n".join(textwrap.wrap(text, width)) if text else ""


def headline(fig: Figure, title: str, subtitle: str = "") -> None:
    """Put the takeaway and, below it, the data window above the figure's axes.

    Both are figure texts (gids TITLE_GID, SUBTITLE_GID) in a band whose height follows
    their wrapped lines; the axes are laid out (constrained layout) below the band. Make
    the figure with layout="constrained" when it has a colorbar.
    """
    width, height = fig.get_size_inches()
    title = _wrap(title, width, TITLE_SIZE, em=0.6)  # bold
    subtitle = _wrap(subtitle, width, SUBTITLE_SIZE)
    title_in = (title.count("\n") + 1) * TITLE_SIZE * 1.3 / 72
    subtitle_in = (subtitle.count("\n") + 1) * SUBTITLE_SIZE * 1.3 / 72 if subtitle else 0.0
    pad = 0.08
    top = {"ha": "left", "va": "top"}
    fig.text(0.01, 1 - pad / height, title, size=TITLE_SIZE, weight="bold", gid=TITLE_GID, **top)
    if subtitle:
        y = 1 - (pad + title_in + 0.04) / height
        fig.text(0.01, y, subtitle, size=SUBTITLE_SIZE, color="0.3", gid=SUBTITLE_GID, **top)
    band = (2 * pad + title_in + subtitle_in + 0.1) / height
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0, 0, 1, 1 - band))
    else:
        fig.set_layout_engine("constrained", rect=(0, 0, 1, 1 - band))


def headline_text(fig: Figure) -> tuple[str, str]:
    """The figure's (title, subtitle) as single lines ("" where there is none)."""
    found = {t.get_gid(): " ".join(t.get_text().split()) for t in fig.texts}
    return found.get(TITLE_GID, ""), found.get(SUBTITLE_GID, "")


def count(n: float) -> str:
    """A count for a title: 1,240."""
    return f"{n:,.0f}"


def change(new: float, old: float) -> str | None:
    """Relative change as a signed percentage (+6%, -12%); None when `old` is not positive."""
    if not old or old <= 0 or not math.isfinite(new) or not math.isfinite(old):
        return None
    return f"{(new - old) / old:+.0%}"


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, cropped to its content."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, bbox_inches="tight")
    return buf.getvalue()
