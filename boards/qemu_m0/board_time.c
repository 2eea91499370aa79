// time.time() and time.gmtime()/localtime() for the qemu_m0 board, included by
// MicroPython's extmod/modtime.c (MICROPY_PY_TIME_INCLUDEFILE): seconds since 2000-01-01
// from the board's wall clock (board.c: the host's time read once, as an RTC set at boot).
#include "py/mphal.h"
#include "shared/timeutils/timeutils.h"

uint32_t board_seconds(void);

static mp_obj_t mp_time_time_get(void) {
    return mp_obj_new_int_from_uint(board_seconds());
}

static void mp_time_localtime_get(timeutils_struct_time_t *tm) {
    timeutils_seconds_since_epoch_to_struct_time(board_seconds(), tm);
}
