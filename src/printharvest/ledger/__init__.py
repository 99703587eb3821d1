"""The lab's own ledger: cost per print and per case, billing units, print history, lots.

Nothing here is sent to the registry: these are the lab's numbers, for its own reports.
"""
