#ifndef MT_CZLIB_SHIM_H
#define MT_CZLIB_SHIM_H
#include <zlib.h>
#endif
