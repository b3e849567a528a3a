"""``patchwave windows show``: placeholder until the windows module lands."""
