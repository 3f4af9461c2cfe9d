"""The read side: streaming the stored history (archives included) and choosing events."""
