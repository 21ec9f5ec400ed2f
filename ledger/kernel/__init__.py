"""The kernel: domain values, error codes, the observer port; what every concept builds on."""
