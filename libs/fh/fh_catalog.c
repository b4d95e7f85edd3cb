/*
 * The catalog: Configuration/Catalog.sqlite on the target (Windows keeps an
 * ESE database, Catalog1.edb, in the same place).
 *
 * Tables
 *   files(id, path)                 one row per protected file ever backed up
 *   versions(id, file_id, cycle_id, stored, version_time, size, mtime_ns, ctime_ns, inode)
 *                                   one row per version file under Data/
 *   cycles(id, start_time, end_time, state, full_scan, examined, added, status)
 *   pending(stored, cycle_id)       version files that may exist without a row
 *   status(key, value)              protection state mirror (state, protected_until)
 *
 * Invariant: every versions row names a file that exists.  A pending entry
 * is committed before its file is renamed into place; a version row is
 * inserted only after its file's data and its rename into place are durable,
 * in the same transaction that ends its pending entry; a version is deleted
 * by moving it to pending (one transaction) before its file is unlinked.  So
 * a crash at any point leaves at most the files listed in pending without a
 * row, and fh_catalog_recover hands those to the caller to delete.  A cycle
 * announces and commits many files at once (fh_catalog_begin/commit around
 * fh_catalog_add_pending and fh_catalog_add_version, see fh_cycle.c): the
 * rules hold per file, the transactions only group them.
 *
 * WAL journal with synchronous=FULL: a committed row survives a power loss,
 * and readers (versions, status) do not block a running cycle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "winbackup/winbackup.h"
#include "fh.h"

/* The statements a cycle runs once per file, prepared once per catalog:
 * preparing costs more than running them. */
enum cached_stmt
{
    STMT_FILE_ID, STMT_FILE_INSERT, STMT_LATEST, STMT_VERSION_AT, STMT_ADD_PENDING,
    STMT_DELETE_PENDING, STMT_ADD_VERSION, STMT_COUNT
};

struct fh_catalog
{
    sqlite3 *db;
    sqlite3_stmt *cached[STMT_COUNT];
    /* the failure a rollback ended (ROLLBACK itself succeeds and would
     * clear it): what fh_catalog_error and fh_catalog_errmsg report until
     * the next transaction begins */
    int failed_code, failed_errno;
    char failed_msg[200];
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS files("
    "  id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS versions("
    "  id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES files(id),"
    "  cycle_id INTEGER NOT NULL, stored TEXT NOT NULL UNIQUE, version_time INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
    "  inode INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS versions_by_file ON versions(file_id, version_time);"
    "CREATE TABLE IF NOT EXISTS cycles("
    "  id INTEGER PRIMARY KEY, start_time INTEGER NOT NULL, end_time INTEGER,"
    "  state INTEGER NOT NULL, full_scan INTEGER NOT NULL, examined INTEGER NOT NULL DEFAULT 0,"
    "  added INTEGER NOT NULL DEFAULT 0, status INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS pending(stored TEXT PRIMARY KEY, cycle_id INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS status(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

int fh_catalog_open(const char *path, struct fh_catalog **out)
{
    struct fh_catalog *cat;

    *out = NULL;
    if (!(cat = calloc(1, sizeof(*cat)))) return -1;
    /* on failure the handle stays open for fh_catalog_error; the caller closes it */
    if (sqlite3_open_v2(path, &cat->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(cat->db, 10000);
    if (sqlite3_exec(cat->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(cat->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) goto fail;
    *out = cat;
    return 0;
fail:
    *out = cat;
    return -1;
}

void fh_catalog_close(struct fh_catalog *cat)
{
    if (!cat) return;
    for (int i = 0; i < STMT_COUNT; i++) sqlite3_finalize(cat->cached[i]);
    sqlite3_close(cat->db);
    free(cat);
}

const char *fh_catalog_errmsg(struct fh_catalog *cat)
{
    if (cat && cat->failed_code) return cat->failed_msg;
    return cat ? sqlite3_errmsg(cat->db) : "cannot open the catalog";
}

uint32_t fh_catalog_error(struct fh_catalog *cat)
{
    int sys;
    if (!cat) return WB_ERROR_NOT_ENOUGH_MEMORY;   /* fh_catalog_open fails without a handle only then */
    switch ((cat->failed_code ? cat->failed_code : sqlite3_errcode(cat->db)) & 0xff)
    {
    case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return WB_OK;
    case SQLITE_NOMEM: return WB_ERROR_NOT_ENOUGH_MEMORY;
    case SQLITE_FULL: return WB_ERROR_DISK_FULL;
    case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: case SQLITE_BUSY: case SQLITE_LOCKED:
        return WB_ERROR_ACCESS_DENIED;
    case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_FORMAT: case SQLITE_SCHEMA: return WB_ERROR_INVALID_DATA;
    case SQLITE_CANTOPEN: case SQLITE_IOERR:
        /* what the file system said, through the one errno mapping */
        sys = cat->failed_code ? cat->failed_errno : sqlite3_system_errno(cat->db);
        return sys ? wb_win32_error_from_errno(sys) : WB_ERROR_IO_DEVICE;
    default: return WB_ERROR_IO_DEVICE;
    }
}

uint32_t fh_catalog_error_state(struct fh_catalog *cat)
{
    return fh_state_from_error(fh_catalog_error(cat));
}

static sqlite3_stmt *prepare(struct fh_catalog *cat, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK) return NULL;
    return st;
}

/* A cached statement, reset and without bindings; the caller resets it
 * after use (a statement left stepping would hold its read transaction). */
static sqlite3_stmt *cached(struct fh_catalog *cat, enum cached_stmt which, const char *sql)
{
    sqlite3_stmt *st = cat->cached[which];
    if (!st) return cat->cached[which] = prepare(cat, sql);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static int exec(struct fh_catalog *cat, const char *sql)
{
    return sqlite3_exec(cat->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int fh_catalog_begin(struct fh_catalog *cat)
{
    cat->failed_code = 0;
    return exec(cat, "BEGIN IMMEDIATE");
}

int fh_catalog_commit(struct fh_catalog *cat)
{
    return exec(cat, "COMMIT");
}

void fh_catalog_rollback(struct fh_catalog *cat)
{
    /* keeps the error of the failed statement for fh_catalog_error and _errmsg */
    if (!cat->failed_code && sqlite3_errcode(cat->db) != SQLITE_OK)
    {
        cat->failed_code = sqlite3_extended_errcode(cat->db);
        cat->failed_errno = sqlite3_system_errno(cat->db);
        snprintf(cat->failed_msg, sizeof(cat->failed_msg), "%s", sqlite3_errmsg(cat->db));
    }
    if (!sqlite3_get_autocommit(cat->db)) exec(cat, "ROLLBACK");
}

int fh_catalog_file_id(struct fh_catalog *cat, const char *path, int create, long long *id)
{
    sqlite3_stmt *st;
    int rc;

    *id = 0;
    if (!fh_path_is_normalized(path)) return -1;
    if (!(st = cached(cat, STMT_FILE_ID, "SELECT id FROM files WHERE path = ?1"))) return -1;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return -1;
    if (*id || !create) return 0;
    if (!(st = cached(cat, STMT_FILE_INSERT, "INSERT INTO files(path) VALUES(?1)"))) return -1;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return -1;
    *id = sqlite3_last_insert_rowid(cat->db);
    return 0;
}

#define VERSION_COLUMNS "v.id, v.file_id, v.cycle_id, v.stored, v.version_time, v.size, v.mtime_ns, v.ctime_ns, v.inode"

static int read_version(sqlite3_stmt *st, struct fh_version *v)
{
    const unsigned char *stored = sqlite3_column_text(st, 3);
    v->id = sqlite3_column_int64(st, 0);
    v->file_id = sqlite3_column_int64(st, 1);
    v->cycle_id = sqlite3_column_int64(st, 2);
    v->stored = strdup(stored ? (const char *)stored : "");
    v->version_time = (time_t)sqlite3_column_int64(st, 4);
    v->size = sqlite3_column_int64(st, 5);
    v->mtime_ns = sqlite3_column_int64(st, 6);
    v->ctime_ns = sqlite3_column_int64(st, 7);
    v->inode = sqlite3_column_int64(st, 8);
    return v->stored ? 0 : -1;
}

void fh_version_free(struct fh_version *v)
{
    free(v->stored);
    v->stored = NULL;
}

static int one_version(struct fh_catalog *cat, enum cached_stmt which, const char *sql, const char *path,
                       time_t at, struct fh_version *v)
{
    sqlite3_stmt *st;
    int rc, ret;

    memset(v, 0, sizeof(*v));
    if (!(st = cached(cat, which, sql))) return -1;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) ret = read_version(st, v) ? -1 : 1;
    else ret = rc == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(st);
    return ret;
}

int fh_catalog_latest(struct fh_catalog *cat, const char *path, struct fh_version *v)
{
    return one_version(cat, STMT_LATEST, "SELECT " VERSION_COLUMNS " FROM versions v JOIN files f ON f.id = v.file_id"
                       " WHERE f.path = ?1 ORDER BY v.version_time DESC, v.id DESC LIMIT 1", path, 0, v);
}

int fh_catalog_version_at(struct fh_catalog *cat, const char *path, time_t at, struct fh_version *v)
{
    return one_version(cat, STMT_VERSION_AT, "SELECT " VERSION_COLUMNS " FROM versions v JOIN files f ON f.id = v.file_id"
                       " WHERE f.path = ?1 AND v.version_time <= ?2"
                       " ORDER BY v.version_time DESC, v.id DESC LIMIT 1", path, at, v);
}

static int list_versions(struct fh_catalog *cat, const char *sql, const char *path, fh_version_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int rc, ret = 0;

    if (!(st = prepare(cat, sql))) return -1;
    if (path) sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    {
        struct fh_version v;
        const unsigned char *p = sqlite3_column_text(st, 9);
        if (read_version(st, &v)) { ret = -1; break; }
        ret = cb(ctx, p ? (const char *)p : "", &v);
        fh_version_free(&v);
        if (ret) break;
    }
    if (!ret && rc != SQLITE_DONE) ret = -1;
    sqlite3_finalize(st);
    return ret;
}

int fh_catalog_list_versions(struct fh_catalog *cat, const char *path, fh_version_cb cb, void *ctx)
{
    return list_versions(cat, "SELECT " VERSION_COLUMNS ", f.path FROM versions v JOIN files f ON f.id = v.file_id"
                         " WHERE f.path = ?1 ORDER BY v.version_time, v.id", path, cb, ctx);
}

int fh_catalog_list_all(struct fh_catalog *cat, fh_version_cb cb, void *ctx)
{
    return list_versions(cat, "SELECT " VERSION_COLUMNS ", f.path FROM versions v JOIN files f ON f.id = v.file_id"
                         " ORDER BY f.path, v.version_time, v.id", NULL, cb, ctx);
}

int fh_catalog_last_cycle_time(struct fh_catalog *cat, time_t *t)
{
    sqlite3_stmt *st = prepare(cat, "SELECT IFNULL(MAX(start_time), 0) FROM cycles");
    int rc;
    *t = 0;
    if (!st) return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *t = (time_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int fh_catalog_begin_cycle(struct fh_catalog *cat, time_t t, int full_scan, long long *cycle_id)
{
    sqlite3_stmt *st = prepare(cat, "INSERT INTO cycles(start_time, state, full_scan) VALUES(?1, 0, ?2)");
    int rc;
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)t);
    sqlite3_bind_int(st, 2, full_scan ? 1 : 0);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return -1;
    *cycle_id = sqlite3_last_insert_rowid(cat->db);
    return 0;
}

int fh_catalog_end_cycle(struct fh_catalog *cat, long long cycle_id, int state, long long examined,
                         long long added, uint32_t status)
{
    sqlite3_stmt *st = prepare(cat, "UPDATE cycles SET end_time = strftime('%s','now'), state = ?2,"
                               " examined = ?3, added = ?4, status = ?5 WHERE id = ?1");
    int rc;
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, cycle_id);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int64(st, 3, examined);
    sqlite3_bind_int64(st, 4, added);
    sqlite3_bind_int64(st, 5, status);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int fh_catalog_last_cycle(struct fh_catalog *cat, long long *id, int *state, int *full_scan,
                          long long *examined, long long *added)
{
    sqlite3_stmt *st = prepare(cat, "SELECT id, state, full_scan, examined, added FROM cycles"
                               " WHERE state <> 0 ORDER BY id DESC LIMIT 1");
    int rc;
    if (!st) return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
    {
        *id = sqlite3_column_int64(st, 0);
        *state = sqlite3_column_int(st, 1);
        *full_scan = sqlite3_column_int(st, 2);
        *examined = sqlite3_column_int64(st, 3);
        *added = sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int fh_catalog_add_pending(struct fh_catalog *cat, const char *stored, long long cycle_id)
{
    sqlite3_stmt *st = cached(cat, STMT_ADD_PENDING, "INSERT OR REPLACE INTO pending(stored, cycle_id) VALUES(?1, ?2)");
    int rc;
    if (!st) return -1;
    sqlite3_bind_text(st, 1, stored, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cycle_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int fh_catalog_delete_pending(struct fh_catalog *cat, const char *stored)
{
    sqlite3_stmt *st = cached(cat, STMT_DELETE_PENDING, "DELETE FROM pending WHERE stored = ?1");
    int rc;
    if (!st) return -1;
    sqlite3_bind_text(st, 1, stored, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int fh_catalog_add_version(struct fh_catalog *cat, long long file_id, long long cycle_id,
                           const char *stored, time_t t, const struct stat *s)
{
    sqlite3_stmt *st;
    int rc;

    if (!(st = cached(cat, STMT_ADD_VERSION, "INSERT INTO versions(file_id, cycle_id, stored, version_time, size,"
                      " mtime_ns, ctime_ns, inode) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")))
        return -1;
    sqlite3_bind_int64(st, 1, file_id);
    sqlite3_bind_int64(st, 2, cycle_id);
    sqlite3_bind_text(st, 3, stored, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)t);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)s->st_size);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)s->st_mtim.tv_sec * 1000000000 + s->st_mtim.tv_nsec);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)s->st_ctim.tv_sec * 1000000000 + s->st_ctim.tv_nsec);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)s->st_ino);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE && !fh_catalog_delete_pending(cat, stored) ? 0 : -1;
}

int fh_catalog_recover(struct fh_catalog *cat, fh_pending_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int rc, ret = 0;

    /* pending entries with a version row were committed; the others may have a file to delete */
    if (!(st = prepare(cat, "SELECT p.stored FROM pending p WHERE NOT EXISTS"
                       " (SELECT 1 FROM versions v WHERE v.stored = p.stored)")))
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    {
        const unsigned char *stored = sqlite3_column_text(st, 0);
        if (stored && cb(ctx, (const char *)stored)) { ret = -1; break; }
    }
    if (!ret && rc != SQLITE_DONE) ret = -1;
    sqlite3_finalize(st);
    if (ret) return ret;
    return exec(cat, "BEGIN IMMEDIATE; DELETE FROM pending;"
                " UPDATE cycles SET state = 3, end_time = strftime('%s','now') WHERE state = 0; COMMIT");
}

#define EXPIRE_CHUNK 256

long long fh_catalog_expire(struct fh_catalog *cat, time_t cutoff, fh_pending_cb cb, void *ctx)
{
    sqlite3_stmt *sel, *del;
    long long removed = 0, ids[EXPIRE_CHUNK];
    char *stored[EXPIRE_CHUNK];
    int n, rc, ok;

    /* a version is expendable when older than cutoff and a newer version of its file exists */
    if (!(sel = prepare(cat, "SELECT v.id, v.stored FROM versions v WHERE v.version_time < ?1 AND EXISTS"
                        " (SELECT 1 FROM versions n WHERE n.file_id = v.file_id AND"
                        "  (n.version_time > v.version_time OR (n.version_time = v.version_time AND n.id > v.id)))"
                        " ORDER BY v.id LIMIT 256")))
        return -1;
    if (!(del = prepare(cat, "DELETE FROM versions WHERE id = ?1"))) { sqlite3_finalize(sel); return -1; }
    /* a chunk at a time: rows -> pending in one transaction, then the files,
     * then their pending entries in one more; few WAL pages per version,
     * which matters most on a full target, where cleanup is the way out */
    for (;;)
    {
        n = 0;
        sqlite3_reset(sel);
        sqlite3_bind_int64(sel, 1, (sqlite3_int64)cutoff);
        while (n < EXPIRE_CHUNK && (rc = sqlite3_step(sel)) == SQLITE_ROW)
        {
            ids[n] = sqlite3_column_int64(sel, 0);
            if (!(stored[n] = strdup((const char *)sqlite3_column_text(sel, 1)))) { rc = SQLITE_NOMEM; break; }
            n++;
        }
        sqlite3_reset(sel);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        {
            for (int i = 0; i < n; i++) free(stored[i]);
            removed = -1;
            break;
        }
        if (!n) break;
        ok = !fh_catalog_begin(cat);
        for (int i = 0; ok && i < n; i++)
        {
            ok = !fh_catalog_add_pending(cat, stored[i], 0);
            if (ok)
            {
                sqlite3_reset(del);
                sqlite3_bind_int64(del, 1, ids[i]);
                ok = sqlite3_step(del) == SQLITE_DONE;
            }
        }
        if (!ok || fh_catalog_commit(cat))
        {
            fh_catalog_rollback(cat);
            for (int i = 0; i < n; i++) free(stored[i]);
            removed = -1;
            break;
        }
        for (int i = 0; ok && i < n; i++) ok = !cb(ctx, stored[i]);
        /* files not deleted keep their pending entries: recovery deletes them */
        if (ok)
        {
            ok = !fh_catalog_begin(cat);
            for (int i = 0; ok && i < n; i++) ok = !fh_catalog_delete_pending(cat, stored[i]);
            if (!ok || fh_catalog_commit(cat)) { fh_catalog_rollback(cat); ok = 0; }
        }
        for (int i = 0; i < n; i++) free(stored[i]);
        if (!ok) { removed = -1; break; }
        removed += n;
        /* let the WAL start over rather than grow */
        sqlite3_wal_checkpoint_v2(cat->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    return removed;
}

int fh_catalog_set_status(struct fh_catalog *cat, const char *key, const char *value)
{
    sqlite3_stmt *st = prepare(cat, "INSERT OR REPLACE INTO status(key, value) VALUES(?1, ?2)");
    int rc;
    if (!st) return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

char *fh_catalog_get_status(struct fh_catalog *cat, const char *key)
{
    sqlite3_stmt *st = prepare(cat, "SELECT value FROM status WHERE key = ?1");
    char *out = NULL;
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}
