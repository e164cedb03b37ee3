// OpenBLAS's CBLAS interface and LAPACKE (Debian: libopenblas-dev, liblapacke-dev).
#ifndef MT_CBLAS_SHIM_H
#define MT_CBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
