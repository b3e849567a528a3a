"""The pure domain core: plain data in, plain data out. No I/O, no Prefect, no database."""
