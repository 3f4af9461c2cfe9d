"""The core: everything `track()` needs, and nothing that reads history back.

Names derived from the host tool (`names`), the event model (`events`,
`typed_event`), keyed hashing and scrubbing (`privacy`), finding the project
(`project`), file modes (`permissions`), the role catalog (`roles`), the
per-call consent decision (`consent_rules`), the writer and its file layout
(`store`), rotation and retention (`rotation`), the never-failing facade
(`tracker`, `track_helpers`), the one private-file writer (`_files`), the
exception tree (`errors`) and the ledger of share reports written (`ledger`).

Modules here import only each other and the standard library (YAML only when
a changed workflow file must be parsed); every other layer imports from here.
"""

__all__: list[str] = []  # a namespace of modules: import them by name
