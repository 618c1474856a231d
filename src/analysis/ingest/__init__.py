"""Retrieve and clean: the feed -> ``data/raw/`` (immutable snapshots + manifest) ->
``data/processed/`` (draws, pool, revisions, quality); README, "The analysis helpers", maps the
modules (retrieve, snapshots, feed, parse, fields, clean, quality, schemas, revisions, process,
views)."""
