"""The read side: streaming the stored history (archives included) and choosing events.

Also `erase` (`clear`), which counts what it deletes with the reader.
"""
