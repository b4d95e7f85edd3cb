/*
 * The NSF backup engine: one library behind every face of the Domino
 * backup API (libs/nsf/native = libnotes.so, dlls/nnotes = nnotes.dll, the
 * `winbackup nsf` commands).
 *
 *   core/    portable, no OS calls: the change-info format (encoder and
 *            decoder state machines, CRC32C), the apply state machine,
 *            handles, error texts, LMBCS, and the API's argument and
 *            call-order rules over a table of platform operations;
 *   posix/   the Linux recorders (reflink + FIEMAP, read lease + side
 *            store), the cross-process backup lock, the apply sink;
 *   native/  the exported C API of libnotes.so over core + posix.
 *
 * Every function returns a Domino STATUS (0 = NOERROR, else ERR_xxx from
 * nsferr.h / oserr.h).  docs/nsf-changeinfo.md is the byte format;
 * docs/nsf-backup.md the per-file-system contract.
 */
#ifndef WINBACKUP_LIBS_NSF_H
#define WINBACKUP_LIBS_NSF_H

#include <stddef.h>
#include <stdint.h>

typedef uint16_t nsf_status;

/* ---------------------------------------------------------------- format */

#define NSF_CI_MAGIC              "WBNSFCI\0"
#define NSF_CI_VERSION            1
#define NSF_CI_HEADER_SIZE        64
#define NSF_CI_RECORD_HEADER_SIZE 24
#define NSF_CI_MAX_RECORD         (1u << 20)     /* largest record payload */
#define NSF_CI_REC_DATA           1
#define NSF_CI_REC_END            2
#define NSF_CI_REC_ZERO           3          /* a range that held zeros (a hole) at Start */
#define NSF_CI_MAX_ZERO           (1u << 30) /* largest ZERO record */

struct nsf_ci_header
{
    uint8_t backup_id[16];      /* random per backup: ties records to their stream */
    uint64_t start_size;        /* file size at NSFBackupStart */
    uint32_t record_max;        /* largest payload of a record, <= NSF_CI_MAX_RECORD */
    uint32_t flags;             /* 0 in version 1 */
};

uint32_t nsf_crc32c(uint32_t crc, const void *data, size_t size);

/* Where the encoder gets before-images: ranges in increasing, non-overlapping
 * order inside [0, start_size), and their bytes; *zero set for a range that
 * held only zeros at Start (no payload is read for it).  rewind() starts
 * over (the size is computed by one pass, the stream by another, so both
 * must see the same ranges). */
struct nsf_range_source_ops
{
    nsf_status (*rewind)(void *source);
    nsf_status (*next)(void *source, uint64_t *offset, uint64_t *length, int *zero);   /* length 0: no more */
    nsf_status (*read)(void *source, uint64_t offset, void *buffer, uint32_t size);
};

struct nsf_ci_encoder;
nsf_status nsf_ci_encoder_new(const struct nsf_ci_header *header, const struct nsf_range_source_ops *ops,
                              void *source, struct nsf_ci_encoder **encoder);
nsf_status nsf_ci_encoder_size(struct nsf_ci_encoder *encoder, uint64_t *size);
nsf_status nsf_ci_encoder_read(struct nsf_ci_encoder *encoder, void *buffer, uint32_t size, uint32_t *filled);
void nsf_ci_encoder_free(struct nsf_ci_encoder *encoder);

/* Where the decoder delivers verified records. */
struct nsf_ci_sink_ops
{
    nsf_status (*begin)(void *sink, const struct nsf_ci_header *header);
    nsf_status (*write)(void *sink, uint64_t offset, const void *data, uint32_t size);
    nsf_status (*zero)(void *sink, uint64_t offset, uint32_t size);
};

struct nsf_ci_decoder;
struct nsf_ci_decoder *nsf_ci_decoder_new(const struct nsf_ci_sink_ops *ops, void *sink);
nsf_status nsf_ci_decoder_feed(struct nsf_ci_decoder *decoder, const void *data, size_t size);
int nsf_ci_decoder_done(const struct nsf_ci_decoder *decoder);        /* END record seen and verified */
uint64_t nsf_ci_decoder_consumed(const struct nsf_ci_decoder *decoder);
const struct nsf_ci_header *nsf_ci_decoder_header(const struct nsf_ci_decoder *decoder);   /* NULL before it */
void nsf_ci_decoder_free(struct nsf_ci_decoder *decoder);

/* ---------------------------------------------------------------- texts */

/* OSLoadString's text for a status (ERR() applied), NULL if we have none. */
const char *nsf_status_text(nsf_status status);

/* LMBCS (optimization group 1) <-> UTF-8 / UTF-16.  Return the bytes (or
 * UTF-16 units) written, excluding the NUL they always add when room is
 * left; output stops at whole characters.  *bad is set when the input held
 * something not representable (replaced by '?'). */
size_t nsf_lmbcs_to_utf8(const char *in, size_t in_len, char *out, size_t out_size, int *bad);
size_t nsf_utf8_to_lmbcs(const char *in, size_t in_len, char *out, size_t out_size, int *bad);
size_t nsf_lmbcs_to_utf16(const char *in, size_t in_len, uint16_t *out, size_t out_units, int *bad);
size_t nsf_utf16_to_lmbcs(const uint16_t *in, size_t in_units, char *out, size_t out_size, int *bad);
/* OSTranslate for the modes that do not involve the native code page. */
int nsf_translate(uint16_t mode, const char *in, size_t in_len, char *out, size_t out_size, size_t *written);

/* ---------------------------------------------------------------- time */

/* A TIMEDATE (misc.h) from a POSIX time; zone_offset: the zone's standard
 * offset in seconds east of GMT, zone_has_dst: it observes daylight saving. */
void nsf_timedate_from_unix(int64_t seconds, uint32_t hundredths, int32_t zone_offset, int zone_has_dst,
                            uint32_t innards[2]);
/* The POSIX time (whole seconds) of a TIMEDATE with both a date and a time; 0 if it lacks one. */
int nsf_timedate_to_unix(const uint32_t innards[2], int64_t *seconds);

struct nsf_tfmt { uint8_t date, time, zone, structure; };     /* TFMT: TDFMT_xxx, TTFMT_xxx, ... */
/* ConvertTIMEDATEToText: format NULL is the default (full date and time,
 * no zone); local_offset gives this machine's offset from GMT (seconds
 * east, daylight saving time included) at a POSIX time; now is the current
 * POSIX time (for "Today" and the year of the partial formats).  The text
 * is not NUL-terminated; *length is 0 on error. */
nsf_status nsf_timedate_format(const uint32_t innards[2], const struct nsf_tfmt *format,
                               int32_t (*local_offset)(int64_t seconds), int64_t now, char *out, uint16_t size,
                               uint16_t *length);

/* ---------------------------------------------------------------- platform */

/* What a face provides: files by path, recorders, apply sinks. */
struct nsf_apply_sink_ops
{
    nsf_status (*begin)(void *sink, const uint8_t backup_id[16]);   /* mark the copy "apply in progress" */
    nsf_status (*write)(void *sink, uint64_t offset, const void *data, uint32_t size);
    nsf_status (*zero)(void *sink, uint64_t offset, uint32_t size);
    nsf_status (*finish)(void *sink, uint64_t start_size);        /* size, sync, clear the mark */
    void (*close)(void *sink);                                      /* the mark stays if set */
};

struct nsf_platform_ops
{
    nsf_status (*db_open)(const char *path, void **file);           /* path: LMBCS, local */
    nsf_status (*db_path)(void *file, char *expanded, size_t size);  /* LMBCS */
    void (*db_close)(void *file);
    nsf_status (*backup_start)(void *file, void **recorder, uint64_t *size);
    nsf_status (*backup_mark)(void *recorder, uint64_t mark);
    nsf_status (*backup_stop)(void *recorder);
    nsf_status (*backup_info_size)(void *recorder, uint64_t *size);
    nsf_status (*backup_info_read)(void *recorder, void *buffer, uint32_t size, uint32_t *filled);
    void (*backup_end)(void *recorder);
    nsf_status (*apply_open)(const char *path, void **sink);
    const struct nsf_apply_sink_ops *sink_ops;
};

/* ---------------------------------------------------------------- API core */

/* The face calls this once before any nsf_api_* call. */
void nsf_api_set_platform(const struct nsf_platform_ops *ops);

/* Handles (DHANDLE values, 32 bits on every platform we build) */
uint16_t nsf_api_notes_init(void);
void nsf_api_notes_term(void);
nsf_status nsf_api_db_open(const char *path, uint32_t *db);
nsf_status nsf_api_db_close(uint32_t db);
nsf_status nsf_api_db_path(uint32_t db, char *canonical, char *expanded);
nsf_status nsf_api_db_log_info(uint32_t db, uint32_t flags, int *logged, uint8_t log_id[16], uint8_t dbiid[16],
                               uint32_t *extent);
nsf_status nsf_api_backup_start(uint32_t db, uint32_t flags, uint32_t *context, uint32_t *size_low,
                                uint32_t *size_high);
nsf_status nsf_api_backup_stop(uint32_t db, uint32_t context);
nsf_status nsf_api_backup_end(uint32_t db, uint32_t context, uint32_t options);
nsf_status nsf_api_backup_mark(uint32_t db, uint32_t context, uint32_t low, uint32_t high);
nsf_status nsf_api_backup_info_size(uint32_t db, uint32_t context, uint32_t flags, uint32_t *low, uint32_t *high);
nsf_status nsf_api_backup_info_next(uint32_t db, uint32_t context, uint32_t flags, char *buffer, uint32_t size,
                                    uint32_t *filled);
nsf_status nsf_api_apply_start(uint32_t *context, const char *path, uint32_t flags, uint32_t size_low,
                               uint32_t size_high);
nsf_status nsf_api_apply_next(uint32_t context, uint32_t flags, const char *buffer, uint32_t size);
nsf_status nsf_api_apply_end(uint32_t context, uint32_t flags);
nsf_status nsf_api_mem_alloc(uint16_t type, uint32_t size, uint32_t *handle);
nsf_status nsf_api_mem_free(uint32_t handle);
nsf_status nsf_api_mem_size(uint32_t handle, uint32_t *size);
void *nsf_api_mem_lock(uint32_t handle);
int nsf_api_mem_unlock(uint32_t handle);
uint16_t nsf_api_load_string(uint16_t code, char *buffer, uint16_t size);

/* Media recovery and log archiving (core/recovery.c): argument checks, then
 * ERR_SERVER_NOT_TRANSLOGGED (NSFIsNewBackupNeeded: ERR_RM_GENERAL_FAILURE):
 * no file here is transaction-logged. */
nsf_status nsf_api_translog_style(uint16_t *style);
nsf_status nsf_api_archive_begin(void);
nsf_status nsf_api_archive_end(void);
nsf_status nsf_api_archive_next(const void *log_id, const uint32_t *number, const char *path);
nsf_status nsf_api_archive_done(const void *log_id, const uint32_t *number);
nsf_status nsf_api_recover(const char *names, uint32_t flags, int time_given, uint16_t *error_index);
nsf_status nsf_api_new_backup_needed(const char *name, uint32_t span, uint32_t *needed);
nsf_status nsf_api_take_offline(const char *path, uint32_t wait, uint32_t options);
nsf_status nsf_api_bring_online(const char *path, uint32_t options);

#endif
