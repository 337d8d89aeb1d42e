/*
 * release.c - a release manifest (manifest.h) turned into the parts of one
 * flash image, every refusal pointing at the manifest entry at fault.
 *
 * Placement facts: the bootloader offset per chip from the chip table
 * (esptool targets/<chip>.py BOOTLOADER_FLASH_OFFSET); the table at
 * CONFIG_PARTITION_TABLE_OFFSET in one 4 KiB sector (ESP-IDF
 * components/partition_table/Kconfig.projbuild, esp_flash_partitions.h);
 * app partitions on 64 KiB boundaries because the MMU maps flash in
 * 64 KiB pages (gen_esp32part.py: APP partitions aligned to 0x10000);
 * otadata written as esp_ota_set_boot_partition() writes it (otadata.h).
 * The bootloader's flash parameters are patched here, before the part's
 * SHA-256 is taken, so the part holds exactly the bytes written.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "espimg/image.h"
#include "espimg/otadata.h"
#include "espimg/release.h"
#include "internal.h"

/* App images are mapped in 64 KiB MMU pages (gen_esp32part.py). */
#define APP_ALIGN 0x10000u
/* The unit flash is erased in (esptool ESPLoader.FLASH_SECTOR_SIZE,
 * ESP-IDF SPI_FLASH_SEC_SIZE). */
#define FLASH_SECTOR 0x1000u

struct plan {
	const espimg_manifest *m;
	const char *mfile;
	espimg_load_fn load;
	void *ctx;
	espimg_diag_list *diags;
	espimg_diag_list *tmp;   /* diagnostics of the modules we call */
	espimg_release *r;
	char *table_file;        /* the table's path for its own diagnostics */
	const espimg_manifest_image **src; /* per part: its manifest entry */
	unsigned errors;
};

/* ------------------------------------------------------------ helpers */

/* Text from the manifest or a table, made safe to quote in a message. */
static void quote(char *out, size_t size, const char *s)
{
	espimg_buf b = { 0 };
	char *t;

	espimg_buf_escaped(&b, s ? s : "", s ? strlen(s) : 0);
	t = espimg_buf_finish(&b, NULL);
	espimg_copy_cut(out, size, t ? t : "?");
	free(t);
}

static void vdiag(struct plan *p, espimg_severity sev, const char *code,
		  espimg_mpos pos, const char *fmt, va_list ap)
	ESPIMG_PRINTF(5, 0);

static void vdiag(struct plan *p, espimg_severity sev, const char *code,
		  espimg_mpos pos, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	espimg_diag_add(p->diags, sev, code, p->mfile, pos.line, pos.col, -1,
			"%s", msg);
	if (sev == ESPIMG_SEV_ERROR)
		p->errors++;
}

/* A refusal at the manifest position pos. */
static void perr(struct plan *p, const char *code, espimg_mpos pos,
		 const char *fmt, ...) ESPIMG_PRINTF(4, 5);

static void perr(struct plan *p, const char *code, espimg_mpos pos,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(p, ESPIMG_SEV_ERROR, code, pos, fmt, ap);
	va_end(ap);
}

static void pwarn(struct plan *p, const char *code, espimg_mpos pos,
		  const char *fmt, ...) ESPIMG_PRINTF(4, 5);

static void pwarn(struct plan *p, const char *code, espimg_mpos pos,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(p, ESPIMG_SEV_WARNING, code, pos, fmt, ap);
	va_end(ap);
}

/* Moves what a module reported into the caller's list, with `file` and
 * the position given when the module had none. */
static void move_tmp(struct plan *p, const char *file, espimg_mpos pos)
{
	size_t n = espimg_diag_count(p->tmp);

	for (size_t i = 0; i < n; i++) {
		const espimg_diag *d = espimg_diag_get(p->tmp, i);

		if (d->severity == ESPIMG_SEV_ERROR)
			p->errors++;
		if (d->file || d->line)
			espimg_diag_add(p->diags, d->severity, d->code, d->file,
					d->line, d->column, d->offset, "%s",
					d->message);
		else
			espimg_diag_add(p->diags, d->severity, d->code, file,
					pos.line, pos.col, -1, "%s",
					d->message);
	}
	espimg_diag_clear(p->tmp);
}

static bool pos_before(espimg_mpos a, espimg_mpos b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

static const espimg_partition *find_name(const espimg_ptable *t,
					 const char *name)
{
	for (size_t i = 0; t && i < t->count; i++)
		if (!strcmp(t->parts[i].name, name))
			return &t->parts[i];
	return NULL;
}

static const espimg_partition *find_at(const espimg_ptable *t, uint64_t off)
{
	for (size_t i = 0; t && i < t->count; i++)
		if (off >= t->parts[i].offset &&
		    off - t->parts[i].offset < t->parts[i].size)
			return &t->parts[i];
	return NULL;
}

/* The partition with the lowest offset above `off`, or NULL. */
static const espimg_partition *find_next(const espimg_ptable *t,
					 uint64_t off)
{
	const espimg_partition *best = NULL;

	for (size_t i = 0; t && i < t->count; i++)
		if (t->parts[i].offset > off &&
		    (!best || t->parts[i].offset < best->offset))
			best = &t->parts[i];
	return best;
}

static espimg_release_part *new_part(struct plan *p,
				     const espimg_manifest_image *mi)
{
	espimg_release_part *rp = &p->r->parts[p->r->nparts];

	memset(rp, 0, sizeof(*rp));
	p->src[p->r->nparts++] = mi;
	return rp;
}

/* Loads a file named in the manifest.  Returns 0, 1 when it could not be
 * read (error recorded), or ESPIMG_ENOMEM. */
static int load(struct plan *p, const char *path, espimg_mpos pos,
		uint8_t **data, size_t *len)
{
	char qp[256];
	int rc;

	*data = NULL;
	*len = 0;
	rc = p->load(p->ctx, path, data, len);
	if (!rc)
		return 0;
	free(*data);
	*data = NULL;
	if (rc == ESPIMG_ENOMEM)
		return rc;
	quote(qp, sizeof(qp), path);
	perr(p, "release.load", pos, "cannot read '%s': %s", qp,
	     espimg_strerror(rc));
	return 1;
}

/* ------------------------------------------------------------ table */

static int plan_table(struct plan *p)
{
	const espimg_manifest *m = p->m;
	const espimg_chip *chip = m->chip;
	espimg_release_part *rp;
	const espimg_partition *pt;
	espimg_ptable_opts opts;
	espimg_ptable *t = NULL;
	uint8_t *data;
	size_t len;
	bool binary;
	char qp[256];
	int rc;

	if (!m->has_table)
		return 0;
	rc = load(p, m->table_path, m->pos_table, &data, &len);
	if (rc)
		return rc;
	p->table_file = espimg_manifest_path(p->mfile, m->table_path);
	if (!p->table_file) {
		free(data);
		return ESPIMG_ENOMEM;
	}
	binary = espimg_ptable_is_binary(data, len);
	if (binary == m->table_is_csv) {
		quote(qp, sizeof(qp), m->table_path);
		pwarn(p, "release.table_kind", m->pos_table,
		      "'%s' is a %s table, not %s: taken as %s", qp,
		      binary ? "binary" : "CSV",
		      m->table_is_csv ? "CSV (csv:)" : "binary (bin:)",
		      binary ? "given, byte for byte" : "CSV and encoded");
	}
	/* gen_esp32part.py's defaults, with the manifest's table offset and
	 * the chip's bootloader offset (bootloader rows of ESP-IDF v5.4
	 * tables take their offset from it). */
	espimg_ptable_opts_init(&opts);
	opts.table_offset = m->table_offset;
	if (chip->bootloader_offset < m->table_offset)
		opts.primary_bootloader_offset = chip->bootloader_offset;
	rc = espimg_ptable_parse(data, len, &opts, p->table_file, &t, p->diags);
	if (!rc)
		rc = espimg_ptable_verify(t, &opts, p->table_file, p->diags);
	if (rc) {
		free(data);
		espimg_ptable_free(t);
		if (rc == ESPIMG_EFORMAT || rc == ESPIMG_ETOOBIG) {
			p->errors++;
			return 1;
		}
		return rc;
	}
	p->r->table = t;
	if (!binary) {
		uint8_t *bin = malloc(ESPIMG_PTABLE_BIN_SIZE);

		if (!bin) {
			free(data);
			return ESPIMG_ENOMEM;
		}
		rc = espimg_ptable_to_binary(t, &opts, bin, p->tmp);
		move_tmp(p, p->table_file, m->pos_table);
		free(data);
		if (rc) {
			free(bin);
			if (rc == ESPIMG_ENOMEM)
				return rc;
			p->errors++;
			return 1;
		}
		data = bin;
		len = ESPIMG_PTABLE_BIN_SIZE;
	}
	rp = new_part(p, NULL);
	rp->kind = ESPIMG_RPART_TABLE;
	espimg_copy_cut(rp->label, sizeof(rp->label), "partition-table");
	rp->path = m->table_path;
	rp->offset = m->table_offset;
	rp->data = data;
	rp->len = len;
	rp->partition_size = ESPIMG_PTABLE_SECTOR;
	rp->pos = m->pos_table;
	for (size_t i = 0; i < t->count; i++) {
		pt = &t->parts[i];
		if (pt->type == ESPIMG_PTYPE_PARTITION_TABLE &&
		    pt->offset == m->table_offset) {
			espimg_copy_cut(rp->partition, sizeof(rp->partition),
					pt->name);
			break;
		}
	}
	if (len > ESPIMG_PTABLE_SECTOR) {
		quote(qp, sizeof(qp), m->table_path);
		perr(p, "release.too_big", m->pos_table,
		     "the partition table '%s' is 0x%zx bytes; its sector at "
		     "0x%x holds 0x%x", qp, len, m->table_offset,
		     ESPIMG_PTABLE_SECTOR);
	}
	return 0;
}

/* ------------------------------------------------------------ images */

/* Places one manifest image: by partition name, "bootloader", or offset.
 * Returns 0, 1 when refused, or ESPIMG_ENOMEM. */
static int plan_image(struct plan *p, const espimg_manifest_image *mi)
{
	const espimg_manifest *m = p->m;
	const espimg_ptable *t = p->r->table;
	const espimg_partition *pt = NULL;
	espimg_release_part *rp;
	uint64_t offset;
	char qn[128];
	uint8_t *data;
	size_t len;
	int rc;

	if (mi->name) {
		pt = find_name(t, mi->name);
		if (pt) {
			offset = pt->offset;
		} else if (!strcmp(mi->name, "bootloader")) {
			offset = m->chip->bootloader_offset;
		} else {
			quote(qn, sizeof(qn), mi->name);
			if (t)
				perr(p, "release.no_partition", mi->pos_key,
				     "the partition table has no partition "
				     "'%s'", qn);
			else
				perr(p, "release.no_partition", mi->pos_key,
				     "'%s' names a partition, but the manifest "
				     "has no partition_table; key it by flash "
				     "offset", qn);
			return 1;
		}
	} else {
		offset = mi->offset;
		pt = find_at(t, offset);
	}
	rc = load(p, mi->path, mi->pos_path, &data, &len);
	if (rc)
		return rc;
	rp = new_part(p, mi);
	rp->kind = ESPIMG_RPART_FILE;
	rp->path = mi->path;
	rp->offset = offset;
	rp->data = data;
	rp->len = len;
	rp->pos = mi->pos_key;
	if (mi->name)
		espimg_copy_cut(rp->label, sizeof(rp->label), mi->name);
	else
		snprintf(rp->label, sizeof(rp->label), "0x%" PRIx64, offset);
	rp->is_bootloader = offset == m->chip->bootloader_offset;
	if (pt) {
		espimg_copy_cut(rp->partition, sizeof(rp->partition), pt->name);
		rp->partition_size = pt->size;
	} else if (t && rp->is_bootloader && offset < m->table_offset) {
		/* No bootloader row: the bootloader has the flash up to the
		 * partition table. */
		rp->partition_size = m->table_offset - offset;
	}
	return 0;
}

/* The partition the part lies in (by name), or NULL. */
static const espimg_partition *part_partition(const struct plan *p,
					      const espimg_release_part *rp)
{
	return rp->partition[0] ? find_at(p->r->table, rp->offset) : NULL;
}

/* Reads a file part as an image when it starts with 0xE9: the chip, where
 * an app may go, the descriptions for the summary.  *sig: it carries a
 * signature (for the size message). */
static int check_image(struct plan *p, espimg_release_part *rp,
		       const espimg_manifest_image *mi, bool *sig)
{
	const espimg_manifest *m = p->m;
	const espimg_partition *pt = part_partition(p, rp);
	espimg_image_opts opts = { 0 };
	espimg_image *img = NULL;
	espimg_source src;
	char qp[256], qn[128];
	bool in_app = pt && pt->type == ESPIMG_PTYPE_APP;
	int rc;

	quote(qp, sizeof(qp), mi->path);
	if (rp->len && rp->data[0] == ESPIMG_IMAGE_MAGIC) {
		espimg_source_mem(&src, rp->data, rp->len);
		rc = espimg_image_read(&src, &opts, &img, NULL);
		if (!img || rc == ESPIMG_ENOMEM) {
			espimg_image_free(img);
			return ESPIMG_ENOMEM;
		}
		if (rc == ESPIMG_EUNSUPPORTED)
			perr(p, "release.chip", mi->pos_path,
			     "'%s' is an ESP8266 image, not one for the %s",
			     qp, m->chip->name);
		else if (img->stage >= ESPIMG_STAGE_HEADER && !img->chip)
			perr(p, "release.chip", mi->pos_path,
			     "'%s' is an image for chip id %u, which no chip "
			     "has; not one for the %s (chip id %u)", qp,
			     img->chip_id, m->chip->name, m->chip->image_id);
		else if (img->stage >= ESPIMG_STAGE_HEADER &&
			 img->chip != m->chip)
			perr(p, "release.chip", mi->pos_path,
			     "'%s' is an image for the %s (chip id %u), not "
			     "the %s (chip id %u)", qp, img->chip->name,
			     img->chip_id, m->chip->name, m->chip->image_id);
		else
			rp->is_image = rc == ESPIMG_OK;
		if (rc == ESPIMG_EUNSUPPORTED ||
		    (img->stage >= ESPIMG_STAGE_HEADER &&
		     img->chip != m->chip)) {
			espimg_image_free(img);
			return 0;
		}
		*sig = img->nsig > 0 || img->has_sig_v1;
	}
	if (rp->is_image && img->has_app_desc) {
		const espimg_app_desc *d = &img->app_desc;
		bool ok;

		espimg_desc_text(d->project_name, sizeof(d->project_name),
				 ESPIMG_DESC_CSTRING, rp->project,
				 sizeof(rp->project));
		espimg_desc_text(d->version, sizeof(d->version),
				 ESPIMG_DESC_CSTRING, rp->version,
				 sizeof(rp->version));
		espimg_desc_text(d->idf_ver, sizeof(d->idf_ver),
				 ESPIMG_DESC_CSTRING, rp->idf_ver,
				 sizeof(rp->idf_ver));
		/* Without a table only the alignment can be checked. */
		if (p->r->table)
			ok = in_app && pt->offset == rp->offset &&
			     pt->offset % APP_ALIGN == 0;
		else
			ok = rp->offset % APP_ALIGN == 0;
		if (!ok && pt)
			quote(qn, sizeof(qn), pt->name);
		if (ok)
			;
		else if (!p->r->table)
			perr(p, "release.app_slot", rp->pos,
			     "'%s' is an app: it goes on a 64 KiB boundary "
			     "(the MMU maps flash in 64 KiB pages), not at "
			     "0x%" PRIx64, qp, rp->offset);
		else if (!pt)
			perr(p, "release.app_slot", rp->pos,
			     "'%s' is an app: it goes at the start of an app "
			     "partition, not at 0x%" PRIx64 " outside every "
			     "partition", qp, rp->offset);
		else if (!in_app)
			perr(p, "release.app_slot", rp->pos,
			     "'%s' is an app: it goes at the start of an app "
			     "partition, not into %s partition '%s' (0x%x)", qp,
			     pt->type == ESPIMG_PTYPE_DATA ? "data" : "the",
			     qn, pt->offset);
		else if (pt->offset != rp->offset)
			perr(p, "release.app_slot", rp->pos,
			     "'%s' is an app: it goes at the start of app "
			     "partition '%s' (0x%x), not at 0x%" PRIx64, qp, qn,
			     pt->offset, rp->offset);
		else
			perr(p, "release.app_slot", rp->pos,
			     "'%s' is an app, and app partition '%s' at 0x%x "
			     "is not on a 64 KiB boundary (the MMU maps flash "
			     "in 64 KiB pages)", qp, qn, pt->offset);
	} else if (rp->is_image && img->has_boot_desc) {
		const espimg_boot_desc *d = &img->boot_desc;

		snprintf(rp->version, sizeof(rp->version), "%" PRIu32,
			 d->version);
		espimg_desc_text(d->idf_ver, sizeof(d->idf_ver),
				 ESPIMG_DESC_CSTRING, rp->idf_ver,
				 sizeof(rp->idf_ver));
	}
	if (!rp->is_image && (rp->is_bootloader || in_app))
		pwarn(p, "release.not_image", mi->pos_path,
		      "'%s' is not a readable %s image, but goes where the %s "
		      "loads one", qp, m->chip->name,
		      rp->is_bootloader ? "ROM" : "bootloader");
	espimg_image_free(img);
	return 0;
}

/* An image placed in a partition (or the bootloader's space) must end
 * inside it; one outside every partition must not run into one. */
/* Past the end of its partition (or the bootloader's space), or, outside
 * every partition, running into one. */
static bool misplaced(const struct plan *p, const espimg_release_part *rp)
{
	const espimg_partition *pt = part_partition(p, rp);
	const espimg_partition *next;
	uint64_t start = pt ? pt->offset : rp->offset;
	uint64_t end = rp->offset + rp->len;

	if (rp->partition_size)
		return end > start + rp->partition_size;
	next = find_next(p->r->table, rp->offset);
	return next && end > next->offset;
}

static void check_size(struct plan *p, espimg_release_part *rp,
		       const espimg_manifest_image *mi, bool sig)
{
	const espimg_partition *pt = part_partition(p, rp);
	const espimg_partition *next;
	uint64_t start = pt ? pt->offset : rp->offset;
	uint64_t end = rp->offset + rp->len;
	char qp[256], qn[128];

	if (!misplaced(p, rp))
		return;
	quote(qp, sizeof(qp), mi->path);
	if (rp->partition_size) {
		if (pt) {
			quote(qn, sizeof(qn), pt->name);
			perr(p, "release.too_big", rp->pos,
			     "'%s' (0x%zx bytes%s at 0x%" PRIx64 ") does not "
			     "fit partition '%s' (0x%x bytes at 0x%x): 0x%"
			     PRIx64 " bytes too many", qp, rp->len,
			     sig ? " with its signature" : "", rp->offset, qn,
			     pt->size, pt->offset,
			     end - (start + rp->partition_size));
		} else {
			perr(p, "release.too_big", rp->pos,
			     "the bootloader '%s' (0x%zx bytes at 0x%" PRIx64
			     ") runs into the partition table at 0x%x: it has "
			     "0x%" PRIx64 " bytes", qp, rp->len, rp->offset,
			     p->m->table_offset, rp->partition_size);
		}
		return;
	}
	next = find_next(p->r->table, rp->offset);
	quote(qn, sizeof(qn), next->name);
	perr(p, "release.overlap", rp->pos,
	     "'%s' (0x%" PRIx64 "-0x%" PRIx64 ") runs into partition '%s' "
	     "at 0x%x", qp, rp->offset, end - 1, qn, next->offset);
}

/* ------------------------------------------------------------ flash */

/* The flash size: the manifest's, else the bootloader header's. */
static uint64_t flash_size(const struct plan *p, const char **from)
{
	const espimg_manifest *m = p->m;

	if (m->has_flash && m->flash.size >= 0 && m->flash.size_bytes) {
		*from = "flash.size";
		return m->flash.size_bytes;
	}
	for (size_t i = 0; i < p->r->nparts; i++) {
		const espimg_release_part *rp = &p->r->parts[i];

		if (rp->kind == ESPIMG_RPART_FILE && rp->is_bootloader &&
		    rp->len >= ESPIMG_IMAGE_HEADER_SIZE &&
		    rp->data[0] == ESPIMG_IMAGE_MAGIC) {
			*from = "the bootloader header";
			return espimg_flash_size_bytes(rp->data[3] >> 4);
		}
	}
	*from = NULL;
	return 0;
}

static void check_table_fits(struct plan *p, const char *from)
{
	const espimg_ptable *t = p->r->table;
	const espimg_partition *last = NULL;
	uint64_t need;
	char qn[128];

	if (!t || !p->r->flash_size)
		return;
	need = espimg_ptable_flash_needed(t);
	if (need <= p->r->flash_size)
		return;
	for (size_t i = 0; i < t->count; i++)
		if (!last || t->parts[i].offset > last->offset)
			last = &t->parts[i];
	quote(qn, sizeof(qn), last ? last->name : "");
	perr(p, "release.table_flash", p->m->pos_table,
	     "the partitions need flash up to 0x%" PRIx64 " ('%s' ends "
	     "there) but the flash is %" PRIu64 " MB (0x%" PRIx64 ", from %s)",
	     need, qn, p->r->flash_size >> 20, p->r->flash_size, from);
}

/* ------------------------------------------------------------ otadata */

/* The file part at the start of partition pt, or NULL. */
static const espimg_release_part *image_at(const struct plan *p,
					   const espimg_partition *pt)
{
	for (size_t i = 0; i < p->r->nparts; i++) {
		const espimg_release_part *rp = &p->r->parts[i];

		if (rp->kind == ESPIMG_RPART_FILE && rp->offset == pt->offset)
			return rp;
	}
	return NULL;
}

static int plan_otadata(struct plan *p)
{
	const espimg_manifest *m = p->m;
	const espimg_partition *pt;
	const espimg_release_part *img;
	espimg_otadata_layout *l = NULL;
	espimg_otadata_config cfg;
	espimg_otadata_result res;
	espimg_release_part *rp;
	uint8_t *blob = NULL;
	char qn[128];
	int rc, target;

	if (!m->boot)
		return 0;
	quote(qn, sizeof(qn), m->boot);
	if (!p->r->table) {
		perr(p, "release.boot_slot", m->pos_boot,
		     "boot: '%s' needs a partition_table (otadata is "
		     "written at the table's otadata partition)", qn);
		return 0;
	}
	pt = find_name(p->r->table, m->boot);
	if (!pt) {
		perr(p, "release.no_partition", m->pos_boot,
		     "boot: the partition table has no partition '%s'", qn);
		return 0;
	}
	if (pt->type != ESPIMG_PTYPE_APP) {
		perr(p, "release.boot_slot", m->pos_boot,
		     "boot: '%s' is not an app partition", qn);
		return 0;
	}
	img = image_at(p, pt);
	if (!img || !img->len) {
		perr(p, "release.boot_empty", m->pos_boot,
		     "boot: no image goes into '%s'; give one under images",
		     qn);
		return 0;
	}
	l = malloc(sizeof(*l));
	if (!l)
		return ESPIMG_ENOMEM;
	rc = espimg_otadata_layout_from_ptable(p->r->table, l, p->tmp);
	espimg_diag_clear(p->tmp); /* the table was verified already */
	if (rc) {
		perr(p, "release.boot_slot", m->pos_boot,
		     "boot: the partition table's app partitions cannot be "
		     "modelled (%s)", espimg_strerror(rc));
		goto out;
	}
	if (!l->has_otadata) {
		perr(p, "release.boot_slot", m->pos_boot,
		     "boot: '%s' is chosen through otadata, and the partition "
		     "table has no otadata partition", qn);
		goto out;
	}
	blob = malloc(l->otadata_size ? l->otadata_size : 1);
	if (!blob) {
		rc = ESPIMG_ENOMEM;
		goto out;
	}
	if (espimg_otadata_init(blob, l->otadata_size)) {
		perr(p, "release.boot_slot", m->pos_boot,
		     "boot: the otadata partition is 0x%x bytes; the device "
		     "needs at least 0x%x in whole 4 KiB sectors",
		     l->otadata_size, ESPIMG_OTADATA_MIN_SIZE);
		goto out;
	}
	target = espimg_otadata_find_app(l, pt->name);
	espimg_otadata_config_init(&cfg);
	rc = espimg_otadata_set_boot(blob, l->otadata_size, l, &cfg, target,
				     &res, p->tmp);
	espimg_diag_clear(p->tmp);
	if (rc == ESPIMG_ENOMEM)
		goto out;
	if (rc || res.rc != ESPIMG_OTA_OK) {
		perr(p, "release.boot_slot", m->pos_boot,
		     "boot: esp_ota_set_boot_partition('%s') on a blank "
		     "otadata: %s", qn,
		     rc ? espimg_strerror(rc) : espimg_ota_rc_name(res.rc));
		rc = 0;
		goto out;
	}
	rp = new_part(p, NULL);
	rp->kind = ESPIMG_RPART_OTADATA;
	espimg_copy_cut(rp->label, sizeof(rp->label), l->otadata_name);
	espimg_copy_cut(rp->partition, sizeof(rp->partition), l->otadata_name);
	rp->offset = l->otadata_offset;
	rp->data = blob;
	rp->len = l->otadata_size;
	rp->partition_size = l->otadata_size;
	rp->pos = m->pos_boot;
	blob = NULL;
	espimg_copy_cut(p->r->boot, sizeof(p->r->boot), pt->name);
out:
	free(blob);
	free(l);
	return rc == ESPIMG_ENOMEM ? rc : 0;
}

/* ------------------------------------------------------------ overlaps */

static int cmp_parts(const void *a, const void *b)
{
	const espimg_release_part *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static void part_name(char *out, size_t size, const espimg_release_part *rp)
{
	char q[200];

	quote(q, sizeof(q), rp->path ? rp->path : rp->label);
	if (rp->kind == ESPIMG_RPART_FILE)
		snprintf(out, size, "'%s'", q);
	else if (rp->kind == ESPIMG_RPART_TABLE)
		snprintf(out, size, "the partition table");
	else
		snprintf(out, size, "the generated otadata");
}

/* Sorts the parts by offset.  Two that share bytes, or only a 4 KiB flash
 * sector (flashing erases whole sectors: esptool refuses a file whose
 * first sector is the previous file's last, cli_util.py
 * AddrFilenamePairAction), are refused at the later of their manifest
 * entries - unless one was refused already for leaving its partition. */
static void check_overlaps(struct plan *p)
{
	espimg_release *r = p->r;
	const espimg_release_part *prev = NULL;
	uint64_t sector_end = 0;
	char a[256], b[256];

	qsort(r->parts, r->nparts, sizeof(*r->parts), cmp_parts);
	for (size_t i = 0; i < r->nparts; i++) {
		const espimg_release_part *rp = &r->parts[i];
		uint64_t start = rp->offset & ~(uint64_t)(FLASH_SECTOR - 1);
		uint64_t end = rp->offset + rp->len;

		if (prev && start < sector_end && !misplaced(p, rp) &&
		    !misplaced(p, prev)) {
			const espimg_release_part *at = rp, *other = prev;

			if (pos_before(rp->pos, prev->pos)) {
				at = prev;
				other = rp;
			}
			part_name(a, sizeof(a), at);
			part_name(b, sizeof(b), other);
			if (rp->offset < prev->offset + prev->len)
				perr(p, "release.overlap", at->pos,
				     "%s (0x%" PRIx64 "-0x%" PRIx64 ") overlaps "
				     "%s (0x%" PRIx64 "-0x%" PRIx64 ")", a,
				     at->offset, at->offset + at->len - 1, b,
				     other->offset,
				     other->offset + other->len - 1);
			else
				perr(p, "release.overlap", at->pos,
				     "%s (at 0x%" PRIx64 ") shares the 4 KiB "
				     "flash sector at 0x%" PRIx64 " with %s "
				     "(at 0x%" PRIx64 "); flashing erases whole "
				     "sectors", a, at->offset, start, b,
				     other->offset);
		}
		end = (end + FLASH_SECTOR - 1) & ~(uint64_t)(FLASH_SECTOR - 1);
		if (!prev || end >= sector_end) {
			sector_end = end;
			prev = rp;
		}
	}
}

/* What espimg_merge_write would refuse, said here with the manifest
 * entry: a part below target_offset, a raw output past pad_to_size. */
static void check_output(struct plan *p)
{
	const espimg_merge_opts *o = &p->r->merge;
	char a[256];

	for (size_t i = 0; i < p->r->nparts; i++) {
		const espimg_release_part *rp = &p->r->parts[i];

		part_name(a, sizeof(a), rp);
		if (rp->offset < o->target_offset)
			perr(p, "release.below_target", rp->pos,
			     "%s at 0x%" PRIx64 " is below target_offset "
			     "0x%" PRIx64 ", where the output starts", a,
			     rp->offset, o->target_offset);
		else if (o->format == ESPIMG_OUT_RAW && o->pad_to_size &&
			 rp->offset + rp->len > o->pad_to_size)
			perr(p, "release.too_big", rp->pos,
			     "%s (0x%" PRIx64 "-0x%" PRIx64 ") runs past "
			     "pad_to_size, 0x%" PRIx64, a, rp->offset,
			     rp->offset + rp->len - 1, o->pad_to_size);
	}
}

/* ------------------------------------------------------------ plan */

static void merge_opts(struct plan *p)
{
	const espimg_manifest *m = p->m;
	espimg_merge_opts *o = &p->r->merge;

	espimg_merge_opts_init(o, m->chip);
	o->format = m->format;
	o->fill = m->fill;
	o->target_offset = m->target_offset;
	o->uf2_chunk_size = m->uf2_chunk_size;
	o->uf2_md5 = m->uf2_md5;
	/* The parts hold the patched bootloader already: keep. */
	o->flash.mode = o->flash.size = o->flash.freq = -1;
	o->flash.size_bytes = 0;
	o->pad_to_size = m->pad_to_size;
	if (!m->pad_to_flash)
		return;
	/* "flash": up to the end of the flash (pad_to_size is a flash
	 * address, as esptool's --pad-to-size). */
	if (!p->r->flash_size)
		perr(p, "release.flash_size", m->pos_pad,
		     "pad_to_size: flash, but the flash size is unknown: give "
		     "flash.size (or a bootloader)");
	else if (m->target_offset >= p->r->flash_size)
		perr(p, "release.flash_size", m->pos_pad,
		     "pad_to_size: flash, but target_offset 0x%" PRIx64
		     " is at or past the end of the %" PRIu64 " MB flash",
		     m->target_offset, p->r->flash_size >> 20);
	else
		o->pad_to_size = p->r->flash_size;
}

static int patch_bootloader(struct plan *p)
{
	const espimg_manifest *m = p->m;

	if (!m->has_flash)
		return 0;
	for (size_t i = 0; i < p->r->nparts; i++) {
		espimg_release_part *rp = &p->r->parts[i];
		int rc;

		if (rp->kind != ESPIMG_RPART_FILE ||
		    rp->offset != m->chip->bootloader_offset)
			continue;
		rc = espimg_patch_flash_params(rp->data, rp->len, rp->offset,
					       m->chip, &m->flash, p->tmp);
		move_tmp(p, p->mfile, p->src[i]->pos_path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int digest_parts(espimg_release *r)
{
	for (size_t i = 0; i < r->nparts; i++) {
		espimg_release_part *rp = &r->parts[i];
		unsigned int n = 0;

		if (EVP_Digest(rp->data, rp->len, rp->sha256, &n, EVP_sha256(),
			       NULL) != 1 || n != sizeof(rp->sha256))
			return ESPIMG_ENOMEM;
	}
	return 0;
}

int espimg_release_plan(const espimg_manifest *m, const char *manifest_file,
			espimg_load_fn load_fn, void *ctx,
			espimg_release **out, espimg_diag_list *diags)
{
	struct plan p = { 0 };
	espimg_release *r;
	const char *from = NULL;
	size_t cap;
	int rc = 0;

	if (!out)
		return ESPIMG_EINVAL;
	*out = NULL;
	if (!m || !m->chip || !load_fn ||
	    m->nimages > ESPIMG_MANIFEST_MAX_IMAGES)
		return ESPIMG_EINVAL;
	p.m = m;
	p.mfile = manifest_file;
	p.load = load_fn;
	p.ctx = ctx;
	p.diags = diags;
	r = p.r = calloc(1, sizeof(*r));
	cap = m->nimages + 2;
	p.src = calloc(cap, sizeof(*p.src));
	p.tmp = espimg_diag_list_new();
	if (!r || !p.src || !p.tmp) {
		rc = ESPIMG_ENOMEM;
		goto out;
	}
	r->parts = calloc(cap, sizeof(*r->parts));
	if (!r->parts) {
		rc = ESPIMG_ENOMEM;
		goto out;
	}
	r->chip = m->chip;
	if (m->has_flash) {
		r->flash = m->flash;
	} else {
		r->flash.mode = r->flash.size = r->flash.freq = -1;
	}

	rc = plan_table(&p);
	if (rc < 0)
		goto out;
	if (rc) {
		/* Names cannot be resolved without the table. */
		rc = ESPIMG_EFORMAT;
		goto out;
	}
	for (size_t i = 0; i < m->nimages; i++) {
		rc = plan_image(&p, &m->images[i]);
		if (rc < 0)
			goto out;
	}
	rc = patch_bootloader(&p);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < r->nparts; i++) {
		if (r->parts[i].kind != ESPIMG_RPART_FILE)
			continue;
		bool sig = false;

		rc = check_image(&p, &r->parts[i], p.src[i], &sig);
		if (rc < 0)
			goto out;
		check_size(&p, &r->parts[i], p.src[i], sig);
	}
	r->flash_size = flash_size(&p, &from);
	check_table_fits(&p, from);
	rc = plan_otadata(&p);
	if (rc < 0)
		goto out;
	check_overlaps(&p);
	merge_opts(&p);
	check_output(&p);
	rc = digest_parts(r);
	if (!rc && p.errors)
		rc = ESPIMG_EFORMAT;
out:
	if (!rc) {
		*out = r;
	} else if (r) {
		espimg_release_free(r);
	}
	espimg_diag_list_free(p.tmp);
	free(p.src);
	free(p.table_file);
	return rc;
}

void espimg_release_free(espimg_release *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nparts; i++)
		free(r->parts[i].data);
	free(r->parts);
	espimg_ptable_free(r->table);
	free(r);
}

/* ------------------------------------------------------------ output */

int espimg_release_write(const espimg_release *r, espimg_write_fn write,
			 void *ctx, espimg_diag_list *diags)
{
	espimg_merge_part *mp;
	int rc;

	if (!r || !write)
		return ESPIMG_EINVAL;
	mp = calloc(r->nparts ? r->nparts : 1, sizeof(*mp));
	if (!mp)
		return ESPIMG_ENOMEM;
	for (size_t i = 0; i < r->nparts; i++) {
		mp[i].address = r->parts[i].offset;
		mp[i].data = r->parts[i].data;
		mp[i].len = r->parts[i].len;
		mp[i].name = r->parts[i].label;
	}
	rc = espimg_merge_write(mp, r->nparts, &r->merge, write, ctx, diags);
	free(mp);
	return rc;
}

static const char *kind_name(espimg_release_kind k)
{
	switch (k) {
	case ESPIMG_RPART_FILE:
		return "file";
	case ESPIMG_RPART_TABLE:
		return "partition-table";
	case ESPIMG_RPART_OTADATA:
		return "otadata";
	}
	return "?";
}

static const char *format_name(espimg_out_format f)
{
	switch (f) {
	case ESPIMG_OUT_RAW:
		return "raw";
	case ESPIMG_OUT_HEX:
		return "hex";
	case ESPIMG_OUT_UF2:
		return "uf2";
	}
	return "?";
}

static int kv_text_or_null(espimg_emitter *e, const char *k, const char *v,
			   bool present)
{
	espimg_emit_key(e, k);
	return present ? espimg_emit_str(e, v) : espimg_emit_null(e);
}

int espimg_release_emit(const espimg_release *r, const char *manifest_file,
			espimg_emitter *e)
{
	char hex[65];

	if (!r || !e)
		return ESPIMG_EINVAL;
	kv_text_or_null(e, "manifest", manifest_file, manifest_file != NULL);
	espimg_emit_kv_str(e, "chip", r->chip->key);
	espimg_emit_key(e, "flash_size");
	if (r->flash_size)
		espimg_emit_uint(e, r->flash_size);
	else
		espimg_emit_null(e);
	espimg_emit_key(e, "output");
	espimg_emit_begin_map(e);
	espimg_emit_kv_str(e, "format", format_name(r->merge.format));
	espimg_emit_kv_uint(e, "fill", r->merge.fill);
	espimg_emit_kv_uint(e, "target_offset", r->merge.target_offset);
	espimg_emit_kv_uint(e, "pad_to_size", r->merge.pad_to_size);
	espimg_emit_end_map(e);
	kv_text_or_null(e, "boot", r->boot, r->boot[0] != '\0');
	espimg_emit_key(e, "parts");
	espimg_emit_begin_list(e);
	for (size_t i = 0; i < r->nparts; i++) {
		const espimg_release_part *rp = &r->parts[i];

		espimg_emit_begin_map(e);
		espimg_emit_kv_str(e, "label", rp->label);
		espimg_emit_kv_str(e, "kind", kind_name(rp->kind));
		kv_text_or_null(e, "path", rp->path, rp->path != NULL);
		espimg_emit_kv_num_hex(e, "offset", rp->offset);
		espimg_emit_kv_uint(e, "size", rp->len);
		kv_text_or_null(e, "partition", rp->partition,
				rp->partition[0] != '\0');
		espimg_emit_key(e, "partition_size");
		if (rp->partition_size)
			espimg_emit_uint(e, rp->partition_size);
		else
			espimg_emit_null(e);
		espimg_hex(hex, rp->sha256, sizeof(rp->sha256));
		espimg_emit_kv_str(e, "sha256", hex);
		espimg_emit_kv_bool(e, "image", rp->is_image);
		espimg_emit_kv_bool(e, "bootloader", rp->is_bootloader);
		kv_text_or_null(e, "project", rp->project,
				rp->is_image && rp->project[0]);
		kv_text_or_null(e, "version", rp->version,
				rp->is_image && rp->version[0]);
		kv_text_or_null(e, "idf_ver", rp->idf_ver,
				rp->is_image && rp->idf_ver[0]);
		espimg_emit_end_map(e);
	}
	return espimg_emit_end_list(e);
}

/* ------------------------------------------------------------ argfile */

/* Appends a word for esptool's argument file, which splits each line as
 * Python's shlex.split does: quoted unless plainly safe. */
static void shell_word(espimg_buf *b, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_./@%+=:,-";
	const char *c;

	for (c = s; *c; c++)
		if (!strchr(safe, *c))
			break;
	if (*s && !*c) {
		espimg_buf_append(b, s, strlen(s));
		return;
	}
	espimg_buf_append(b, "'", 1);
	for (c = s; *c; c++) {
		if (*c == '\'')
			espimg_buf_append(b, "'\"'\"'", 5);
		else
			espimg_buf_append(b, c, 1);
	}
	espimg_buf_append(b, "'", 1);
}

/* esptool's --flash-mode word for a header mode code. */
static void mode_word(espimg_buf *b, int mode)
{
	const char *n = mode >= 0 ? espimg_flash_mode_name((unsigned)mode)
				  : NULL;

	if (!n) {
		espimg_buf_printf(b, "keep");
		return;
	}
	for (; *n; n++)
		espimg_buf_printf(b, "%c", *n >= 'A' && *n <= 'Z'
						   ? *n - 'A' + 'a' : *n);
}

int espimg_release_argfile(const espimg_release *r,
			   const char *const *part_paths, char **text,
			   size_t *len)
{
	const espimg_flash_params *f;
	const char *freq, *size;
	espimg_buf b = { 0 };

	if (!r || !text)
		return ESPIMG_EINVAL;
	*text = NULL;
	for (size_t i = 0; i < r->nparts; i++)
		if (!(part_paths && part_paths[i]) && !r->parts[i].path)
			return ESPIMG_EINVAL;
	/* The manifest's flash parameters (esptool patches the bootloader
	 * the same way when it writes it); "keep" when not given. */
	f = &r->flash;
	freq = f->freq >= 0 ? espimg_chip_flash_freq_name(r->chip,
							  (unsigned)f->freq)
			    : NULL;
	size = f->size >= 0 ? espimg_flash_size_name((unsigned)f->size) : NULL;
	espimg_buf_printf(&b, "--chip %s write-flash --flash-mode ",
			  r->chip->key);
	mode_word(&b, f->mode);
	espimg_buf_printf(&b, " --flash-freq %s --flash-size %s\n",
			  freq ? freq : "keep", size ? size : "keep");
	for (size_t i = 0; i < r->nparts; i++) {
		const char *path = part_paths && part_paths[i]
					   ? part_paths[i]
					   : r->parts[i].path;

		espimg_buf_printf(&b, "0x%" PRIx64 " ", r->parts[i].offset);
		shell_word(&b, path);
		espimg_buf_append(&b, "\n", 1);
	}
	*text = espimg_buf_finish(&b, len);
	return *text ? 0 : ESPIMG_ENOMEM;
}
