"""The marker that says an HTML output was made by :mod:`analysis.publish.display` (every value
escaped).

:mod:`analysis.publish.render` accepts HTML outputs only when their display metadata carry it, so
HTML from the feed can never reach a published page unescaped. Kept in its own tiny module so that
the publisher does not import matplotlib to know it.
"""

#: Display-metadata key that marks an output made by :mod:`analysis.publish.display`.
TRUSTED_OUTPUT = "analysis.publish.display"
