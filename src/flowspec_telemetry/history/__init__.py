"""The read side: streaming the stored history (archives included) and choosing events.

Also `erase` (`clear`), which counts what it deletes with the reader.
"""

__all__: list[str] = []  # a namespace of modules: import them by name
