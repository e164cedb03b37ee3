// HDF5's type, access-flag and property-class identifiers are macros (often expanding to a global
// read after H5open) that Swift cannot import; these inline functions expose them as values.
#ifndef MT_CHDF5_SHIM_H
#define MT_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t mt_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t mt_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t mt_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t mt_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t mt_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t mt_h5t_c_s1(void) { return H5T_C_S1; }

static inline unsigned mt_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned mt_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned mt_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }

static inline hid_t mt_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t mt_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t mt_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hsize_t mt_h5s_unlimited(void) { return H5S_UNLIMITED; }
static inline size_t mt_h5t_variable(void) { return H5T_VARIABLE; }

/// Turns off HDF5's automatic error-stack printing; mt reports its own one-line errors.
static inline void mt_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

#endif
