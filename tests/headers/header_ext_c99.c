/* Compiles xchan_ext.h (the function table) alone as strict C99
 * (-pedantic -Werror). */
#include "xchan/xchan_ext.h"
int xchan_header_ext_c99_check(const xchan_api *api);
int xchan_header_ext_c99_check(const xchan_api *api)
{
	return XCHAN_API_HAS(api, to_chan) && api->version >= 200;
}
