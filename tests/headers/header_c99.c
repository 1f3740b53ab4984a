/* Compiles xchan.h alone as strict C99 (-pedantic -Werror). */
#include "xchan/xchan.h"
int xchan_header_c99_check(void);
int xchan_header_c99_check(void) { return XCHAN_VERSION_NUMBER > 0 && XCHAN_OK == 0; }
