/*
 * flash_int.h - what flash_explain.c shares with flash_svg.c; not
 * installed.
 */
#ifndef ESPIMG_FLASH_INT_H
#define ESPIMG_FLASH_INT_H

#include <stdint.h>

#include "espimg/flash.h"

/* The flash a map of x shows: the bootloader header's flash size, or
 * more when the file or the table reaches further (then the next power of
 * two, at least 1 MiB). */
uint64_t espimg_explain_map_size(const espimg_flash_explain *x);

/* Why x does not boot, in words ("" when it boots). */
const char *espimg_explain_no_boot(const espimg_flash_explain *x);

/* A size for people: "16 MiB", "1.2 MiB", "20 KiB", "100 bytes". */
void espimg_size_words(char out[32], uint64_t n);

/* The name of a partition type / subtype, or its value as "0x%02x" in
 * buf. */
const char *espimg_explain_type(const espimg_partition *p, char buf[8]);
const char *espimg_explain_subtype(const espimg_partition *p, char buf[8]);

#endif
