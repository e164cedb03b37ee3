// A small C interface to faiss (Debian's libfaiss-dev ships the C++ library only; its c_api headers have no
// implementation there). Every function returns 0 on success, or -1 with a one-line reason in `error`.
#ifndef MT_FAISS_H
#define MT_FAISS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mt_faiss_index mt_faiss_index;

/// An index made by faiss::index_factory over `dimension`-wide rows, by inner product.
int mt_faiss_create(const char *factory, int dimension, mt_faiss_index **index, char *error, size_t error_size);
void mt_faiss_free(mt_faiss_index *index);
int mt_faiss_is_trained(const mt_faiss_index *index);
/// Trains (IVF centroids, PQ codebooks) on `count` rows; a no-op for indexes that need no training.
int mt_faiss_train(mt_faiss_index *index, int64_t count, const float *rows, char *error, size_t error_size);
/// Adds `count` rows, numbered from the index's current size on.
int mt_faiss_add(mt_faiss_index *index, int64_t count, const float *rows, char *error, size_t error_size);
int64_t mt_faiss_size(const mt_faiss_index *index);
/// Sets a search parameter by faiss's ParameterSpace name ("nprobe", "efSearch", ...).
int mt_faiss_set_parameter(mt_faiss_index *index, const char *name, double value, char *error, size_t error_size);
/// The k best rows for each of `count` queries: similarities and row numbers ([count, k] each; -1 where
/// fewer than k rows were found).
int mt_faiss_search(const mt_faiss_index *index, int64_t count, const float *queries, int64_t k,
                    float *similarities, int64_t *rows, char *error, size_t error_size);
/// OpenMP threads faiss uses from now on.
void mt_faiss_set_threads(int threads);

#ifdef __cplusplus
}
#endif

#endif
