// Compiles xchan.h alone as C++ (-pedantic -Werror).
#include "xchan/xchan.h"
int xchan_header_cxx_check();
int xchan_header_cxx_check() { return XCHAN_VERSION_NUMBER > 0 && XCHAN_OK == 0; }
