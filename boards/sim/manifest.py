# The virtual board has no firmware to build: the MicroPython unix port from
# pip is its firmware. `python -m host sim --frozen` does what this manifest
# would: the project compiled to .mpy on the read-only /.rom mount, ahead of /lib.
include("../manifest_project.py")
