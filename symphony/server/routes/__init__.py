"""One router per resource: ``meta`` (health, styles), ``pieces`` (create, upload, read, list,
delete, export), ``versions`` (edits, manual note changes, the version list, restore)."""
