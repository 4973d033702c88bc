/* suites: the declaration of every X_suite(), from the list the build generates. */
#ifndef DOSNAP_TESTS_SUITES_H
#define DOSNAP_TESTS_SUITES_H

#include <check.h>

#define SUITE(name) Suite *name##_suite(void);
#include "suites.inc"
#undef SUITE

#endif
