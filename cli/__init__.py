"""The ``waferlab`` command line (installed as :mod:`waferlab.cli`)."""
