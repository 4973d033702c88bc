/* runner: the one Check runner; every tests/check_X.c contributes X_suite(). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

/* Whether suite NAME is in the comma-separated LIST ($DOSNAP_SUITES); no list is all. */
static int
wanted(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (list == NULL || *list == '\0')
		return 1;
	for (p = strstr(list, name); p != NULL; p = strstr(p + 1, name))
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(NULL);
#define SUITE(name) if (wanted(getenv("DOSNAP_SUITES"), #name)) srunner_add_suite(sr, name##_suite());
#include "suites.inc"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
