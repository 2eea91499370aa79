# Freeze smtpmtm into an ESP32_GENERIC firmware:
#   cd micropython/ports/esp32
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/smtpmtm/boards/esp32_generic/manifest.py
include("$(PORT_DIR)/boards/manifest.py")  # the port's own frozen modules (asyncio, ...)
include("../manifest_project.py")
