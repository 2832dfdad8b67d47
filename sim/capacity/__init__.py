"""The capacity model (issue #23): a calibrated SimPy model of the merchant's whole
order flow under two ways of working (parameter sets ``sets/old_flow.toml`` and
``sets/hub.toml``), its what-if sweeps and the report ``orderhub capacity`` writes.
docs/capacity.md describes the model, the calibration and where it disagrees with the
live rehearsal."""
