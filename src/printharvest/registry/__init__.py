"""The registry's files: upload column layout, NRDR JSON mapping, case sheet, exports.

Everything registry-specific is data under ``rules/registry/`` (dictionary, upload layout,
NRDR mapping); this package reads those files and turns cases into what leaves the lab.
Every byte written or sent passes :func:`printharvest.privacy.egress.release` first.
"""
