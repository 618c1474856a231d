"""The orchestrator: which step needs running (fingerprints), running notebooks with papermill,
building months in parallel and publishing them atomically; ``ee`` calls it.
"""
