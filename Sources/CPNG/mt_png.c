#include "mt_png.h"
#include <png.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jmp_buf jump;
    char *error;
    size_t error_size;
} mt_png_context;

static void on_error(png_structp png, png_const_charp message) {
    mt_png_context *ctx = (mt_png_context *)png_get_error_ptr(png);
    snprintf(ctx->error, ctx->error_size, "%s", message);
    longjmp(ctx->jump, 1);
}

static void on_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

int mt_png_read(const char *path, uint8_t **pixels, uint32_t *width, uint32_t *height,
                uint32_t *channels, char *error, size_t error_size) {
    *pixels = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) { snprintf(error, error_size, "cannot open file"); return 1; }
    unsigned char signature[8];
    if (fread(signature, 1, 8, fp) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        fclose(fp);
        snprintf(error, error_size, "not a PNG file (bad signature)");
        return 1;
    }
    mt_png_context ctx = {.error = error, .error_size = error_size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(fp);
        snprintf(error, error_size, "out of memory");
        return 1;
    }
    uint8_t *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(ctx.jump)) {
        free(buffer);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(fp);
        return 1;
    }
    png_init_io(png, fp);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_byte color = png_get_color_type(png, info);
    png_byte depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_strip_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    uint32_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    uint32_t c = png_get_channels(png, info);
    size_t stride = png_get_rowbytes(png, info);
    if (stride != (size_t)w * c) { snprintf(error, error_size, "unsupported pixel layout"); longjmp(ctx.jump, 1); }
    buffer = malloc(stride * h);
    rows = malloc(sizeof(png_bytep) * h);
    if (!buffer || !rows) { snprintf(error, error_size, "out of memory"); longjmp(ctx.jump, 1); }
    for (uint32_t y = 0; y < h; y++) rows[y] = buffer + y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    *pixels = buffer;
    *width = w;
    *height = h;
    *channels = c;
    return 0;
}

int mt_png_write(const char *path, const uint8_t *pixels, uint32_t width, uint32_t height,
                 uint32_t channels, char *error, size_t error_size) {
    int color;
    switch (channels) {
    case 1: color = PNG_COLOR_TYPE_GRAY; break;
    case 2: color = PNG_COLOR_TYPE_GRAY_ALPHA; break;
    case 3: color = PNG_COLOR_TYPE_RGB; break;
    case 4: color = PNG_COLOR_TYPE_RGB_ALPHA; break;
    default: snprintf(error, error_size, "unsupported channel count %u", channels); return 1;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) { snprintf(error, error_size, "cannot create file"); return 1; }
    mt_png_context ctx = {.error = error, .error_size = error_size};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        snprintf(error, error_size, "out of memory");
        return 1;
    }
    if (setjmp(ctx.jump)) {
        // libpng's own message ("Write Error") does not say why; a failed fwrite left errno.
        if (ferror(fp)) snprintf(error, error_size, "%s", strerror(errno));
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        return 1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, width, height, 8, color, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(fp) != 0) { snprintf(error, error_size, "%s", strerror(errno)); return 1; }
    return 0;
}

void mt_png_free(uint8_t *pixels) { free(pixels); }
