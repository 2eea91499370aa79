# Freeze smtpmtm into a Raspberry Pi Pico (RP2040 + UART modem) firmware:
#   cd micropython/ports/rp2
#   make BOARD=RPI_PICO FROZEN_MANIFEST=/path/to/smtpmtm/boards/rp2_pico_modem/manifest.py
# The modem hook hands the line to network.PPP: build a firmware that has it
# (MICROPY_PY_NETWORK_PPP_LWIP; see the rp2 port's board configs).
include("$(PORT_DIR)/boards/manifest.py")
include("../manifest_project.py")
