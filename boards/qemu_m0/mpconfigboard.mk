# Out-of-tree board for MicroPython v1.28.0 ports/qemu (make BOARD_DIR=<this folder>):
# a Cortex-M0 (armv6m, as the RP2040) on QEMU's `microbit` machine, single-precision
# floats, the project frozen, and a littlefs2 RAM disk in SRAM outside the heap.
# Everything the stock port lacks is added here; MicroPython's source is untouched.
QEMU_ARCH = arm
QEMU_MACHINE = microbit
# SRAM: 512 KiB for data, bss (the heap) and stack (qemu_m0.ld), then QEMU_DISK_KB for the disk.
QEMU_DISK_KB ?= 4096
QEMU_ARGS += -global nrf51-soc.flash-size=2097152
QEMU_ARGS += -global nrf51-soc.sram-size=$(shell echo $$((524288 + $(QEMU_DISK_KB) * 1024)))

CFLAGS += -mthumb -mcpu=cortex-m0 -mfloat-abi=soft
CFLAGS += -DQEMU_SOC_NRF51
CFLAGS += -DMICROPY_HW_MCU_NAME='"nRF51"'

# the stock nrf51.ld plus the .ARM.exidx section (libgcc's 64-bit division needs it)
# and the disk region
LDSCRIPT = $(BOARD_DIR)/qemu_m0.ld
LDFLAGS += -Wl,--defsym=_disk_size=$(shell echo $$(($(QEMU_DISK_KB) * 1024)))

SRC_BOARD_O = shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb1.o
MPY_CROSS_FLAGS += -march=armv6m

# littlefs2 (as the ESP32 and RP2040 ports use), time.time/gmtime/mktime, the RAM disk
MICROPY_VFS_LFS2 = 1
CFLAGS += -DMICROPY_PY_TIME_GMTIME_LOCALTIME_MKTIME=1 -DMICROPY_PY_TIME_TIME_TIME_NS=1
CFLAGS += -DMICROPY_PY_TIME_INCLUDEFILE='"$(BOARD_DIR)/board_time.c"'
SRC_C += $(BOARD_DIR)/board.c shared/timeutils/timeutils.c

# the manifest step checks for micropython-lib's README.md; nothing is required from it
MPY_LIB_DIR = $(BOARD_DIR)/mpylib
FROZEN_MANIFEST = $(BOARD_DIR)/manifest.py
