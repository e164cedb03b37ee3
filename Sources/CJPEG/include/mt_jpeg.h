// JPEG decoding and encoding through libjpeg-turbo's TurboJPEG API. Errors come back as a return code
// plus a message, as in mt_png.h.
#ifndef MT_JPEG_H
#define MT_JPEG_H
#include <stddef.h>
#include <stdint.h>

/// Decodes the JPEG in `data` (`size` bytes) to 8-bit pixels, row-major, interleaved channels: 1 for a
/// grayscale JPEG, 3 (RGB) for a colour one. CMYK and YCCK JPEGs are refused (their inversion convention
/// varies by writer). A truncated or corrupt stream is an error, not a partly gray image: libjpeg's
/// warnings ("premature end of data") count as failures.
/// On success returns 0 and sets *pixels (free with mt_jpeg_free), *width, *height, *channels.
int mt_jpeg_read(const uint8_t *data, size_t size, uint8_t **pixels, uint32_t *width, uint32_t *height,
                 uint32_t *channels, char *error, size_t error_size);

/// Encodes 8-bit pixels to a baseline JPEG file at `path`: channels 1 (gray), 3 (RGB, 4:2:0 subsampling
/// unless quality is 100, then 4:4:4) or 4 (CMYK, for tests of the refusal). `quality` is 1-100.
int mt_jpeg_write(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t channels,
                  int quality, char *error, size_t error_size);

void mt_jpeg_free(uint8_t *pixels);
#endif
