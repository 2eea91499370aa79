# Freeze smtpmtm into an ESP32-S3 (octal PSRAM) firmware:
#   cd micropython/ports/esp32
#   make BOARD=ESP32_GENERIC_S3 BOARD_VARIANT=SPIRAM_OCT \
#        FROZEN_MANIFEST=/path/to/smtpmtm/boards/esp32s3/manifest.py
include("$(PORT_DIR)/boards/manifest.py")
include("../manifest_project.py")
