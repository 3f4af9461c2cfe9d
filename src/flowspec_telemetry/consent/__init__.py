"""Consent as a person meets it: recording a yes or no, the prompt, the notice, `status`.

The per-call decision that the tracking path applies lives in
`core.consent_rules`; this layer asks, records and explains it.
"""

__all__: list[str] = []  # a namespace of modules: import them by name
