/*
 * Unit tests of the NSF API rules (libs/nsf/core/api.c) over a fake
 * platform: handles, reserved flags, call order, memory objects, error
 * texts, and the apply context's checks.  Expected codes are those the
 * Domino C API reference documents for each function (nsferr.h/oserr.h).
 */
#include <pthread.h>
#include <unistd.h>
#include "testutil.h"
#include "../libs/nsf/nsf.h"
#include "global.h"
#include "nsfdb.h"
#include "nsferr.h"
#include "oserr.h"

/* ---- fake platform ---- */

static int files_open, recorders_live, sink_begun, sink_finished, sink_closed, sink_writes;

static nsf_status f_open(const char *path, void **file) { files_open++; *file = (void *)1; return 0; }
static nsf_status f_path(void *file, char *out, size_t size) { strcpy(out, "/data/x.nsf"); return 0; }
static void f_close(void *file) { files_open--; }

struct frec { int stopped; struct nsf_ci_encoder *enc; };
static nsf_status none_rewind(void *s) { return 0; }
static nsf_status none_next(void *s, uint64_t *o, uint64_t *l, int *z) { *l = 0; return 0; }
static nsf_status none_read(void *s, uint64_t o, void *b, uint32_t n) { return 0; }
static const struct nsf_range_source_ops none_ops = { none_rewind, none_next, none_read };

static nsf_status r_start(void *file, void **rec, uint64_t *size)
{
    struct frec *r = calloc(1, sizeof(*r));
    *rec = r;
    *size = 0x123456789ull;
    recorders_live++;
    return 0;
}
/* a mark that takes its time (a mark walk does), for the End race below */
static volatile int slow_marks, marks_in_flight, ended_during_mark;
static nsf_status r_mark(void *rec, uint64_t mark)
{
    if (!slow_marks) return 0;
    __atomic_add_fetch(&marks_in_flight, 1, __ATOMIC_SEQ_CST);
    usleep(50000);
    ((struct frec *)rec)->stopped += 0;     /* the recorder is still there (ASan) */
    __atomic_sub_fetch(&marks_in_flight, 1, __ATOMIC_SEQ_CST);
    return 0;
}
static volatile int stops_called;
static nsf_status r_stop(void *rec)
{
    struct frec *r = rec;
    __atomic_add_fetch(&stops_called, 1, __ATOMIC_SEQ_CST);
    if (slow_marks) usleep(50000);
    struct nsf_ci_header h = { .start_size = 10, .record_max = 4096 };
    r->stopped = 1;
    return nsf_ci_encoder_new(&h, &none_ops, NULL, &r->enc);
}
static nsf_status r_size(void *rec, uint64_t *size) { *size = 88; return 0; }
static nsf_status r_read(void *rec, void *buf, uint32_t n, uint32_t *filled)
{
    return nsf_ci_encoder_read(((struct frec *)rec)->enc, buf, n, filled);
}
static void r_end(void *rec)
{
    if (__atomic_load_n(&marks_in_flight, __ATOMIC_SEQ_CST)) ended_during_mark = 1;
    nsf_ci_encoder_free(((struct frec *)rec)->enc);
    free(rec);
    recorders_live--;
}
static nsf_status a_open(const char *path, void **sink) { *sink = (void *)2; return 0; }
static nsf_status k_begin(void *s, const uint8_t id[16]) { sink_begun++; return 0; }
static nsf_status k_write(void *s, uint64_t o, const void *d, uint32_t n) { sink_writes++; return 0; }
static nsf_status k_zero(void *s, uint64_t o, uint32_t n) { sink_writes++; return 0; }
static nsf_status k_finish(void *s, uint64_t size) { sink_finished++; return 0; }
static void k_close(void *s) { sink_closed++; }
static const struct nsf_apply_sink_ops fake_sink = { k_begin, k_write, k_zero, k_finish, k_close };
static const struct nsf_platform_ops fake =
{
    f_open, f_path, f_close, r_start, r_mark, r_stop, r_size, r_read, r_end, a_open, &fake_sink,
};

static int setup(void **state)
{
    slow_marks = marks_in_flight = ended_during_mark = stops_called = 0;
    nsf_api_set_platform(&fake);
    files_open = recorders_live = sink_begun = sink_finished = sink_closed = sink_writes = 0;
    return 0;
}

/* the 88-byte empty change info the fake recorder hands out */
static void empty_change_info(uint8_t out[88])
{
    uint32_t ctx_unused = 0, filled, db, ctx, lo, hi;
    (void)ctx_unused;
    assert_int_equal(nsf_api_db_open("a.nsf", &db), 0);
    assert_int_equal(nsf_api_backup_start(db, 0, &ctx, &lo, &hi), 0);
    assert_int_equal(nsf_api_backup_stop(db, ctx), 0);
    assert_int_equal(nsf_api_backup_info_next(db, ctx, 0, (char *)out, 88, &filled), 0);
    assert_int_equal(filled, 88);
    assert_int_equal(nsf_api_db_close(db), 0);
}

static void test_memory_objects(void **state)
{
    uint32_t h, h2, size;
    char *p;

    assert_int_equal(nsf_api_mem_alloc(0, 0, &h), NOERROR);
    assert_int_equal(h, NULLHANDLE);                        /* documented for 0 bytes */
    assert_int_equal(nsf_api_mem_alloc(MEM_SHARE, 100, NULL), ERR_UNKNOWN);
    assert_int_equal(nsf_api_mem_alloc(MEM_SHARE, 100, &h), NOERROR);
    assert_int_not_equal(h, NULLHANDLE);
    assert_non_null(p = nsf_api_mem_lock(h));
    memset(p, 0x5a, 100);
    assert_int_equal(nsf_api_mem_size(h, &size), NOERROR);
    assert_int_equal(size, 100);
    assert_true(nsf_api_mem_unlock(h));
    assert_int_equal(nsf_api_mem_free(h), NOERROR);
    assert_null(nsf_api_mem_lock(h));                       /* freed: refused, not reused */
    assert_int_equal(nsf_api_mem_size(h, &size), NOERROR);
    assert_int_equal(size, 0);
    assert_int_equal(nsf_api_mem_free(h), NOERROR);         /* documented: always NOERROR */
    assert_int_equal(nsf_api_mem_alloc(0, 10, &h2), NOERROR);
    assert_int_not_equal(h2, h);                            /* same slot, new generation */
    assert_null(nsf_api_mem_lock(h));
    assert_null(nsf_api_mem_lock(0xdeadbeef));
    assert_int_equal(nsf_api_mem_alloc(0, 0xffffffffu, &h), ERR_SEGMENT_TOO_BIG);
    nsf_api_mem_free(h2);
}

static void test_load_string(void **state)
{
    static const uint16_t codes[] =
    {
        ERR_NOT_LOCAL, ERR_NSF_CANT_BACKUP, ERR_BACKUP_ALREADY_IN_PROGRESS, ERR_NOT_DOING_BACKUP,
        ERR_INVALID_CHANGE_INFO_CONTEXT, ERR_CORRUPT_CHANGE_INFO, ERR_VALUE_FLAGS, ERR_DBOFFLINE, ERR_NOEXIST,
        ERR_MEMORY, ERR_OS_HANDLE_RANGE, ERR_UNKNOWN, ERR_NOT_NSF,
    };
    char text[256];

    /* the numbers are the toolkit's (shared/reference/nsf-backup.md) */
    assert_int_equal(ERR_NOT_LOCAL, 0x0220);
    assert_int_equal(ERR_VALUE_FLAGS, 0x0208);
    assert_int_equal(ERR_NSF_CANT_BACKUP, 0x13A9);
    assert_int_equal(ERR_CANT_BACKUP_DURING_COMPACT, 0x13AA);
    assert_int_equal(ERR_DBINUSE, 0x13EA);
    assert_int_equal(ERR_DBOFFLINE, 0x13F9);
    assert_int_equal(ERR_BACKUP_ALREADY_IN_PROGRESS, 0x0EA4);
    assert_int_equal(ERR_NOT_DOING_BACKUP, 0x0EA5);
    assert_int_equal(ERR_INVALID_CHANGE_INFO_CONTEXT, 0x0EA6);
    assert_int_equal(ERR_CORRUPT_CHANGE_INFO, 0x0EA7);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
    {
        uint16_t len = nsf_api_load_string(codes[i], text, sizeof(text));
        assert_true(len > 10);
        assert_int_equal(len, strlen(text));
        /* the displayed/remote flags do not hide the text */
        assert_int_equal(nsf_api_load_string(codes[i] | 0xC000, text, sizeof(text)), len);
    }
    assert_int_equal(nsf_api_load_string(ERR_NOT_LOCAL, text, 6), 5);
    assert_int_equal(strlen(text), 5);
    assert_int_equal(nsf_api_load_string(0x3ffe, text, sizeof(text)), 0);
    assert_string_equal(text, "");
}

static void test_db_handles(void **state)
{
    uint32_t db, db2;
    char canonical[256], expanded[256];
    int logged = 7;
    uint8_t id[16], iid[16];
    uint32_t extent = 7;

    assert_int_equal(nsf_api_db_open("server!!mail/x.nsf", &db), ERR_NOT_LOCAL);
    assert_int_equal(db, NULLHANDLE);
    assert_int_equal(nsf_api_db_open("", &db), ERR_NOEXIST);
    assert_int_equal(nsf_api_db_open("x.nsf", NULL), ERR_UNKNOWN);
    assert_int_equal(nsf_api_db_open("x.nsf", &db), 0);
    assert_int_equal(nsf_api_db_open("x.nsf", &db2), 0);
    assert_int_not_equal(db, db2);
    assert_int_equal(nsf_api_db_path(db, canonical, expanded), 0);
    assert_string_equal(expanded, "/data/x.nsf");
    assert_int_equal(nsf_api_db_log_info(db, 1, &logged, id, iid, &extent), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_db_log_info(db, 0, &logged, id, iid, &extent), 0);
    assert_int_equal(logged, 0);                            /* a plain file is never logged */
    assert_int_equal(extent, 0);
    assert_int_equal(nsf_api_db_close(db), 0);
    assert_int_equal(nsf_api_db_close(db), ERR_OS_HANDLE_RANGE);
    assert_int_equal(nsf_api_db_path(db, canonical, expanded), ERR_OS_HANDLE_RANGE);
    assert_int_equal(nsf_api_db_close(db2), 0);
    assert_int_equal(files_open, 0);
}

static void test_backup_call_order(void **state)
{
    uint32_t db, other, ctx, lo, hi, filled;
    char buf[100];

    assert_int_equal(nsf_api_db_open("x.nsf", &db), 0);
    assert_int_equal(nsf_api_db_open("y.nsf", &other), 0);
    assert_int_equal(nsf_api_backup_start(db, 1, &ctx, &lo, &hi), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_backup_start(db, 0, NULL, &lo, &hi), ERR_UNKNOWN);
    assert_int_equal(nsf_api_backup_start(0x7777, 0, &ctx, &lo, &hi), ERR_OS_HANDLE_RANGE);
    assert_int_equal(nsf_api_backup_stop(db, 0x1234), ERR_NOT_DOING_BACKUP);
    assert_int_equal(nsf_api_backup_start(db, 0, &ctx, &lo, &hi), 0);
    assert_int_equal(lo, 0x23456789);
    assert_int_equal(hi, 0x1);
    /* a context belongs to its database handle */
    assert_int_equal(nsf_api_backup_mark(other, ctx, 0, 0), ERR_NOT_DOING_BACKUP);
    assert_int_equal(nsf_api_backup_mark(db, ctx, 4096, 0), 0);
    /* nothing to read before Stop */
    assert_int_equal(nsf_api_backup_info_size(db, ctx, 0, &lo, &hi), ERR_NOT_DOING_BACKUP);
    assert_int_equal(nsf_api_backup_info_next(db, ctx, 0, buf, sizeof(buf), &filled), ERR_NOT_DOING_BACKUP);
    assert_int_equal(filled, 0);
    assert_int_equal(nsf_api_backup_stop(other, ctx), ERR_NOT_DOING_BACKUP);
    assert_int_equal(nsf_api_backup_stop(db, ctx), 0);
    assert_int_equal(nsf_api_backup_stop(db, ctx), ERR_NOT_DOING_BACKUP);
    assert_int_equal(nsf_api_backup_mark(db, ctx, 0, 0), ERR_NOT_DOING_BACKUP);
    assert_int_equal(nsf_api_backup_info_size(db, ctx, 1, &lo, &hi), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_backup_info_size(db, ctx, 0, &lo, &hi), 0);
    assert_int_equal(lo, 88);
    assert_int_equal(nsf_api_backup_info_next(db, ctx, 2, buf, sizeof(buf), &filled), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_backup_info_next(db, ctx, 0, NULL, 10, &filled), ERR_UNKNOWN);
    assert_int_equal(nsf_api_backup_info_next(db, ctx, 0, buf, 50, &filled), 0);
    assert_int_equal(filled, 50);
    assert_int_equal(nsf_api_backup_info_next(db, ctx, 0, buf, 50, &filled), 0);
    assert_int_equal(filled, 38);
    assert_int_equal(nsf_api_backup_info_next(db, ctx, 0, buf, 50, &filled), 0);
    assert_int_equal(filled, 0);                            /* drained, and stays so */
    assert_int_equal(nsf_api_backup_info_next(db, ctx, 0, buf, 50, &filled), 0);
    assert_int_equal(filled, 0);
    assert_int_equal(nsf_api_backup_end(db, ctx, 2), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_backup_end(other, ctx, 0), ERR_NOT_DOING_BACKUP);
    assert_int_equal(nsf_api_backup_end(db, ctx, 0), 0);
    assert_int_equal(nsf_api_backup_end(db, ctx, 0), ERR_NOT_DOING_BACKUP);
    assert_int_equal(recorders_live, 0);

    /* End(BACKUPEND_ABORT) before Stop; closing the database ends its contexts */
    assert_int_equal(nsf_api_backup_start(db, 0, &ctx, &lo, &hi), 0);
    assert_int_equal(nsf_api_backup_end(db, ctx, BACKUPEND_ABORT), 0);
    assert_int_equal(nsf_api_backup_start(db, 0, &ctx, &lo, &hi), 0);
    assert_int_equal(nsf_api_db_close(db), 0);
    assert_int_equal(recorders_live, 0);
    assert_int_equal(nsf_api_backup_stop(db, ctx), ERR_NOT_DOING_BACKUP);
    assert_int_equal(nsf_api_db_close(other), 0);
}

/* a change info with one DATA record: bytes 0..9 of a 10-byte file */
static int one_given;
static nsf_status one_rewind(void *s) { one_given = 0; return 0; }
static nsf_status one_next(void *s, uint64_t *o, uint64_t *l, int *z)
{
    *o = 0; *l = one_given++ ? 0 : 10; *z = 0;
    return 0;
}
static nsf_status one_read(void *s, uint64_t o, void *b, uint32_t n) { memset(b, 'x', n); return 0; }
static const struct nsf_range_source_ops one_ops = { one_rewind, one_next, one_read };

static uint32_t one_record_change_info(uint8_t *out, uint32_t size)
{
    struct nsf_ci_header h = { .start_size = 10, .record_max = 4096 };
    struct nsf_ci_encoder *enc;
    uint32_t filled;
    uint64_t total;

    assert_int_equal(nsf_ci_encoder_new(&h, &one_ops, NULL, &enc), 0);
    assert_int_equal(nsf_ci_encoder_size(enc, &total), 0);
    assert_int_equal(total, 64 + 24 + 10 + 24);
    assert_true(total <= size);
    assert_int_equal(nsf_ci_encoder_read(enc, out, size, &filled), 0);
    assert_int_equal(filled, total);
    nsf_ci_encoder_free(enc);
    return filled;
}

static void test_apply_context(void **state)
{
    uint8_t ci[88];
    uint32_t ctx;

    empty_change_info(ci);
    assert_int_equal(nsf_api_apply_next(0x4242, 0, (char *)ci, 88), ERR_INVALID_CHANGE_INFO_CONTEXT);
    assert_int_equal(nsf_api_apply_end(0x4242, 0), ERR_INVALID_CHANGE_INFO_CONTEXT);
    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 1, 88, 0), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_apply_start(&ctx, "srv!!copy", 0, 88, 0), ERR_NOT_LOCAL);
    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 0, 87, 0), ERR_CORRUPT_CHANGE_INFO);

    /* complete: in pieces, then the zero-length call dbbackup makes last */
    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 0, 88, 0), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 1, (char *)ci, 10), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)ci, 10), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)ci + 10, 78), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)ci, 0), 0);
    assert_int_equal(nsf_api_apply_end(ctx, 0), 0);
    assert_int_equal(sink_begun, 1);
    assert_int_equal(sink_finished, 1);
    assert_int_equal(sink_closed, 1);
    assert_int_equal(nsf_api_apply_end(ctx, 0), ERR_INVALID_CHANGE_INFO_CONTEXT);

    /* truncated: End fails, the copy is not finished (its mark stays) */
    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 0, 88, 0), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)ci, 80), 0);
    assert_int_equal(nsf_api_apply_end(ctx, 0), ERR_CORRUPT_CHANGE_INFO);
    assert_int_equal(sink_finished, 1);
    assert_int_equal(sink_closed, 2);

    /* more than announced */
    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 0, 88, 0), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)ci, 88), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)ci, 1), ERR_CORRUPT_CHANGE_INFO);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)ci, 1), ERR_CORRUPT_CHANGE_INFO);  /* stays failed */
    assert_int_equal(nsf_api_apply_end(ctx, 0), ERR_CORRUPT_CHANGE_INFO);
    assert_int_equal(sink_finished, 1);

    /* announced more than fed: End refuses */
    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 0, 100, 0), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)ci, 88), 0);
    assert_int_equal(nsf_api_apply_end(ctx, 0), ERR_CORRUPT_CHANGE_INFO);

    /* abort */
    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 0, 88, 0), 0);
    assert_int_equal(nsf_api_apply_end(ctx, 2), ERR_VALUE_FLAGS);
    assert_int_equal(nsf_api_apply_end(ctx, APPLYEND_ABORT), 0);
    assert_int_equal(sink_finished, 1);
}

/* More change info than announced, in one call with a record in it: refused
 * before the decoder sees it, so nothing reaches the copy. */
static void test_apply_bounded_by_announced_size(void **state)
{
    uint8_t one[200];
    uint32_t ctx, total = one_record_change_info(one, sizeof(one));

    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 0, 100, 0), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)one, total), ERR_CORRUPT_CHANGE_INFO);
    assert_int_equal(sink_writes, 0);
    assert_int_equal(nsf_api_apply_end(ctx, 0), ERR_CORRUPT_CHANGE_INFO);
    assert_int_equal(sink_finished, 0);

    /* the same, announced at its size: applied, its record written */
    assert_int_equal(nsf_api_apply_start(&ctx, "copy", 0, total, 0), 0);
    assert_int_equal(nsf_api_apply_next(ctx, 0, (char *)one, total), 0);
    assert_int_equal(sink_writes, 1);
    assert_int_equal(nsf_api_apply_end(ctx, 0), 0);
    assert_int_equal(sink_finished, 1);
}

/* A mark from one thread while another ends the backup (the caller's race,
 * the helper's attack found it a use after free): End waits for the calls
 * inside the context, and later calls get ERR_NOT_DOING_BACKUP. */
struct mark_args { uint32_t db, ctx; nsf_status status; };
static void *mark_thread(void *arg)
{
    struct mark_args *a = arg;
    a->status = nsf_api_backup_mark(a->db, a->ctx, 4096, 0);
    return NULL;
}

static void test_end_waits_for_a_mark_in_flight(void **state)
{
    struct mark_args args;
    uint32_t db, ctx, lo, hi;
    pthread_t thread;

    assert_int_equal(nsf_api_db_open("/data/x.nsf", &db), 0);
    assert_int_equal(nsf_api_backup_start(db, 0, &ctx, &lo, &hi), 0);
    slow_marks = 1;
    args.db = db;
    args.ctx = ctx;
    assert_int_equal(pthread_create(&thread, NULL, mark_thread, &args), 0);
    while (!__atomic_load_n(&marks_in_flight, __ATOMIC_SEQ_CST)) usleep(1000);
    assert_int_equal(nsf_api_backup_end(db, ctx, 0), 0);
    assert_int_equal(ended_during_mark, 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(args.status, 0);
    assert_int_equal(recorders_live, 0);
    assert_int_equal(nsf_api_backup_mark(db, ctx, 0, 0), ERR_NOT_DOING_BACKUP);

    /* the same with the database closed under the mark */
    assert_int_equal(nsf_api_backup_start(db, 0, &ctx, &lo, &hi), 0);
    args.ctx = ctx;
    assert_int_equal(pthread_create(&thread, NULL, mark_thread, &args), 0);
    while (!__atomic_load_n(&marks_in_flight, __ATOMIC_SEQ_CST)) usleep(1000);
    assert_int_equal(nsf_api_db_close(db), 0);
    assert_int_equal(ended_during_mark, 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(recorders_live, 0);
}

/* Two threads call Stop at once: one stops the backup, the other is told
 * ERR_NOT_DOING_BACKUP, and the recorder is stopped once (a second Stop
 * used to run beside the first: a lease thread joined twice hung, a
 * re-created encoder crashed a reader - found by the third attack). */
struct stop_args { uint32_t db, ctx; nsf_status status; };
static void *stop_thread(void *arg)
{
    struct stop_args *a = arg;
    a->status = nsf_api_backup_stop(a->db, a->ctx);
    return NULL;
}

static void test_one_stop_at_a_time(void **state)
{
    struct stop_args a, b;
    uint32_t db, ctx, lo, hi;
    pthread_t ta, tb;

    assert_int_equal(nsf_api_db_open("/data/x.nsf", &db), 0);
    assert_int_equal(nsf_api_backup_start(db, 0, &ctx, &lo, &hi), 0);
    slow_marks = 1;
    a.db = b.db = db;
    a.ctx = b.ctx = ctx;
    assert_int_equal(pthread_create(&ta, NULL, stop_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, stop_thread, &b), 0);
    assert_int_equal(pthread_join(ta, NULL), 0);
    assert_int_equal(pthread_join(tb, NULL), 0);
    assert_int_equal(stops_called, 1);
    assert_true((a.status == 0 && b.status == ERR_NOT_DOING_BACKUP) ||
                (b.status == 0 && a.status == ERR_NOT_DOING_BACKUP));
    assert_int_equal(nsf_api_backup_info_size(db, ctx, 0, &lo, &hi), 0);
    assert_int_equal(nsf_api_backup_end(db, ctx, 0), 0);
    assert_int_equal(nsf_api_db_close(db), 0);
    assert_int_equal(recorders_live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup(test_memory_objects, setup),
        cmocka_unit_test_setup(test_load_string, setup),
        cmocka_unit_test_setup(test_db_handles, setup),
        cmocka_unit_test_setup(test_backup_call_order, setup),
        cmocka_unit_test_setup(test_end_waits_for_a_mark_in_flight, setup),
        cmocka_unit_test_setup(test_one_stop_at_a_time, setup),
        cmocka_unit_test_setup(test_apply_context, setup),
        cmocka_unit_test_setup(test_apply_bounded_by_announced_size, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
