"""One router per resource: ``meta`` (health, styles), ``auth`` (sign up, in, out, me),
``pieces`` (create, upload, read, list, delete, export), ``versions`` (edits, manual note
changes, the version list, restore), ``shares`` (who a piece is shared with). The piece routers
run ``access.check`` on every request."""
