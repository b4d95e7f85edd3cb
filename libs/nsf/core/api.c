/*
 * The NSF backup API's rules, once for every face: handles, argument
 * checks, call order, memory objects, error texts.  A face (libnotes.so,
 * nnotes.dll) exports the toolkit's names as one-line calls into here and
 * gives the platform operations (files, recorders, apply sinks).
 *
 * Handles are 32-bit DHANDLE values: slot index + 1 in the low 16 bits and
 * a generation in the high 16, so a closed or freed handle (or one of
 * another kind) is refused instead of reaching another object.  The table
 * is guarded by a spinlock (no OS calls here); objects are used outside it
 * by the thread that owns the handle, as the toolkit requires of callers.
 *
 * Backup context states:  STARTED --Stop--> STOPPED --GetNext--> READING
 *   SetHighWaterMark only in STARTED; GetChangeInfoSize/GetNextChangeInfo
 *   only after Stop; End from any state frees (End(0) before Stop stops
 *   first).  Anything else is ERR_NOT_DOING_BACKUP.
 * Apply context states:   OPEN --ApplyNext...--> OPEN | FAILED
 *   End(0) succeeds only when the END record arrived and exactly InfoSize
 *   bytes were fed; the sink then sets the size, syncs and clears the copy's
 *   "apply in progress" mark.  Any failure leaves the mark if anything was
 *   written: a copy is never left half-applied without notice.
 */
#include <stdlib.h>
#include <string.h>
#include "../nsf.h"
#include "nsferr.h"
#include "oserr.h"
#include "osmem.h"
#include "nsfdb.h"
#include "names.h"

enum handle_kind { KIND_FREE, KIND_MEM, KIND_DB, KIND_BACKUP, KIND_APPLY };

struct slot
{
    enum handle_kind kind;
    uint16_t generation;
    void *object;
    int users;              /* databases, backup contexts: calls inside the object now */
};

#define MAX_SLOTS 0xfff0

static struct slot *slots;
static uint32_t slot_count;
static int table_lock;
static const struct nsf_platform_ops *platform;
static int init_count;

static void lock(void) { while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE)) ; }
static void unlock(void) { __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE); }

void nsf_api_set_platform(const struct nsf_platform_ops *ops) { platform = ops; }

static nsf_status handle_new(enum handle_kind kind, void *object, uint32_t *handle)
{
    uint32_t i;

    lock();
    for (i = 0; i < slot_count && (slots[i].kind != KIND_FREE || slots[i].users); i++) ;
    if (i == slot_count)
    {
        uint32_t count = slot_count ? slot_count * 2 : 64;
        struct slot *grown;
        if (count > MAX_SLOTS) count = MAX_SLOTS;
        if (i >= count || !(grown = realloc(slots, count * sizeof(*slots))))
        {
            unlock();
            return ERR_MEMORY;
        }
        memset(grown + slot_count, 0, (count - slot_count) * sizeof(*grown));
        slots = grown;
        slot_count = count;
    }
    slots[i].kind = kind;
    slots[i].object = object;
    if (!++slots[i].generation) slots[i].generation = 1;
    *handle = (i + 1) | (uint32_t)slots[i].generation << 16;
    unlock();
    return 0;
}

/* The slot of a live handle of that kind, or NULL; under the lock. */
static struct slot *live_slot(uint32_t handle, enum handle_kind kind)
{
    uint32_t i = (handle & 0xffff) - 1;

    return handle && i < slot_count && slots[i].kind == kind && slots[i].generation == handle >> 16 ? &slots[i] : NULL;
}

/* The object of a live handle of that kind, or NULL. */
static void *handle_get(uint32_t handle, enum handle_kind kind)
{
    struct slot *slot;
    void *object = NULL;

    lock();
    if ((slot = live_slot(handle, kind))) object = slot->object;
    unlock();
    return object;
}

static void handle_free(uint32_t handle)
{
    uint32_t i = (handle & 0xffff) - 1;

    lock();
    if (i < slot_count)
    {
        slots[i].kind = KIND_FREE;
        slots[i].object = NULL;
    }
    unlock();
}

/* Databases and backup contexts are used by the caller's threads at once (a
 * mark from one thread while another ends the backup or closes the database
 * is the caller's race, but must not be a use after free).  So every call
 * holds the object (users) while it works in it; the call that frees it
 * first retires the handle (new calls get an error, and the slot is not
 * reused while held), then waits until no one else holds it.  No OS calls
 * here: the wait spins, as long as the longest call in flight (a mark walk
 * or a Stop clone: milliseconds). */
static void *handle_hold(uint32_t handle, enum handle_kind kind)
{
    struct slot *slot;
    void *object = NULL;

    lock();
    if ((slot = live_slot(handle, kind)))
    {
        object = slot->object;
        slot->users++;
    }
    unlock();
    return object;
}

static void handle_release(uint32_t handle)
{
    uint32_t i = (handle & 0xffff) - 1;

    lock();
    if (i < slot_count) slots[i].users--;
    unlock();
}

/* The caller holds the handle: retire it (1), or 0 if another call already
 * did (then only the caller's hold is dropped).  Returns once the caller is
 * the last holder gone. */
static int handle_retire(uint32_t handle, enum handle_kind kind)
{
    uint32_t i = (handle & 0xffff) - 1;
    int mine, users;

    lock();
    mine = live_slot(handle, kind) != NULL;
    if (mine)
    {
        slots[i].kind = KIND_FREE;
        slots[i].object = NULL;
    }
    if (i < slot_count) slots[i].users--;
    unlock();
    if (!mine) return 0;
    do
    {
        lock();
        users = slots[i].users;     /* read under the lock: handle_new may move the table */
        unlock();
    } while (users);
    return 1;
}

/* ---------------------------------------------------------------- init */

uint16_t nsf_api_notes_init(void)
{
    __atomic_add_fetch(&init_count, 1, __ATOMIC_RELAXED);
    return platform ? NOERROR : ERR_UNKNOWN;
}

void nsf_api_notes_term(void)
{
    __atomic_sub_fetch(&init_count, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- memory */

struct mem_object
{
    uint32_t size;
    int locks;
    unsigned char data[];
};

nsf_status nsf_api_mem_alloc(uint16_t type, uint32_t size, uint32_t *handle)
{
    struct mem_object *mem;
    nsf_status status;

    if (!handle) return ERR_UNKNOWN;
    *handle = NULLHANDLE;
    if (!size) return NOERROR;                  /* documented: NULLHANDLE for 0 bytes */
    if (size > 0x7fffffffu - sizeof(*mem)) return ERR_SEGMENT_TOO_BIG;
    if (!(mem = calloc(1, sizeof(*mem) + size))) return ERR_MEMORY;
    mem->size = size;
    if ((status = handle_new(KIND_MEM, mem, handle))) free(mem);
    return status;
}

nsf_status nsf_api_mem_free(uint32_t handle)
{
    struct mem_object *mem = handle_get(handle, KIND_MEM);

    if (!mem) return NOERROR;       /* documented: always NOERROR */
    handle_free(handle);
    free(mem);
    return NOERROR;
}

nsf_status nsf_api_mem_size(uint32_t handle, uint32_t *size)
{
    struct mem_object *mem = handle_get(handle, KIND_MEM);

    if (size) *size = mem ? mem->size : 0;
    return NOERROR;                 /* documented: always NOERROR */
}

void *nsf_api_mem_lock(uint32_t handle)
{
    struct mem_object *mem = handle_get(handle, KIND_MEM);

    if (!mem) return NULL;
    __atomic_add_fetch(&mem->locks, 1, __ATOMIC_RELAXED);
    return mem->data;
}

int nsf_api_mem_unlock(uint32_t handle)
{
    struct mem_object *mem = handle_get(handle, KIND_MEM);

    if (mem && __atomic_load_n(&mem->locks, __ATOMIC_RELAXED) > 0)
        __atomic_sub_fetch(&mem->locks, 1, __ATOMIC_RELAXED);
    return 1;                       /* documented: always TRUE */
}

uint16_t nsf_api_load_string(uint16_t code, char *buffer, uint16_t size)
{
    const char *text = nsf_status_text(code);
    size_t len;

    if (!buffer || !size) return 0;
    buffer[0] = 0;
    if (!text) return 0;            /* documented: 0 when not found */
    len = strlen(text);
    if (len > (size_t)size - 1) len = size - 1;
    memcpy(buffer, text, len);
    buffer[len] = 0;
    return (uint16_t)len;
}

/* ---------------------------------------------------------------- databases */

struct db
{
    void *file;
};

nsf_status nsf_api_db_open(const char *path, uint32_t *handle)
{
    struct db *db;
    nsf_status status;

    if (!handle) return ERR_UNKNOWN;
    *handle = NULLHANDLE;
    if (!path || !*path) return ERR_NOEXIST;
    if (strstr(path, "!!")) return ERR_NOT_LOCAL;       /* "server!!path" names a remote database */
    if (!platform) return ERR_UNKNOWN;
    if (!(db = calloc(1, sizeof(*db)))) return ERR_MEMORY;
    if ((status = platform->db_open(path, &db->file)))
    {
        free(db);
        return status;
    }
    if ((status = handle_new(KIND_DB, db, handle)))
    {
        platform->db_close(db->file);
        free(db);
    }
    return status;
}

/* The database, held until handle_release() (see handle_hold). */
static struct db *get_db(uint32_t handle) { return handle_hold(handle, KIND_DB); }

nsf_status nsf_api_db_path(uint32_t handle, char *canonical, char *expanded)
{
    struct db *db = get_db(handle);
    char path[MAXPATH];
    nsf_status status;

    if (!db) return ERR_OS_HANDLE_RANGE;
    status = platform->db_path(db->file, path, sizeof(path));
    handle_release(handle);
    if (status) return status;
    /* no data directory here: the canonical name is the full path too */
    if (canonical) strcpy(canonical, path);
    if (expanded) strcpy(expanded, path);
    return NOERROR;
}

nsf_status nsf_api_db_log_info(uint32_t handle, uint32_t flags, int *logged, uint8_t log_id[16], uint8_t dbiid[16],
                               uint32_t *extent)
{
    if (!get_db(handle)) return ERR_OS_HANDLE_RANGE;
    handle_release(handle);
    if (flags) return ERR_VALUE_FLAGS;
    /* A plain file is never transaction-logged: no log, no instance id. */
    if (logged) *logged = 0;
    if (log_id) memset(log_id, 0, 16);
    if (dbiid) memset(dbiid, 0, 16);
    if (extent) *extent = 0;
    return NOERROR;
}

/* ---------------------------------------------------------------- backup */

enum backup_state { BK_STARTED, BK_STOPPING, BK_STOPPED, BK_READING, BK_DRAINED };

struct backup
{
    uint32_t db;
    void *recorder;
    enum backup_state state;        /* changed under the table lock */
};

/* End the context the caller holds (if no other call ended it first). */
static void backup_free(struct backup *bk, uint32_t handle)
{
    if (handle_retire(handle, KIND_BACKUP))
    {
        platform->backup_end(bk->recorder);
        free(bk);
    }
}

nsf_status nsf_api_db_close(uint32_t handle)
{
    struct db *db = get_db(handle);
    uint32_t i;

    if (!db) return ERR_OS_HANDLE_RANGE;
    /* no new calls on it; a Start in flight has registered its context when it returns */
    if (!handle_retire(handle, KIND_DB)) return ERR_OS_HANDLE_RANGE;
    /* contexts of this database die with it */
    for (i = 0; i < slot_count; i++)
    {
        struct backup *bk = NULL;
        uint32_t h = 0;
        lock();
        if (i < slot_count && slots[i].kind == KIND_BACKUP && ((struct backup *)slots[i].object)->db == handle)
        {
            bk = slots[i].object;
            h = (i + 1) | (uint32_t)slots[i].generation << 16;
            slots[i].users++;
        }
        unlock();
        if (bk) backup_free(bk, h);
    }
    platform->db_close(db->file);
    free(db);
    return NOERROR;
}

static nsf_status backup_start_held(struct db *db, uint32_t handle, uint32_t flags, uint32_t *context,
                                    uint32_t *size_low, uint32_t *size_high)
{
    struct backup *bk;
    uint64_t size;
    nsf_status status;

    if (flags) return ERR_VALUE_FLAGS;
    if (!context || !size_low || !size_high) return ERR_UNKNOWN;
    *context = NULLHANDLE;
    if (!(bk = calloc(1, sizeof(*bk)))) return ERR_MEMORY;
    if ((status = platform->backup_start(db->file, &bk->recorder, &size)))
    {
        free(bk);
        return status;
    }
    bk->db = handle;
    bk->state = BK_STARTED;
    if ((status = handle_new(KIND_BACKUP, bk, context)))
    {
        platform->backup_end(bk->recorder);
        free(bk);
        return status;
    }
    *size_low = (uint32_t)size;
    *size_high = (uint32_t)(size >> 32);
    return NOERROR;
}

nsf_status nsf_api_backup_start(uint32_t handle, uint32_t flags, uint32_t *context, uint32_t *size_low,
                                uint32_t *size_high)
{
    struct db *db = get_db(handle);
    nsf_status status;

    if (!db) return ERR_OS_HANDLE_RANGE;
    /* a DbClose waiting for this hold finds the new context and ends it */
    status = backup_start_held(db, handle, flags, context, size_low, size_high);
    handle_release(handle);
    return status;
}

/* The context, if it is a live backup of that database, held until
 * put_backup() (see backup_free). */
static struct backup *get_backup(uint32_t db, uint32_t context)
{
    struct slot *slot;
    struct backup *bk = NULL;

    lock();
    if ((slot = live_slot(context, KIND_BACKUP)) && ((struct backup *)slot->object)->db == db)
    {
        bk = slot->object;
        slot->users++;
    }
    unlock();
    return bk;
}

static void put_backup(uint32_t context) { handle_release(context); }

static nsf_status backup_mark_held(struct backup *bk, uint32_t low, uint32_t high)
{
    if (!bk || bk->state != BK_STARTED) return ERR_NOT_DOING_BACKUP;
    return platform->backup_mark(bk->recorder, (uint64_t)high << 32 | low);
}

nsf_status nsf_api_backup_mark(uint32_t db, uint32_t context, uint32_t low, uint32_t high)
{
    struct backup *bk = get_backup(db, context);
    nsf_status status = backup_mark_held(bk, low, high);

    if (bk) put_backup(context);
    return status;
}

static nsf_status backup_stop_held(struct backup *bk)
{
    nsf_status status;

    if (!bk) return ERR_NOT_DOING_BACKUP;
    /* one Stop at a time: a second one, from another thread, is told no */
    lock();
    if (bk->state != BK_STARTED)
    {
        unlock();
        return ERR_NOT_DOING_BACKUP;
    }
    bk->state = BK_STOPPING;
    unlock();
    status = platform->backup_stop(bk->recorder);
    lock();
    bk->state = status ? BK_STARTED : BK_STOPPED;
    unlock();
    return status;
}

nsf_status nsf_api_backup_stop(uint32_t db, uint32_t context)
{
    struct backup *bk = get_backup(db, context);
    nsf_status status = backup_stop_held(bk);

    if (bk) put_backup(context);
    return status;
}

static nsf_status backup_info_size_held(struct backup *bk, uint32_t flags, uint32_t *low, uint32_t *high)
{
    uint64_t size;
    nsf_status status;

    if (!bk || bk->state == BK_STARTED || bk->state == BK_STOPPING) return ERR_NOT_DOING_BACKUP;
    if (flags) return ERR_VALUE_FLAGS;
    if (!low || !high) return ERR_UNKNOWN;
    if ((status = platform->backup_info_size(bk->recorder, &size))) return status;
    *low = (uint32_t)size;
    *high = (uint32_t)(size >> 32);
    return NOERROR;
}

nsf_status nsf_api_backup_info_size(uint32_t db, uint32_t context, uint32_t flags, uint32_t *low, uint32_t *high)
{
    struct backup *bk = get_backup(db, context);
    nsf_status status = backup_info_size_held(bk, flags, low, high);

    if (bk) put_backup(context);
    return status;
}

static nsf_status backup_info_next_held(struct backup *bk, uint32_t flags, char *buffer, uint32_t size,
                                        uint32_t *filled)
{
    nsf_status status;

    if (filled) *filled = 0;
    if (!bk || bk->state == BK_STARTED || bk->state == BK_STOPPING) return ERR_NOT_DOING_BACKUP;
    if (flags) return ERR_VALUE_FLAGS;
    if (!filled || (!buffer && size)) return ERR_UNKNOWN;
    if (!size) return NOERROR;
    if (bk->state == BK_DRAINED) return NOERROR;
    bk->state = BK_READING;
    if ((status = platform->backup_info_read(bk->recorder, buffer, size, filled))) return status;
    if (!*filled) bk->state = BK_DRAINED;
    return NOERROR;
}

nsf_status nsf_api_backup_info_next(uint32_t db, uint32_t context, uint32_t flags, char *buffer, uint32_t size,
                                    uint32_t *filled)
{
    struct backup *bk = get_backup(db, context);
    nsf_status status = backup_info_next_held(bk, flags, buffer, size, filled);

    if (bk) put_backup(context);
    return status;
}

nsf_status nsf_api_backup_end(uint32_t db, uint32_t context, uint32_t options)
{
    struct backup *bk = get_backup(db, context);

    if (!bk) return ERR_NOT_DOING_BACKUP;
    if (options & ~BACKUPEND_ABORT)
    {
        put_backup(context);
        return ERR_VALUE_FLAGS;
    }
    backup_free(bk, context);
    return NOERROR;
}

/* ---------------------------------------------------------------- apply */

struct apply
{
    void *sink;
    struct nsf_ci_decoder *decoder;
    uint64_t info_size;
    int begun;              /* the sink marked the copy */
    int failed;
};

static nsf_status apply_begin(void *opaque, const struct nsf_ci_header *header)
{
    struct apply *ap = opaque;
    nsf_status status = platform->sink_ops->begin(ap->sink, header->backup_id);
    if (!status) ap->begun = 1;
    return status;
}

static nsf_status apply_write(void *opaque, uint64_t offset, const void *data, uint32_t size)
{
    struct apply *ap = opaque;
    return platform->sink_ops->write(ap->sink, offset, data, size);
}

static nsf_status apply_zero(void *opaque, uint64_t offset, uint32_t size)
{
    struct apply *ap = opaque;
    return platform->sink_ops->zero(ap->sink, offset, size);
}

static const struct nsf_ci_sink_ops apply_ops = { apply_begin, apply_write, apply_zero };

nsf_status nsf_api_apply_start(uint32_t *context, const char *path, uint32_t flags, uint32_t size_low,
                               uint32_t size_high)
{
    struct apply *ap;
    nsf_status status;

    if (!context) return ERR_UNKNOWN;
    *context = NULLHANDLE;
    if (flags) return ERR_VALUE_FLAGS;
    if (!path || !*path) return ERR_NOEXIST;
    if (strstr(path, "!!")) return ERR_NOT_LOCAL;
    if (!(ap = calloc(1, sizeof(*ap)))) return ERR_MEMORY;
    ap->info_size = (uint64_t)size_high << 32 | size_low;
    if (ap->info_size < NSF_CI_HEADER_SIZE + NSF_CI_RECORD_HEADER_SIZE)
    {
        free(ap);
        return ERR_CORRUPT_CHANGE_INFO;     /* too small to hold even an empty change info */
    }
    if (!(ap->decoder = nsf_ci_decoder_new(&apply_ops, ap)))
    {
        free(ap);
        return ERR_MEMORY;
    }
    if ((status = platform->apply_open(path, &ap->sink)))
    {
        nsf_ci_decoder_free(ap->decoder);
        free(ap);
        return status;
    }
    if ((status = handle_new(KIND_APPLY, ap, context)))
    {
        platform->sink_ops->close(ap->sink);
        nsf_ci_decoder_free(ap->decoder);
        free(ap);
    }
    return status;
}

nsf_status nsf_api_apply_next(uint32_t context, uint32_t flags, const char *buffer, uint32_t size)
{
    struct apply *ap = handle_get(context, KIND_APPLY);
    nsf_status status;

    if (!ap) return ERR_INVALID_CHANGE_INFO_CONTEXT;
    if (flags) return ERR_VALUE_FLAGS;
    if (ap->failed) return ERR_CORRUPT_CHANGE_INFO;
    if (!size) return NOERROR;
    if (!buffer) return ERR_UNKNOWN;
    if (size > ap->info_size - nsf_ci_decoder_consumed(ap->decoder))
    {
        ap->failed = 1;
        return ERR_CORRUPT_CHANGE_INFO;     /* more than the size the caller announced */
    }
    if ((status = nsf_ci_decoder_feed(ap->decoder, buffer, size))) ap->failed = 1;
    return status;
}

nsf_status nsf_api_apply_end(uint32_t context, uint32_t flags)
{
    struct apply *ap = handle_get(context, KIND_APPLY);
    nsf_status status = NOERROR;

    if (!ap) return ERR_INVALID_CHANGE_INFO_CONTEXT;
    if (flags & ~APPLYEND_ABORT) return ERR_VALUE_FLAGS;
    handle_free(context);
    if (!(flags & APPLYEND_ABORT))
    {
        if (ap->failed || !nsf_ci_decoder_done(ap->decoder) ||
            nsf_ci_decoder_consumed(ap->decoder) != ap->info_size)
            status = ERR_CORRUPT_CHANGE_INFO;
        else
            status = platform->sink_ops->finish(ap->sink, nsf_ci_decoder_header(ap->decoder)->start_size);
    }
    platform->sink_ops->close(ap->sink);
    nsf_ci_decoder_free(ap->decoder);
    free(ap);
    return status;
}
