"""User-facing errors: printed as one line by the CLI, never as a traceback."""


class SegmintError(Exception):
    """A mistake the user can fix (missing folder, unknown table, bad option)."""
