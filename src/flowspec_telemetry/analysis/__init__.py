"""What the history means: exact totals (`stats`) and the five product answers (`insights`)."""

__all__: list[str] = []  # a namespace of modules: import them by name
