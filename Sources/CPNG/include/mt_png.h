// PNG decoding and encoding through libpng. libpng reports errors by longjmp, which Swift cannot
// catch, so the setjmp frames live here and errors come back as a return code plus a message.
#ifndef MT_PNG_H
#define MT_PNG_H
#include <stddef.h>
#include <stdint.h>

/// Decodes the PNG at `path` to 8-bit pixels, row-major, interleaved channels.
/// Any bit depth, palette, gray, gray+alpha, RGB or RGBA input is normalised to 8 bits per channel:
/// palettes expand to RGB(A), 16-bit samples are reduced, sub-byte gray is scaled up.
/// On success returns 0 and sets *pixels (free with mt_png_free), *width, *height, *channels (1..4).
/// On failure returns non-zero and writes a message into `error` (at most error_size bytes).
int mt_png_read(const char *path, uint8_t **pixels, uint32_t *width, uint32_t *height,
                uint32_t *channels, char *error, size_t error_size);

/// Encodes 8-bit pixels (channels 1 = gray, 3 = RGB, 4 = RGBA) to a PNG file at `path`.
int mt_png_write(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                 uint32_t channels, char *error, size_t error_size);

void mt_png_free(uint8_t *pixels);
#endif
