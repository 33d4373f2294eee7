/*
 * libFuzzer target for campaign policy files (src/rollout/policy.c).
 *
 * The input is an untrusted policy file, parsed by
 * fw_campaign_policy_parse. On top of the sanitizers it abort()s when the
 * contract of rollout.h breaks: an error outside the documented set; *out
 * written on failure; a message that does not start with the label or
 * holds bytes that are not printable ASCII (it reaches terminals); an
 * accepted policy outside the rules (stages, last stage 100%, increasing
 * percents, quarantine after retries, rollback differs); and the round
 * trip: fw_campaign_policy_json of an accepted policy must be canonical
 * JSON, its dump must parse back to the identical struct (memcmp), and the
 * canonical bytes of the two must match.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollout/rollout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: policy contract broken: %s\n", \
			        __FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

#define LABEL "fuzz.json"
#define UNSET 0x5c

static void check_msg(const struct fw_diag *d)
{
	size_t i;

	CHECK(strncmp(d->msg, LABEL ": ", strlen(LABEL) + 2) == 0);
	for (i = 0; d->msg[i] != '\0'; i++)
		CHECK(d->msg[i] >= 0x20 && d->msg[i] < 0x7f);
}

static void check_rules(const struct fw_campaign_policy *p)
{
	uint32_t last = 0;
	size_t i;

	CHECK(p->nstages >= 1 && p->nstages <= FW_CAMPAIGN_MAX_STAGES);
	CHECK(p->ncohorts <= 64 && p->nhw <= 16);
	for (i = 0; i < p->nstages; i++) {
		const struct fw_campaign_stage *st = &p->stages[i];

		CHECK(st->size_kind >= FW_STAGE_PERCENT && st->size_kind <= FW_STAGE_COHORT);
		if (st->size_kind == FW_STAGE_PERCENT) {
			CHECK(st->percent > last && st->percent <= 100);
			last = st->percent;
		}
	}
	CHECK(p->stages[p->nstages - 1].size_kind == FW_STAGE_PERCENT &&
	      p->stages[p->nstages - 1].percent == 100);
	CHECK(p->quarantine_after >= 1 && p->quarantine_after <= p->retry_max_attempts);
	CHECK(strcmp(p->rollback_release, p->release) != 0);
	CHECK(p->release[0] != '\0' && p->name[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_campaign_policy *p = malloc(sizeof(*p)), *q = malloc(sizeof(*q)), *unset;
	struct fw_diag d;
	json_t *j = NULL;
	char *c1 = NULL, *c2 = NULL, *text = NULL;
	size_t l1 = 0, l2 = 0;
	int rc;

	unset = malloc(sizeof(*unset));
	CHECK(p != NULL && q != NULL && unset != NULL);
	memset(p, UNSET, sizeof(*p));
	memset(unset, UNSET, sizeof(*unset));
	memset(&d, 0, sizeof(d));
	rc = fw_campaign_policy_parse((const char *)data, size, LABEL, p, &d);
	CHECK(rc == FW_OK || rc == FW_E_FORMAT || rc == FW_E_TOO_LARGE || rc == FW_E_NOMEM);
	if (rc != FW_OK) {
		CHECK(memcmp(p, unset, sizeof(*p)) == 0);
		CHECK(d.msg[0] != '\0');
		check_msg(&d);
		goto out;
	}
	check_rules(p);

	/* the round trip: normalized JSON parses back to the same struct */
	j = fw_campaign_policy_json(p);
	CHECK(j != NULL);
	CHECK(fw_json_canonical(j, &c1, &l1, &d) == FW_OK);
	text = json_dumps(j, JSON_COMPACT);
	CHECK(text != NULL);
	memset(q, UNSET, sizeof(*q));
	rc = fw_campaign_policy_parse(text, strlen(text), LABEL, q, &d);
	if (rc != FW_OK)
		fprintf(stderr, "re-parse: %s\n", d.msg);
	CHECK(rc == FW_OK);
	CHECK(memcmp(p, q, sizeof(*p)) == 0);
	/* and the canonical bytes parse back too */
	memset(q, UNSET, sizeof(*q));
	CHECK(fw_campaign_policy_parse(c1, l1, LABEL, q, &d) == FW_OK);
	CHECK(memcmp(p, q, sizeof(*p)) == 0);
	json_decref(j);
	j = fw_campaign_policy_json(q);
	CHECK(j != NULL);
	CHECK(fw_json_canonical(j, &c2, &l2, &d) == FW_OK);
	CHECK(l1 == l2 && memcmp(c1, c2, l1) == 0);
out:
	json_decref(j);
	free(c1);
	free(c2);
	free(text);
	free(unset);
	free(q);
	free(p);
	return 0;
}
