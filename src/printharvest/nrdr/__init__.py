"""The NRDR web API: ACR Connect sign-in, the transaction client, the outbox, an emulator.

Every URL, scope and client id is configuration (``nrdr:`` in printharvest.yaml), since the
registry issues them per partner; test and production are separate environment entries.
"""
