"""What every layer leans on and no user calls directly.

JAX device and cache set-up (`jax_setup`), progress bars and Ctrl-C (`progress`), atomic
files and output-path checks (`outputs`), lazy package attributes (`lazy`), warnings said at
the user's line (`caller`).
"""
