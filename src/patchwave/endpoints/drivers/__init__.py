"""Package-manager drivers (apt, dnf, zypper, noop) shared by the SSH and local endpoints."""
