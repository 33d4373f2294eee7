/* Option parsing shared by the subcommands (src/cli only). */
#ifndef FW_CLI_OPTS_H
#define FW_CLI_OPTS_H

#include <getopt.h>

/* getopt_long with our own messages; resets optind on first use per argv. */
int opts_next(int argc, char **argv, const struct option *longopts);
/* Unknown option or missing value: one line naming it, exit code 2. */
int opts_bad(const char *cmd, int argc, char **argv);
int opts_missing(const char *cmd, const char *what);
int opts_extra(const char *cmd, const char *arg);

/* Parse a flag value; print "<flag>: ..." and return non-zero on error. */
int opts_uuid(const char *cmd, const char *flag, const char *val, unsigned char out[16]);
int opts_u64(const char *cmd, const char *flag, const char *val, unsigned long long max,
             unsigned long long *out);

#endif
