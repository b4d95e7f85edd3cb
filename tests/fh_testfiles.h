/*
 * Small file helpers shared by the File History unit tests (included after
 * cmocka.h and the engine sources).
 */
#ifndef FH_TESTFILES_H
#define FH_TESTFILES_H

/* path now holds exactly text (created 0644 or truncated) */
static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* The first 4095 bytes of a file, never through a symlink in its last
 * component; NULL when it cannot be opened.  The buffer is reused by the
 * next call: compare two files with slurp_copy. */
static __attribute__((unused)) char *slurp(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    ssize_t n;
    if (fd < 0) return NULL;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    return buf;
}

/* slurp into a buffer of its own (free it), NULL when it cannot be opened */
static __attribute__((unused)) char *slurp_copy(const char *path)
{
    char *text = slurp(path);
    return text ? strdup(text) : NULL;
}

#ifdef SQLITE_OK
/* The one number a query on the catalog below root answers. */
static __attribute__((unused)) long long catalog_count(const char *root, const char *sql)
{
    char db[4500];
    sqlite3 *h;
    sqlite3_stmt *st;
    long long n;
    snprintf(db, sizeof(db), "%s/Configuration/Catalog.sqlite", root);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}
#endif

#endif
