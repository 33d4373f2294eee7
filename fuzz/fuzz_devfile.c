/*
 * libFuzzer target for the device file parser (src/registry/devfile.c).
 *
 * The input is an untrusted import file. It is parsed three times through
 * fmemopen: format 0 (detect), CSV and JSON lines. The callback refuses
 * rows whose device_id starts with 'x', so error propagation is exercised.
 *
 * On top of the sanitizers it abort()s when the device-file contract of registry.h breaks:
 * a row with a NULL value, a length that is not strlen, a value over its
 * limit, a line break outside a CSV certificate, a required column
 * missing, column positions that are not distinct header positions, lines
 * that do not increase; the callback called after it failed; an error
 * outside the documented set, a callback error not returned unchanged or
 * its message altered; *rows written on failure or unequal to the rows
 * passed; no final progress report of the input's size; a message with
 * bytes that are not printable ASCII (it reaches terminals); format 0
 * disagreeing with the format its detection rule picks.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: devfile contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                     \
			abort();                                                \
		}                                                               \
	} while (0)

#define REFUSED "fuzz: row refused"
#define ROWS_UNSET 0x5c5c5c5c5c5c5c5cull

struct run {
	int format;      /* expected row format */
	uint64_t calls;  /* rows seen */
	uint64_t last_line;
	int refused;     /* the callback returned an error */
	uint64_t progress;
	int progress_calls;
};

static int required(int col)
{
	return col != FW_DEVCOL_COHORTS && col != FW_DEVCOL_CERTIFICATE;
}

static int on_row(void *arg, const struct fw_devrow *row, struct fw_diag *d)
{
	struct run *r = arg;
	char where[16];
	int i, j;

	CHECK(!r->refused);
	CHECK(row != NULL);
	CHECK(row->format == r->format);
	CHECK(row->line >= 1 && row->line > r->last_line);
	r->last_line = row->line;
	r->calls++;
	for (i = 0; i < FW_DEVCOL_COUNT; i++) {
		size_t limit = i == FW_DEVCOL_CERTIFICATE ? FW_DEVFILE_MAX_CERT : FW_DEVFILE_MAX_FIELD;

		CHECK(row->f[i] != NULL);
		CHECK(strlen(row->f[i]) == row->len[i]);
		CHECK(row->len[i] <= limit);
		if (row->format == FW_DEVFILE_CSV) {
			CHECK(row->col[i] >= 0 && row->col[i] <= FW_DEVCOL_COUNT);
			CHECK(row->col[i] > 0 || !required(i));
			if (row->col[i] == 0)
				CHECK(row->len[i] == 0);
			for (j = 0; j < i; j++)
				CHECK(row->col[i] == 0 || row->col[i] != row->col[j]);
			if (i != FW_DEVCOL_CERTIFICATE)
				CHECK(strpbrk(row->f[i], "\r\n") == NULL);
		} else {
			CHECK(row->col[i] == 0);
		}
		fw_devrow_where(row, i, where, sizeof(where));
		CHECK(strlen(where) < sizeof(where));
	}
	if (row->f[FW_DEVCOL_DEVICE_ID][0] == 'x') {
		r->refused = 1;
		return fw_diag_set(d, FW_E_CONFLICT, "%s", REFUSED);
	}
	return FW_OK;
}

static void on_progress(void *arg, uint64_t bytes)
{
	struct run *r = arg;

	CHECK(bytes >= r->progress);
	r->progress = bytes;
	r->progress_calls++;
}

struct result {
	int rc;
	uint64_t calls;
	struct fw_diag d;
};

static void run(const uint8_t *data, size_t size, int format, int row_format,
                struct result *res)
{
	struct run r;
	uint64_t rows = ROWS_UNSET;
	char *copy = malloc(size ? size : 1);
	FILE *f;
	size_t i;

	CHECK(copy != NULL);
	if (size)
		memcpy(copy, data, size);
	f = fmemopen(copy, size, "r");
	CHECK(f != NULL);
	memset(&r, 0, sizeof(r));
	r.format = row_format;
	memset(&res->d, 0, sizeof(res->d));
	res->rc = fw_devfile_parse(f, format, on_row, &r, on_progress, &r, &rows, &res->d);
	fclose(f);
	free(copy);
	res->calls = r.calls;

	CHECK(res->rc == FW_OK || res->rc == FW_E_FORMAT || res->rc == FW_E_TOO_LARGE ||
	      res->rc == FW_E_NOMEM || res->rc == FW_E_CONFLICT);
	CHECK((res->rc == FW_E_CONFLICT) == r.refused);
	if (res->rc == FW_OK) {
		CHECK(rows == r.calls);
		CHECK(r.progress_calls > 0 && r.progress == size);
		return;
	}
	CHECK(rows == ROWS_UNSET);
	if (res->rc == FW_E_CONFLICT) {
		CHECK(strcmp(res->d.msg, REFUSED) == 0);
		return;
	}
	CHECK(strncmp(res->d.msg, "line ", 5) == 0 || strncmp(res->d.msg, "empty file", 10) == 0 ||
	      res->rc == FW_E_NOMEM);
	for (i = 0; res->d.msg[i] != '\0'; i++)
		CHECK(res->d.msg[i] >= 0x20 && res->d.msg[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result detect, csv, jsonl;
	size_t i = 0;
	int picked;

	/* the detection rule of registry.h, written out again */
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	picked = i < size && data[i] == '{' ? FW_DEVFILE_JSONL : FW_DEVFILE_CSV;

	run(data, size, 0, picked, &detect);
	run(data, size, FW_DEVFILE_CSV, FW_DEVFILE_CSV, &csv);
	run(data, size, FW_DEVFILE_JSONL, FW_DEVFILE_JSONL, &jsonl);

	/* detection only picks the format: the same outcome as asking for it */
	{
		const struct result *same = picked == FW_DEVFILE_JSONL ? &jsonl : &csv;

		CHECK(detect.rc == same->rc && detect.calls == same->calls);
		CHECK(strcmp(detect.d.msg, same->d.msg) == 0);
	}
	return 0;
}
