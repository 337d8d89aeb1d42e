/*
 * synth.c - the test image synthesiser; see synth.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "synth.h"

/* Addresses inside each chip's regions (esptool 5.3.1 targets/esp32*.py
 * MEMORY_MAP). On C6/H2/C5/C61/H21/H4/P4/E22/S31 DROM and IROM are the same
 * range, so `irom` is typed DROM too there. */
static const synth_chip chips[] = {
	{ "esp32", 0, 0x3F400020, 0x3FFB0000, 0x40080000, 0x400D0020 },
	{ "esp32s2", 2, 0x3F000020, 0x3FFB0000, 0x40022000, 0x40080020 },
	{ "esp32c3", 5, 0x3C000020, 0x3FC88000, 0x40380000, 0x42000020 },
	{ "esp32s3", 9, 0x3C000020, 0x3FC88000, 0x40374000, 0x42000020 },
	{ "esp32c2", 12, 0x3C000020, 0x3FCA0000, 0x40380000, 0x42000020 },
	{ "esp32c6", 13, 0x42800020, 0x40820000, 0x40800000, 0x42000020 },
	{ "esp32h2", 16, 0x42800020, 0x40820000, 0x40800000, 0x42000020 },
	{ "esp32p4", 18, 0x40000020, 0x4FF20000, 0x4FF00000, 0x40100020 },
	{ "esp32c61", 20, 0x42800020, 0x40820000, 0x40800000, 0x42000020 },
	{ "esp32c5", 23, 0x42800020, 0x40820000, 0x40800000, 0x42000020 },
	{ "esp32h21", 25, 0x42800020, 0x40820000, 0x40800000, 0x42000020 },
	{ "esp32h4", 28, 0x42800020, 0x40820000, 0x40810000, 0x42000020 },
	{ "esp32e22", 31, 0x3C000020, 0x31000000, 0x30FE0000, 0x3C800020 },
	{ "esp32s31", 32, 0x40000020, 0x2F020000, 0x2F000000, 0x40100020 },
};

size_t synth_chip_count(void)
{
	return sizeof(chips) / sizeof(chips[0]);
}

const synth_chip *synth_chip_at(size_t i)
{
	return i < synth_chip_count() ? &chips[i] : NULL;
}

/* Compares ignoring case, '-' and '_'. */
static int key_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '-' || *a == '_')
			a++;
		while (*b == '-' || *b == '_')
			b++;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		if (!*a)
			return 1;
		a++;
		b++;
	}
}

const synth_chip *synth_chip_by_key(const char *key)
{
	for (size_t i = 0; i < synth_chip_count(); i++)
		if (key_eq(chips[i].key, key))
			return &chips[i];
	return NULL;
}

const synth_chip *synth_chip_by_id(unsigned id)
{
	for (size_t i = 0; i < synth_chip_count(); i++)
		if (chips[i].id == id)
			return &chips[i];
	return NULL;
}

/* ------------------------------------------------------------ building */

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void synth_init(synth_image *s, uint16_t chip_id)
{
	const synth_chip *c = synth_chip_by_id(chip_id);

	memset(s, 0, sizeof(*s));
	s->magic = 0xE9;
	s->segment_count = -1;
	s->flash_mode = 2;
	s->flash_size_freq = 0x20;
	s->entry = c ? c->iram : 0x40080400;
	s->wp_pin = 0xEE;
	s->chip_id = chip_id;
	s->max_rev_full = 99;
	s->hash_appended = 1;
	s->append_digest = true;
}

void synth_free(synth_image *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nseg; i++)
		free(s->seg[i].data);
	free(s->seg);
	s->seg = NULL;
	s->nseg = s->cap = 0;
}

void synth_fill_bytes(uint8_t *p, size_t len, synth_fill fill, uint32_t seed)
{
	uint32_t x = seed ? seed : 0x9E3779B9u;

	switch (fill) {
	case SYNTH_FILL_ZERO:
		memset(p, 0, len);
		break;
	case SYNTH_FILL_FF:
		memset(p, 0xFF, len);
		break;
	case SYNTH_FILL_COUNT:
		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)(i + seed);
		break;
	case SYNTH_FILL_RANDOM:
		for (size_t i = 0; i < len; i++) {
			if ((i & 3) == 0) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
			}
			p[i] = (uint8_t)(x >> (8 * (i & 3)));
		}
		break;
	}
}

static synth_segment *new_segment(synth_image *s, uint32_t addr, size_t len)
{
	synth_segment *g;

	if (s->nseg == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		synth_segment *p = realloc(s->seg, cap * sizeof(*p));

		if (!p)
			return NULL;
		s->seg = p;
		s->cap = cap;
	}
	g = &s->seg[s->nseg];
	memset(g, 0, sizeof(*g));
	g->addr = addr;
	g->len = len;
	g->data = malloc(len ? len : 1);
	if (!g->data)
		return NULL;
	s->nseg++;
	return g;
}

int synth_add(synth_image *s, uint32_t addr, const void *data, size_t len)
{
	synth_segment *g = new_segment(s, addr, len);

	if (!g)
		return -1;
	if (data)
		memcpy(g->data, data, len);
	else
		memset(g->data, 0, len);
	return (int)(s->nseg - 1);
}

int synth_add_fill(synth_image *s, uint32_t addr, size_t len, synth_fill fill,
		   uint32_t seed)
{
	synth_segment *g = new_segment(s, addr, len);

	if (!g)
		return -1;
	synth_fill_bytes(g->data, len, fill, seed);
	return (int)(s->nseg - 1);
}

void synth_set_length_field(synth_image *s, size_t i, uint32_t length)
{
	if (i < s->nseg) {
		s->seg[i].length_override = true;
		s->seg[i].length_field = length;
	}
}

static int sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	return EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int synth_finish(synth_image *s, uint8_t **out, size_t *outlen)
{
	size_t size = 24, pos, i;
	bool digest;
	uint8_t *b, ck = 0xEF;

	*out = NULL;
	*outlen = 0;
	for (i = 0; i < s->nseg; i++)
		size += 8 + s->seg[i].len;
	/* The checksum ends a 16-byte block (esptool bin_image.py
	 * append_checksum: pad 15 - pos % 16). */
	s->checksum_offset = size + 15 - size % 16;
	size = s->checksum_offset + 1;
	digest = s->force_digest || (s->hash_appended == 1 && s->append_digest);
	s->digest_offset = digest ? size : 0;
	if (digest)
		size += 32;
	b = malloc(size);
	if (!b)
		return -1;

	b[0] = s->magic;
	b[1] = (uint8_t)(s->segment_count >= 0 ? s->segment_count : (int)s->nseg);
	b[2] = s->flash_mode;
	b[3] = s->flash_size_freq;
	put_le32(b + 4, s->entry);
	b[8] = s->wp_pin;
	memcpy(b + 9, s->drv, 3);
	put_le16(b + 12, s->chip_id);
	b[14] = s->min_rev;
	put_le16(b + 15, s->min_rev_full);
	put_le16(b + 17, s->max_rev_full);
	memcpy(b + 19, s->reserved, 4);
	b[23] = s->hash_appended;

	pos = 24;
	for (i = 0; i < s->nseg; i++) {
		synth_segment *g = &s->seg[i];

		g->header_offset = pos;
		put_le32(b + pos, g->addr);
		put_le32(b + pos + 4, g->length_override ? g->length_field
							 : (uint32_t)g->len);
		pos += 8;
		g->data_offset = pos;
		memcpy(b + pos, g->data, g->len);
		for (size_t k = 0; k < g->len; k++)
			ck ^= g->data[k];
		pos += g->len;
	}
	memset(b + pos, s->pad_byte, s->checksum_offset - pos);
	s->checksum = ck;
	b[s->checksum_offset] = s->bad_checksum ? (uint8_t)(ck ^ 0xFF) : ck;
	if (sha256(b, s->checksum_offset + 1, s->digest) < 0) {
		free(b);
		return -1;
	}
	if (digest) {
		memcpy(b + s->digest_offset, s->digest, 32);
		if (s->bad_digest)
			b[s->digest_offset + 31] ^= 0x01;
	}
	s->image_size = size;
	*out = b;
	*outlen = size;
	return 0;
}

/* ------------------------------------------------------------ descriptors */

void synth_set_text(uint8_t *field, size_t size, const char *text)
{
	size_t n = text ? strlen(text) : 0;

	if (n > size)
		n = size;
	memset(field, 0, size);
	if (n)
		memcpy(field, text, n);
}

void synth_app_desc_init(espimg_app_desc *d, const char *project,
			 const char *version)
{
	memset(d, 0, sizeof(*d));
	d->magic_word = ESPIMG_APP_DESC_MAGIC;
	synth_set_text(d->project_name, sizeof(d->project_name), project);
	synth_set_text(d->version, sizeof(d->version), version);
	synth_set_text(d->time, sizeof(d->time), "12:34:56");
	synth_set_text(d->date, sizeof(d->date), "Jan  1 2025");
	synth_set_text(d->idf_ver, sizeof(d->idf_ver), "v5.4.1");
	for (unsigned i = 0; i < 32; i++)
		d->app_elf_sha256[i] = (uint8_t)i;
	d->max_efuse_blk_rev_full = 99;
	d->mmu_page_size_log2 = 16;
}

/* esp_app_desc_t layout (ESP-IDF components/esp_app_format/include/
 * esp_app_desc.h). */
void synth_app_desc_bytes(const espimg_app_desc *d, uint8_t out[256])
{
	memset(out, 0, 256);
	put_le32(out + 0, d->magic_word);
	put_le32(out + 4, d->secure_version);
	memcpy(out + 16, d->version, 32);
	memcpy(out + 48, d->project_name, 32);
	memcpy(out + 80, d->time, 16);
	memcpy(out + 96, d->date, 16);
	memcpy(out + 112, d->idf_ver, 32);
	memcpy(out + 144, d->app_elf_sha256, 32);
	put_le16(out + 176, d->min_efuse_blk_rev_full);
	put_le16(out + 178, d->max_efuse_blk_rev_full);
	out[180] = d->mmu_page_size_log2;
	out[181] = d->spi_flash_mode;
}

void synth_boot_desc_init(espimg_boot_desc *d, uint32_t version)
{
	memset(d, 0, sizeof(*d));
	d->magic_byte = ESPIMG_BOOT_DESC_MAGIC;
	d->version = version;
	synth_set_text(d->idf_ver, sizeof(d->idf_ver), "v5.4.1");
	synth_set_text(d->date_time, sizeof(d->date_time),
		       "Jan  1 2025 12:34:56");
}

/* esp_bootloader_desc_t layout (ESP-IDF components/esp_bootloader_format/
 * include/esp_bootloader_desc.h). */
void synth_boot_desc_bytes(const espimg_boot_desc *d, uint8_t out[80])
{
	memset(out, 0, 80);
	out[0] = d->magic_byte;
	out[3] = d->secure_version;
	put_le32(out + 4, d->version);
	memcpy(out + 8, d->idf_ver, 32);
	memcpy(out + 40, d->date_time, 24);
}

/* ------------------------------------------------------------ signatures */

int synth_append(uint8_t **buf, size_t *len, uint8_t byte, size_t n)
{
	uint8_t *p = realloc(*buf, *len + n + 1);

	if (!p)
		return -1;
	memset(p + *len, byte, n);
	*buf = p;
	*len += n;
	return 0;
}

/* Block layout: ESP-IDF secure boot v2 signature block (ets_secure_boot_
 * sig_block_t / ECDSA variant); ../shared/docs/images.md §13. */
static void make_block(uint8_t blk[1216], const synth_sig *sg,
		       const uint8_t *digest, size_t dlen)
{
	memset(blk, 0, 1216);
	blk[0] = sg->magic ? sg->magic : 0xE7;
	blk[1] = sg->version;
	if (sg->version == 3) {
		uint8_t curve = sg->curve ? sg->curve : 2;
		size_t key = curve == 3 ? 96 : 64;
		size_t d = curve == 3 ? 48 : 32;

		blk[2] = curve == 3 ? 1 : 0;
		memcpy(blk + 4, digest, d < dlen ? d : dlen);
		blk[4 + d] = curve;
		synth_fill_bytes(blk + 5 + d, key * 2, SYNTH_FILL_RANDOM,
				 sg->seed + 1);
	} else {
		memcpy(blk + 4, digest, 32);
		synth_fill_bytes(blk + 36, 384, SYNTH_FILL_RANDOM, sg->seed + 1);
		put_le32(blk + 420, 65537);
		synth_fill_bytes(blk + 424, 388, SYNTH_FILL_RANDOM, sg->seed + 2);
		synth_fill_bytes(blk + 812, 384, SYNTH_FILL_RANDOM, sg->seed + 3);
	}
	{
		uint32_t crc = (uint32_t)crc32(0L, blk, 1196);

		put_le32(blk + 1196, sg->bad_crc ? crc ^ 0x5A5A5A5Au : crc);
	}
}

int synth_sign_v2(uint8_t **buf, size_t *len, const synth_sig *sigs, size_t n)
{
	uint8_t d256[32], d384[48];
	unsigned int dn = 0;
	uint8_t *sector;

	if (n > 3)
		return -1;
	if (*len % 4096 && synth_append(buf, len, 0xFF, 4096 - *len % 4096) < 0)
		return -1;
	if (EVP_Digest(*buf, *len, d256, &dn, EVP_sha256(), NULL) != 1 ||
	    EVP_Digest(*buf, *len, d384, &dn, EVP_sha384(), NULL) != 1)
		return -1;
	if (synth_append(buf, len, 0xFF, 4096) < 0)
		return -1;
	sector = *buf + *len - 4096;
	for (size_t i = 0; i < n; i++) {
		bool p384 = sigs[i].version == 3 && sigs[i].curve == 3;

		make_block(sector + 1216 * i, &sigs[i], p384 ? d384 : d256,
			   p384 ? 48 : 32);
	}
	return 0;
}

int synth_append_sig_v1(uint8_t **buf, size_t *len, uint32_t seed)
{
	if (synth_append(buf, len, 0, 68) < 0)
		return -1;
	synth_fill_bytes(*buf + *len - 64, 64, SYNTH_FILL_RANDOM, seed);
	return 0;
}
