// time.time() and time.gmtime()/localtime() for the qemu_m0 board, included by
// MicroPython's extmod/modtime.c (MICROPY_PY_TIME_INCLUDEFILE). The emulated board has
// no RTC: like a real board after a cold boot, its clock starts at the epoch
// (2000-01-01) and counts the uptime; device/clock.py keeps an offset once it is set.
#include "py/mphal.h"
#include "shared/timeutils/timeutils.h"

static mp_obj_t mp_time_time_get(void) {
    return mp_obj_new_int_from_uint(mp_hal_ticks_ms() / 1000);
}

static void mp_time_localtime_get(timeutils_struct_time_t *tm) {
    timeutils_seconds_since_epoch_to_struct_time(mp_hal_ticks_ms() / 1000, tm);
}
