// What the qemu_m0 board adds to MicroPython's ports/qemu (no MicroPython file is changed):
// - a wall clock, as a board whose RTC was set: the host's time (semihosting SYS_TIME)
//   read once, then counted on by ticks_ms; board_seconds() for time.time()/gmtime()
//   (board_time.c) and mp_hal_time_ns(), which littlefs2 uses for file times;
// - the `ramdisk` module: a block device over the SRAM above the stack (linker symbols
//   _sdisk/_disk_size), outside the MicroPython heap as flash is on a real board.
//   Example: import ramdisk, vfs; vfs.VfsLfs2.mkfs(ramdisk.RAMDisk()); vfs.mount(...).
#include <stdbool.h>
#include <string.h>

#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/runtime.h"

#define RAMDISK_BLOCK_SIZE (4096)

extern uint8_t _sdisk[];
extern uint8_t _disk_size[];  // an absolute symbol: its address is the size

#define SEMIHOSTING_SYS_TIME (0x11)  // host seconds since 1970-01-01 in r0
#define EPOCH_2000_IN_UNIX (946684800u)  // the port keeps MicroPython's default 2000 epoch

static uint32_t rtc_base_s;   // seconds since 2000 at ticks rtc_base_ms
static uint32_t rtc_base_ms;
static bool rtc_read;

static uint32_t host_unix_time(void) {
    register uint32_t r0 __asm__ ("r0") = SEMIHOSTING_SYS_TIME;
    register uint32_t r1 __asm__ ("r1") = 0;
    __asm__ __volatile__ ("bkpt 0xAB" : "+r" (r0) : "r" (r1) : "memory");
    return r0;
}

// milliseconds since 2000-01-01 (64-bit: a Unix time in ms does not fit 32 bits)
static uint64_t board_ms(void) {
    uint32_t now = mp_hal_ticks_ms();
    if (!rtc_read) {
        rtc_base_s = host_unix_time() - EPOCH_2000_IN_UNIX;
        rtc_base_ms = now;
        rtc_read = true;
    }
    return (uint64_t)rtc_base_s * 1000u + (uint32_t)(now - rtc_base_ms);
}

uint32_t board_seconds(void) {
    return board_ms() / 1000u;
}

uint64_t mp_hal_time_ns(void) {
    return board_ms() * 1000000ULL;
}

typedef struct _ramdisk_obj_t {
    mp_obj_base_t base;
} ramdisk_obj_t;

static size_t ramdisk_size(void) {
    return (size_t)_disk_size;
}

// the disk range for block n at offset off, length len; raises OSError(EIO) when outside
static uint8_t *ramdisk_addr(mp_obj_t block_in, mp_obj_t off_in, size_t len) {
    size_t addr = (size_t)mp_obj_get_int(block_in) * RAMDISK_BLOCK_SIZE + (size_t)mp_obj_get_int(off_in);
    if (addr + len > ramdisk_size() || addr + len < addr) {
        mp_raise_OSError(MP_EIO);
    }
    return _sdisk + addr;
}

static mp_obj_t ramdisk_readblocks(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(args[2], &buf, MP_BUFFER_WRITE);
    memcpy(buf.buf, ramdisk_addr(args[1], n_args > 3 ? args[3] : MP_OBJ_NEW_SMALL_INT(0), buf.len), buf.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ramdisk_readblocks_obj, 3, 4, ramdisk_readblocks);

static mp_obj_t ramdisk_writeblocks(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(args[2], &buf, MP_BUFFER_READ);
    memcpy(ramdisk_addr(args[1], n_args > 3 ? args[3] : MP_OBJ_NEW_SMALL_INT(0), buf.len), buf.buf, buf.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ramdisk_writeblocks_obj, 3, 4, ramdisk_writeblocks);

static mp_obj_t ramdisk_ioctl(mp_obj_t self_in, mp_obj_t op_in, mp_obj_t arg_in) {
    switch (mp_obj_get_int(op_in)) {
        case 4: // MP_BLOCKDEV_IOCTL_BLOCK_COUNT
            return MP_OBJ_NEW_SMALL_INT(ramdisk_size() / RAMDISK_BLOCK_SIZE);
        case 5: // MP_BLOCKDEV_IOCTL_BLOCK_SIZE
            return MP_OBJ_NEW_SMALL_INT(RAMDISK_BLOCK_SIZE);
        default: // init, deinit, sync, erase: nothing to do in RAM
            return MP_OBJ_NEW_SMALL_INT(0);
    }
}
static MP_DEFINE_CONST_FUN_OBJ_3(ramdisk_ioctl_obj, ramdisk_ioctl);

static const mp_rom_map_elem_t ramdisk_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_readblocks), MP_ROM_PTR(&ramdisk_readblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_writeblocks), MP_ROM_PTR(&ramdisk_writeblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_ioctl), MP_ROM_PTR(&ramdisk_ioctl_obj) },
};
static MP_DEFINE_CONST_DICT(ramdisk_locals_dict, ramdisk_locals_dict_table);

static mp_obj_t ramdisk_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args);

MP_DEFINE_CONST_OBJ_TYPE(
    ramdisk_type,
    MP_QSTR_RAMDisk,
    MP_TYPE_FLAG_NONE,
    make_new, ramdisk_make_new,
    locals_dict, &ramdisk_locals_dict
    );

// one disk: RAMDisk() returns the same constant object each time (no heap)
static const ramdisk_obj_t ramdisk_obj = {{&ramdisk_type}};

static mp_obj_t ramdisk_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 0, false);
    return MP_OBJ_FROM_PTR(&ramdisk_obj);
}

static const mp_rom_map_elem_t ramdisk_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_ramdisk) },
    { MP_ROM_QSTR(MP_QSTR_RAMDisk), MP_ROM_PTR(&ramdisk_type) },
};
static MP_DEFINE_CONST_DICT(ramdisk_module_globals, ramdisk_module_globals_table);

const mp_obj_module_t ramdisk_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&ramdisk_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_ramdisk, ramdisk_module);
