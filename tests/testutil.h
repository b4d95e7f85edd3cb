/*
 * Helpers shared by the unit tests: a private temporary directory per test
 * and whole-file helpers.  Every test removes what it creates.
 */
#ifndef WINBACKUP_TESTUTIL_H
#define WINBACKUP_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ftw.h>
#include <cmocka.h>

static int testutil_unlink_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st; (void)type; (void)ftw;
    return remove(path);
}

/* Make a fresh directory under $TMPDIR (or /tmp); the caller frees the path. */
static inline char *testutil_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/wbtest.XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(path));
    return path;
}

static inline void testutil_rmtree(char *path)
{
    nftw(path, testutil_unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

#endif
