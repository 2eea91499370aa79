# Freeze smtpmtm into a Raspberry Pi Pico W firmware:
#   cd micropython/ports/rp2
#   make BOARD=RPI_PICO_W FROZEN_MANIFEST=/path/to/smtpmtm/boards/rp2_pico_w/manifest.py
include("$(PORT_DIR)/boards/RPI_PICO_W/manifest.py")  # port modules + the Wi-Fi/network bundle
include("../manifest_project.py")
