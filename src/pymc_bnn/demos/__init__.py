"""The analyses `pymc-bnn demo` runs.

`seed` (the seed's two-moons analysis), `methods` (engines side by side), `hierarchical`
(pooling across groups), `active` (active learning); `support` holds what they share (timers,
versions).
"""
