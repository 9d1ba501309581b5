"""Run plumbing: device and seeding, metrics, checkpoints, results tables, figures."""
