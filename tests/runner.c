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

/* Whether every name in LIST is a suite: a misspelt name must not pass by running nothing. */
static int
known(const char *list)
{
	const char *p = list, *end;
	size_t n;

	if (list == NULL)
		return 1;
	for (; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0)
			continue;
#define SUITE(name) if (n == strlen(#name) && strncmp(p, #name, n) == 0) continue;
#include "suites.inc"
#undef SUITE
		fprintf(stderr, "check_dosnap: DOSNAP_SUITES names '%.*s', which is no suite; the suites:",
		    (int)n, p);
#define SUITE(name) fprintf(stderr, " %s", #name);
#include "suites.inc"
#undef SUITE
		fprintf(stderr, "\n");
		return 0;
	}
	return 1;
}

int
main(void)
{
	const char *list = getenv("DOSNAP_SUITES");
	SRunner *sr;
	int failed;

	if (!known(list))
		return EXIT_FAILURE;
	sr = srunner_create(NULL);
#define SUITE(name) if (wanted(list, #name)) srunner_add_suite(sr, name##_suite());
#include "suites.inc"
#undef SUITE
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
