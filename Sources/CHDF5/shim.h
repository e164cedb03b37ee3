// HDF5's type, access-flag and property-class identifiers are macros (often expanding to a global
// read after H5open) that Swift cannot import; these inline functions expose them as values.
#ifndef MT_CHDF5_SHIM_H
#define MT_CHDF5_SHIM_H
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

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

/// Turns off HDF5's automatic error-stack printing (mt reports its own one-line errors) and, when called
/// before the library starts, its exit handler: libhdf5 1.10 crashes at exit closing a file whose
/// H5Fclose failed (a full disk), and every file mt writes is closed or discarded before it exits.
static inline void mt_h5_silence_errors(void) {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static inline herr_t mt_h5_errno_visit(unsigned depth, const H5E_error2_t *error, void *found) {
    (void)depth;
    const char *text = error->desc ? strstr(error->desc, "errno = ") : NULL;
    if (text && *(int *)found == 0) *(int *)found = atoi(text + 8);
    return 0;
}

/// The errno that HDF5's file driver recorded on the error stack for the failing call (0 if none); read
/// it before the next HDF5 call clears the stack.
static inline int mt_h5_failed_errno(void) {
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, mt_h5_errno_visit, &found);
    return found;
}

#endif
