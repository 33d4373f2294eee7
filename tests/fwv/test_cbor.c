#include "core/core.h"
#include "harness.h"
static void t_placeholder(void) { CHECK(1); }
static const struct harness_test tests[] = {{"placeholder", t_placeholder}};
HARNESS_MAIN(tests)
