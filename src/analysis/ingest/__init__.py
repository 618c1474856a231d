"""Retrieve and clean: the feed -> ``data/raw/`` (immutable snapshots + manifest) ->
``data/processed/`` (draws, pool, revisions, quality).

- :mod:`~analysis.ingest.retrieve`: retrieving the feed and storing snapshots
- :mod:`~analysis.ingest.feed`: the feed's shape (required fields, size cap)
- :mod:`~analysis.ingest.parse`: numbers, dates and times as IRCC writes them
- :mod:`~analysis.ingest.clean`: one raw round -> one tidy row (pure)
- :mod:`~analysis.ingest.quality`: the data-quality log
- :mod:`~analysis.ingest.schemas`: pandera schemas of the processed tables
- :mod:`~analysis.ingest.revisions`: what changed between two snapshots
- :mod:`~analysis.ingest.process`: the cleaning step (newest snapshot -> processed tables)
- :mod:`~analysis.ingest.views`: the small tables the ingestion notebooks show
"""
