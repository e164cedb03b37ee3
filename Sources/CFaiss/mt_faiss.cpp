#include "mt_faiss.h"

#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/index_factory.h>

#include <cstdio>
#include <exception>
#include <memory>

// libgomp's (faiss is built with GCC's OpenMP; clang has no omp.h of its own here).
extern "C" void omp_set_num_threads(int);

struct mt_faiss_index {
    std::unique_ptr<faiss::Index> index;
};

namespace {
// faiss reports every failure by exception; C and Swift callers get the message instead.
template <typename Body>
int guarded(char *error, size_t error_size, Body body) {
    try {
        body();
        return 0;
    } catch (const std::exception &e) {
        if (error && error_size) std::snprintf(error, error_size, "%s", e.what());
    } catch (...) {
        if (error && error_size) std::snprintf(error, error_size, "unknown faiss error");
    }
    return -1;
}
}  // namespace

extern "C" {

int mt_faiss_create(const char *factory, int dimension, mt_faiss_index **index, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        auto made = std::make_unique<mt_faiss_index>();
        made->index.reset(faiss::index_factory(dimension, factory, faiss::METRIC_INNER_PRODUCT));
        *index = made.release();
    });
}

void mt_faiss_free(mt_faiss_index *index) { delete index; }

int mt_faiss_is_trained(const mt_faiss_index *index) { return index->index->is_trained ? 1 : 0; }

int mt_faiss_train(mt_faiss_index *index, int64_t count, const float *rows, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        if (!index->index->is_trained) index->index->train(count, rows);
    });
}

int mt_faiss_add(mt_faiss_index *index, int64_t count, const float *rows, char *error, size_t error_size) {
    return guarded(error, error_size, [&] { index->index->add(count, rows); });
}

int64_t mt_faiss_size(const mt_faiss_index *index) { return index->index->ntotal; }

int mt_faiss_set_parameter(mt_faiss_index *index, const char *name, double value, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        faiss::ParameterSpace space;
        space.set_index_parameter(index->index.get(), name, value);
    });
}

int mt_faiss_search(const mt_faiss_index *index, int64_t count, const float *queries, int64_t k,
                    float *similarities, int64_t *rows, char *error, size_t error_size) {
    return guarded(error, error_size, [&] { index->index->search(count, queries, k, similarities, rows); });
}

void mt_faiss_set_threads(int threads) { omp_set_num_threads(threads); }

}  // extern "C"
