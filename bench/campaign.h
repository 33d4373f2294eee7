/* Helpers of the campaign benchmarks (bench/campaign.c). Not a test. */
#ifndef FW_BENCH_CAMPAIGN_H
#define FW_BENCH_CAMPAIGN_H

struct fw_store;

extern char bench_dir[4096];   /* the run's scratch directory (mkdtemp) */
extern const char *bench_name; /* the program, in messages */

double bench_now(void);                        /* monotonic seconds */
const char *bench_in_dir(const char *name);    /* bench_dir/name (4 rotating buffers) */
void bench_die(const char *what, const char *msg); /* print, remove bench_dir, exit 1 */
void bench_rmtree(const char *path);
/* A real store in bench_dir with one eligible device, a release, its
 * rollback release and an approved three-stage campaign (its id in
 * campaign). */
struct fw_store *bench_campaign_store(char campaign[32]);
/* fw_rollout_simulate's line callback keeping the last lines, and their
 * printing. */
void bench_sim_line(void *arg, int kind, const char *line);
void bench_sim_tail(void);

#endif
