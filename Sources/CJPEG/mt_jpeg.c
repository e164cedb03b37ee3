#include "mt_jpeg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static void set_error(char *error, size_t error_size, const char *message) {
    if (error_size == 0) return;
    snprintf(error, error_size, "%s", message);
}

static void set_tj_error(char *error, size_t error_size, tjhandle handle) {
    set_error(error, error_size, tjGetErrorStr2(handle));
}

int mt_jpeg_read(const uint8_t *data, size_t size, uint8_t **pixels, uint32_t *width, uint32_t *height,
                 uint32_t *channels, char *error, size_t error_size) {
    *pixels = NULL;
    tjhandle handle = tjInitDecompress();
    if (!handle) {
        set_error(error, error_size, "cannot start the JPEG decoder");
        return -1;
    }
    int w = 0, h = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(handle, data, (unsigned long)size, &w, &h, &subsampling, &colorspace) != 0) {
        set_tj_error(error, error_size, handle);
        tjDestroy(handle);
        return -1;
    }
    if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
        set_error(error, error_size, "CMYK JPEG is not supported: convert it to RGB first");
        tjDestroy(handle);
        return -1;
    }
    if (w <= 0 || h <= 0 || (size_t)w * (size_t)h > ((size_t)1 << 31)) {
        set_error(error, error_size, "JPEG dimensions out of range");
        tjDestroy(handle);
        return -1;
    }
    const int gray = colorspace == TJCS_GRAY;
    const int pixel_size = gray ? 1 : 3;
    uint8_t *buffer = malloc((size_t)w * (size_t)h * (size_t)pixel_size);
    if (!buffer) {
        set_error(error, error_size, "out of memory decoding JPEG");
        tjDestroy(handle);
        return -1;
    }
    // TJFLAG_STOPONWARNING: a truncated file stops with an error instead of returning gray filler rows.
    const int flags = TJFLAG_STOPONWARNING;
    if (tjDecompress2(handle, data, (unsigned long)size, buffer, w, 0, h, gray ? TJPF_GRAY : TJPF_RGB, flags) != 0) {
        set_tj_error(error, error_size, handle);
        free(buffer);
        tjDestroy(handle);
        return -1;
    }
    tjDestroy(handle);
    *pixels = buffer;
    *width = (uint32_t)w;
    *height = (uint32_t)h;
    *channels = (uint32_t)pixel_size;
    return 0;
}

int mt_jpeg_write(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                  int quality, char *error, size_t error_size) {
    int format, subsampling;
    switch (channels) {
    case 1: format = TJPF_GRAY; subsampling = TJSAMP_GRAY; break;
    case 3: format = TJPF_RGB; subsampling = quality >= 100 ? TJSAMP_444 : TJSAMP_420; break;
    case 4: format = TJPF_CMYK; subsampling = TJSAMP_444; break;
    default: set_error(error, error_size, "JPEG: channels must be 1, 3 or 4"); return -1;
    }
    tjhandle handle = tjInitCompress();
    if (!handle) {
        set_error(error, error_size, "cannot start the JPEG encoder");
        return -1;
    }
    unsigned char *jpeg = NULL;
    unsigned long jpeg_size = 0;
    if (tjCompress2(handle, pixels, (int)width, 0, (int)height, format, &jpeg, &jpeg_size, subsampling, quality, 0) != 0) {
        set_tj_error(error, error_size, handle);
        tjDestroy(handle);
        return -1;
    }
    tjDestroy(handle);
    FILE *file = fopen(path, "wb");
    int status = 0;
    if (!file || fwrite(jpeg, 1, jpeg_size, file) != jpeg_size) {
        set_error(error, error_size, "cannot write file");
        status = -1;
    }
    if (file && fclose(file) != 0 && status == 0) {
        set_error(error, error_size, "cannot write file");
        status = -1;
    }
    tjFree(jpeg);
    return status;
}

void mt_jpeg_free(uint8_t *pixels) { free(pixels); }
