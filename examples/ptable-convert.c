/*
 * ptable-convert.c - the EXAMPLES program of libespimg(3): parse a
 * partition table CSV held in memory, verify it, and write the 3072-byte
 * binary table.
 *
 *   cc -Iinclude examples/ptable-convert.c build/libespimg.a \
 *       $(pkg-config --libs libcrypto yaml-0.1 zlib) -o ptable-convert
 *   ./ptable-convert partitions/partitions_ota_user.csv table.bin
 */
#include <stdio.h>
#include <stdlib.h>

#include <espimg/espimg.h>

/* $NAME in CSV lines: the library asks, the program decides. */
static const char *lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

int main(int argc, char *argv[])
{
	espimg_ptable_opts opts;
	espimg_diag_list *diags;
	espimg_ptable *table = NULL;
	uint8_t *csv = NULL, bin[ESPIMG_PTABLE_BIN_SIZE];
	size_t len, i;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: ptable-convert in.csv out.bin\n");
		return 2;
	}
	if ((r = espimg_read_file(argv[1], ESPIMG_PTABLE_MAX_INPUT, &csv,
	    &len)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], espimg_strerror(r));
		return 2;
	}
	if ((diags = espimg_diag_list_new()) == NULL)
		return 3;
	espimg_ptable_opts_init(&opts);
	opts.flash_size = 4u << 20;	/* like --flash-size 4MB */
	opts.lookup_env = lookup;

	r = espimg_ptable_parse(csv, len, &opts, argv[1], &table, diags);
	if (r == 0)
		r = espimg_ptable_verify(table, &opts, argv[1], diags);
	if (r == 0)
		r = espimg_ptable_to_binary(table, &opts, bin, diags);
	if (r == 0)
		r = espimg_write_file_atomic(argv[2], bin, sizeof(bin), 0);

	for (i = 0; i < espimg_diag_count(diags); i++) {
		const espimg_diag *d = espimg_diag_get(diags, i);
		if (d->file && d->line)
			fprintf(stderr, "%s:%u:%u: ", d->file, d->line,
			    d->column);
		else if (d->file)
			fprintf(stderr, "%s: ", d->file);
		fprintf(stderr, "%s: %s [%s]\n",
		    espimg_severity_name(d->severity), d->message, d->code);
	}
	if (r < 0 && espimg_diag_errors(diags) == 0)
		fprintf(stderr, "ptable-convert: %s\n", espimg_strerror(r));

	espimg_ptable_free(table);
	espimg_diag_list_free(diags);
	free(csv);
	return r == 0 ? 0 : r == ESPIMG_EFORMAT ? 1 : 2;
}
