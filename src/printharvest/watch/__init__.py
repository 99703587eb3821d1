"""The watched inbox: a service that turns dropped jobs into cases and never loses one.

Modules: :mod:`.scan` (looking at inbox entries), :mod:`.worker` (harvest in worker
processes with a time limit), :mod:`.jobs` (one job from settled files to filed originals),
:mod:`.mover` (atomic moves into archive and quarantine), :mod:`.display` (terminal and log
file) and :mod:`.service` (the loop). The journal itself is SQL, in
:mod:`printharvest.store.journal`.

The package itself imports nothing, so that a worker process
(``python -m printharvest.watch.worker``) loads only what it needs; import the service from
:mod:`printharvest.watch.service`.
"""
