/*
 * File History engine for Linux: the declarations shared by the engine
 * (fh_names, fh_config, fh_catalog, fh_cycle), the change journal, the
 * control protocol and the service.
 *
 * Layering: fh_names.c and fh_config.c are pure (strings and files only);
 * fh_util.c resolves paths below directory fds without following symbolic
 * links; fh_target.c opens and checks a target (identity, layout, catalog
 * files) through those; fh_catalog.c owns every SQL statement; fh_copy.c is
 * the only file that copies file data (a verified copy through the POSIX
 * source and sink of libwinbackup); fh_cycle.c runs cycles, cleanup and
 * restore; fh_progress.c holds the progress a cycle shows; fh_journal.c and
 * fh_proto.c are the OS-facing service parts; tools/filehistory holds the
 * faces (main.c the CLI, fh_daemon.c the service).
 *
 * Values of the FH_* / FHSVC_* / FHCFG_* constants are Microsoft's
 * (fherrors.h, fhcfg.h), see /work/shared/reference/file-history.md.
 */
#ifndef FILEHISTORY_FH_H
#define FILEHISTORY_FH_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>

/* Protection states (fherrors.h) */
#define FH_STATE_NOT_TRACKED            0x00u
#define FH_STATE_OFF                    0x01u
#define FH_STATE_DISABLED_BY_GP         0x02u   /* never set here: no group policy */
#define FH_STATE_FATAL_CONFIG_ERROR     0x03u
#define FH_STATE_MIGRATING              0x04u
#define FH_STATE_TARGET_FS_LIMITATION   0x0Du
#define FH_STATE_TARGET_ACCESS_DENIED   0x0Eu
#define FH_STATE_TARGET_FULL            0x11u
#define FH_STATE_TARGET_ABSENT          0x15u
#define FH_STATE_NO_ERROR               0xFFu
#define FH_STATE_RUNNING                0x100u

/* HRESULTs (fherrors.h, winerror.h) */
#define FH_S_OK                         0x00000000u
#define FHCFG_E_CORRUPT_CONFIG_FILE     0x80040300u
#define FHCFG_E_CONFIG_FILE_NOT_FOUND   0x80040301u
#define FHCFG_E_TARGET_NOT_CONFIGURED   0x80040307u
#define FHSVC_E_BACKUP_BLOCKED          0x80040600u
#define FHSVC_E_NOT_CONFIGURED          0x80040601u
#define FHSVC_E_CONFIG_DISABLED         0x80040602u
#define FHSVC_E_FATAL_CONFIG_ERROR      0x80040604u
#define FHCFG_E_CONFIG_ALREADY_EXISTS   0x80040302u
#define FHCFG_E_NO_VALID_CONFIGURATION_LOADED 0x80040303u
#define FHCFG_E_CONFIGURATION_PREVIOUSLY_LOADED 0x80040305u
#define FHCFG_E_TARGET_CANNOT_BE_USED   0x80040309u
#define FHCFG_E_RECOMMENDATION_CHANGE_NOT_ALLOWED 0x80040310u
#define FH_E_NOT_FOUND                  0x80070490u     /* HRESULT_FROM_WIN32(ERROR_NOT_FOUND) */
#define FH_E_UNEXPECTED                 0x8000FFFFu
#define FH_E_ACCESSDENIED               0x80070005u
#define FH_E_OUTOFMEMORY                0x8007000Eu
#define FH_E_INVALIDARG                 0x80070057u
#define FH_E_FAIL                       0x80004005u

/* FH_BACKUP_STATUS (fhcfg.h): the DPStatus element */
#define FH_STATUS_DISABLED              0
#define FH_STATUS_DISABLED_BY_GP        1
#define FH_STATUS_ENABLED               2

/* FH_RETENTION_TYPES (fhcfg.h) */
#define FH_RETENTION_DISABLED           0   /* keep every version forever */
#define FH_RETENTION_UNLIMITED          1   /* kept until space is needed: we keep forever too */
#define FH_RETENTION_AGE                2   /* delete versions older than retention_age days */

#define FH_DEFAULT_FREQUENCY            3600u
#define FH_DEFAULT_RETENTION_AGE        365u
/* Upper bounds the configuration accepts (the reader refuses a document
 * beyond them, so every writer checks them too) */
#define FH_MAX_FREQUENCY                (366ull * 86400)   /* seconds */
#define FH_MAX_RETENTION_AGE            36500ull           /* days */
#define FH_STATUS_REHYDRATING           3
#define FH_STATUS_MAX                   FH_STATUS_REHYDRATING
/* Entries a folder list may hold (the reader refuses longer lists) */
#define FH_MAX_LIST_ITEMS               1024

/* FH_PROTECTED_ITEM_CATEGORY, FH_LOCAL_POLICY_TYPE, FH_TARGET_DRIVE_TYPES,
 * FH_DEVICE_VALIDATION_RESULT (fhcfg.h) */
#define FH_CATEGORY_FOLDER              0
#define FH_CATEGORY_LIBRARY             1
#define FH_POLICY_FREQUENCY             0
#define FH_POLICY_RETENTION_TYPE        1
#define FH_POLICY_RETENTION_AGE         2
#define FH_DRIVE_UNKNOWN                0
#define FH_DRIVE_REMOVABLE              2
#define FH_DRIVE_FIXED                  3
#define FH_DRIVE_REMOTE                 4
#define FH_VALIDATION_ACCESS_DENIED     0
#define FH_VALIDATION_INVALID_DRIVE_TYPE 1
#define FH_VALIDATION_READ_ONLY         2
#define FH_VALIDATION_CURRENT_DEFAULT   3
#define FH_VALIDATION_NAMESPACE_EXISTS  4
#define FH_VALIDATION_PART_OF_LIBRARY   5
#define FH_VALIDATION_VALID             6

/* MAX_PATH counts the terminating NUL: a Windows path holds at most 259 characters. */
#define FH_WIN_MAX_PATH                 260u

/* ------------------------------------------------------------------ */
/* fh_names.c: version file names and the target layout               */

/* "YYYY_MM_DD HH_MM_SS UTC" (23 characters) */
#define FH_STAMP_LEN 23
int fh_format_stamp(time_t t, char *buf, size_t size);
/* "name (stamp).ext": the extension is what follows the last dot of the
 * final component; without a dot the stamp goes at the end.  NULL on a bad
 * name (empty, contains '/', "." or ".."). Caller frees. */
char *fh_version_name(const char *base, time_t t);
/* Inverse of fh_version_name: 0 and *base (malloc'ed) / *t on success, -1 otherwise. */
int fh_parse_version_name(const char *vname, char **base, time_t *t);
/* An absolute, normalized POSIX path ("/" separated, no "", "." or ".."
 * components, no trailing slash, no control characters) other than "/". */
int fh_path_is_valid(const char *path);
/* The same, but control characters allowed: any path a file can have
 * (what the catalog keys on; such names are stored under Data/$OF/). */
int fh_path_is_normalized(const char *path);
/* Can the version of path made at any time be stored as Data/C/<path>
 * (no control character, the version name fits NAME_MAX)? */
int fh_path_fits_data(const char *path);
/* "Data/C/<path without leading slash, dir part>/<vname>" for an absolute
 * path; NULL when the path is not valid. Caller frees. */
char *fh_data_relpath(const char *path, time_t t);
/* "Data/$OF/<file_id>/<vname>", the name made safe for any target file
 * system (control characters and \\ : * ? " < > | as '_', cut to fit
 * NAME_MAX with its extension kept).  NULL: not normalized, or no memory
 * (errno ENOMEM). */
char *fh_overflow_relpath(const char *path, long long file_id, time_t t);
/* Length of the Windows form ("Z:" + the POSIX path, '/' read as '\') of
 * root + "/" + relpath, without the NUL. */
size_t fh_windows_length(const char *root, const char *relpath);
/* Times accepted on the command line: "YYYY-MM-DDTHH:MM:SSZ",
 * "YYYY-MM-DD HH:MM:SS" (UTC), "YYYY-MM-DD" (end of that day, UTC),
 * "YYYY_MM_DD HH_MM_SS[ UTC]" and "@<seconds since the epoch>". */
int fh_parse_time(const char *text, time_t *t);
/* "YYYY-MM-DDTHH:MM:SSZ" */
void fh_format_iso(time_t t, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* fh_config.c                                                         */

struct fh_config
{
    char *user_name;
    char *pc_name;
    char *friendly_name;        /* FriendlyName: the GECOS name, or NULL (then UserName is written) */
    char *user_id;              /* UserId: a random GUID made once ("xxxxxxxx-xxxx-4xxx-..."), or NULL */
    char **folders;             /* protected folders, absolute paths */
    size_t folder_count;
    char **excludes;            /* excluded folders, absolute paths */
    size_t exclude_count;
    unsigned long long frequency;       /* DPFrequency, seconds */
    int retention_type;                 /* FH_RETENTION_* */
    unsigned long long retention_age;   /* days */
    int dp_status;                      /* FH_STATUS_* */
    char *target_name;
    char *target_url;                   /* absolute POSIX directory (no trailing '/'), or NULL */
    int target_drive_type;              /* FH_DRIVE_*: TargetDriveType, measured when saved */
    char *target_id;                    /* identity written on the target (TargetId), or NULL */
    unsigned long long generation;      /* bumped on every save; picks the newer of Config1/2 */
};

/* Defaults for the calling user (UserName from the passwd entry, PCName
 * from the host name, FriendlyName from GECOS, a new UserId, no folders, no
 * target). */
int fh_config_init_default(struct fh_config *cfg);
void fh_config_free(struct fh_config *cfg);
/* XML text of the configuration (malloc'ed) in Windows' Config1.xml schema
 * (see fh_config.c), NULL on an unrepresentable value. */
char *fh_config_to_xml(const struct fh_config *cfg);
/* 0, or FHCFG_E_CORRUPT_CONFIG_FILE when the text is not a valid
 * configuration.  Reads our documents, the dialect written before them, and
 * Windows' own (whose Windows paths are not protected folders or targets here). */
uint32_t fh_config_from_xml(const char *text, size_t len, struct fh_config *cfg);
/* Retention ages: days (the API, FH_RETENTION_AGE) <-> months (Windows 10's
 * MinimumRetentionAge), a month being 365/12 days, rounded to the nearest. */
unsigned long long fh_retention_months(unsigned long long days);
unsigned long long fh_retention_days(unsigned long long months);
/* FH_TARGET_DRIVE_TYPES of a directory: remote for network file systems,
 * removable below /media and /run/media, else fixed; unknown when it
 * cannot be reached. */
int fh_target_drive_type(const char *path);
/* Directory holding Config1.xml/Config2.xml: $XDG_CONFIG_HOME/filehistory or
 * $HOME/.config/filehistory. Caller frees. */
char *fh_config_dir(void);
/* Load the newer valid one of dir/Config1.xml and dir/Config2.xml.
 * FHCFG_E_CONFIG_FILE_NOT_FOUND when neither exists, FHCFG_E_CORRUPT_CONFIG_FILE
 * when they exist but none parses. */
uint32_t fh_config_load(const char *dir, struct fh_config *cfg);
/* The same from an open directory; neither copy is read through a symlink. */
uint32_t fh_config_load_at(int dirfd, struct fh_config *cfg);
/* Can the configuration's XML carry this text (valid UTF-8, no controls)? */
int fh_config_text_ok(const char *s);
#define FH_MAX_GENERATION (1ull << 62)  /* higher is a crafted file: it would wrap */
/* Bump the generation, complete what a saved configuration carries (UserId,
 * FriendlyName, the target's drive type) and write both copies, the older
 * first (each: tmp, fsync, rename).  0 or errno. */
int fh_config_save(const char *dir, struct fh_config *cfg);
/* Write cfg (same generation) to both copies in dir, leaving a copy that
 * holds exactly this document alone: the target mirror.  0 or errno. */
int fh_config_mirror(const char *dir, const struct fh_config *cfg);
/* Rewrite dir's configuration in the current form (fh_config_save) unless
 * both copies hold it already: 1 rewritten, 0 nothing to do (or nothing
 * loadable there), -1 with errno. */
int fh_config_upgrade(const char *dir);
/* Add / remove a string in a list (paths compared exactly). 0, or -1 (ENOMEM). */
int fh_config_list_add(char ***list, size_t *count, const char *item);
int fh_config_list_remove(char ***list, size_t *count, const char *item);
/* Is path at or below one of the folders in the list? */
int fh_path_under(const char *path, const char *folder);
/* Configuration/ directory on the target, and the FileHistory/<user>/<pc> root. */
char *fh_target_root(const struct fh_config *cfg);

/* ------------------------------------------------------------------ */
/* fh_winreg.c: what Windows' registry says about File History          */

struct fh_state;
struct fh_winreg
{
    int listed;                     /* HKLM\...\fhsvc\Parameters\Configs has the user's value */
    int protected_known;            /* HKCU\...\FileHistory has ProtectedUpToTime */
    uint64_t protected_filetime;    /* its value: FILETIME (100 ns since 1601, UTC) */
};
/* FILETIME of a time_t */
uint64_t fh_filetime(time_t t);
/* The entries for a configuration (cfg_status as fh_config_load returned it) and its state. */
void fh_winreg_from(uint32_t cfg_status, const struct fh_config *cfg, const struct fh_state *st,
                    struct fh_winreg *out);
/* The same for the configuration in config_dir, brought to the current form
 * first (fh_config_upgrade; *upgraded says whether it was rewritten, may be NULL). */
int fh_winreg_load(const char *config_dir, struct fh_winreg *out, int *upgraded);
/* "<listed> <FILETIME as 16 hex digits, or -> <config_dir>": the text of
 * the CFG_REGISTRY reply (malloc'ed). */
char *fh_winreg_text(const struct fh_winreg *reg, const char *config_dir);

/* ------------------------------------------------------------------ */
/* fh_target.c: a target, opened as directory fds                      */

struct fh_target
{
    int target_fd;          /* the configured directory */
    int root_fd;            /* FileHistory/<user>/<pc> */
    int conf_fd;            /* Configuration/ */
    int data_fd;            /* Data/ (-1 unless opened for a cycle) */
    int staging_fd;         /* Staging/ (-1 unless opened for a cycle) */
    char *root;             /* the root's path: messages, and SQLite */
    char *catalog;          /* Configuration/Catalog.sqlite */
};

#define FH_TARGET_CYCLE     0x1     /* check the identity, make Data/ and Staging/ */
#define FH_TARGET_NO_MEMORY 0xFFFFFFFFu /* fh_target_open: out of memory, nothing known of the target */
#define FH_TARGET_ID_FILE   "TargetId"
#define FH_TARGET_ID_LEN    32      /* hex characters */

/* Ownership rules of a shared target's directories (fh_target.c) */
#define FH_DIR_ABOVE    0       /* the target directory and those above it */
#define FH_DIR_SHARED   1       /* FileHistory/ */
#define FH_DIR_OURS     2       /* <user>, <pc> and below */
int fh_dir_check(int fd, int kind);

/* Open cfg's target: FH_STATE_NO_ERROR, or the state it is in (message in msg). */
uint32_t fh_target_open(const struct fh_config *cfg, unsigned int flags, struct fh_target *t,
                        char *msg, size_t msgsize);
void fh_target_close(struct fh_target *t);
/* Make FileHistory/<user>/<pc>/Configuration on cfg's target and give it an
 * identity (kept when it has one); sets cfg->target_id.  0 or -1 + msg. */
int fh_target_provision(struct fh_config *cfg, char *msg, size_t msgsize);
/* Write cfg to Configuration/Config{1,2}.xml of an open target unless the
 * newest copy there has its generation already.  0 or -1/errno. */
int fh_target_mirror_config(const struct fh_target *t, const struct fh_config *cfg);
/* Keep Configuration/Reserve at its size where there is room (0), and give
 * its space back for a catalog write that found the target full (1: there
 * was some to give). */
int fh_target_keep_reserve(const struct fh_target *t);
int fh_target_release_reserve(const struct fh_target *t);

/* ------------------------------------------------------------------ */
/* fh_cfgmgr.c: IFhConfigMgr / IFhReassociation as engine code          */

struct fh_cfgmgr;
struct fh_cfgmgr *fh_cfgmgr_new(const char *config_dir);
void fh_cfgmgr_free(struct fh_cfgmgr *m);
int fh_cfgmgr_loaded(const struct fh_cfgmgr *m);
const struct fh_config *fh_cfgmgr_config(const struct fh_cfgmgr *m);
uint32_t fh_cfgmgr_load(struct fh_cfgmgr *m);
/* A folder the default configuration protects when it exists (the user's libraries). */
uint32_t fh_cfgmgr_add_library(struct fh_cfgmgr *m, const char *path);
uint32_t fh_cfgmgr_create_default(struct fh_cfgmgr *m, int overwrite);
uint32_t fh_cfgmgr_save(struct fh_cfgmgr *m);
uint32_t fh_cfgmgr_exclude(struct fh_cfgmgr *m, int add, int category, const char *path);
/* A copy of the rules (caller frees with fh_strv_free). */
uint32_t fh_cfgmgr_rules(struct fh_cfgmgr *m, int include, int category, char ***items, size_t *count);
uint32_t fh_cfgmgr_get_policy(struct fh_cfgmgr *m, int type, unsigned long long *value);
uint32_t fh_cfgmgr_set_policy(struct fh_cfgmgr *m, int type, unsigned long long value);
uint32_t fh_cfgmgr_get_status(struct fh_cfgmgr *m, int *status);
uint32_t fh_cfgmgr_set_status(struct fh_cfgmgr *m, int status);
uint32_t fh_cfgmgr_target(struct fh_cfgmgr *m, const char **name, const char **url);
uint32_t fh_cfgmgr_target_drive_type(struct fh_cfgmgr *m, int *type);
uint32_t fh_cfgmgr_validate_target(struct fh_cfgmgr *m, const char *path, int *result);
uint32_t fh_cfgmgr_provision(struct fh_cfgmgr *m, const char *path, const char *name);
uint32_t fh_cfgmgr_recommend(struct fh_cfgmgr *m, int recommend);
uint32_t fh_cfgmgr_reassoc_validate(struct fh_cfgmgr *m, const char *path, int *result);
uint32_t fh_cfgmgr_scan(struct fh_cfgmgr *m, const char *path);
size_t fh_cfgmgr_found_count(const struct fh_cfgmgr *m);
uint32_t fh_cfgmgr_found(const struct fh_cfgmgr *m, unsigned long index, const char **user, const char **pc,
                         time_t *backup_time);
uint32_t fh_cfgmgr_select(struct fh_cfgmgr *m, unsigned long index);
uint32_t fh_cfgmgr_reassociate(struct fh_cfgmgr *m, int overwrite);
uint32_t fh_hresult_from_errno(int error);

/* ------------------------------------------------------------------ */
/* fh_cfgproto.c: the configuration commands of the service protocol  */

struct fh_cfgproto_env
{
    const char *config_dir;
    /* the protection state as STATUS reports it (FH_STATE_RUNNING included) */
    uint32_t (*protection)(void *ctx, time_t *protected_until);
    /* a configuration was written: reload it */
    void (*changed)(void *ctx);
    void *ctx;
};
struct fh_cfgsession;
void fh_cfgsession_free(struct fh_cfgsession *s);
/* Handles line when it is a configuration command: returns 1 with *hr and
 * text (may be empty) filled, creating *session on first use; 0 when the
 * line is not one (the caller handles it). line is modified. */
int fh_cfgproto_handle(struct fh_cfgsession **session, const struct fh_cfgproto_env *env, char *line,
                       uint32_t *hr, char *text, size_t textsize);
/* Percent-encoding of the protocol (docs/fh-protocol.md): 0 or -1. */
int fh_proto_decode(const char *in, char *out, size_t outsize, size_t *outlen);
size_t fh_proto_encode(const char *in, size_t inlen, char *out, size_t outsize, size_t *consumed);

/* ------------------------------------------------------------------ */
/* fh_catalog.c                                                        */

struct fh_catalog;

struct fh_version
{
    long long id;
    long long file_id;
    long long cycle_id;
    char *stored;           /* relative to the FileHistory/<user>/<pc> root */
    time_t version_time;    /* the cycle time in the name */
    long long size;
    long long mtime_ns;
    long long ctime_ns;
    long long inode;
};

#define FH_CYCLE_RUNNING     0
#define FH_CYCLE_DONE        1
#define FH_CYCLE_FAILED      2
#define FH_CYCLE_INTERRUPTED 3

/* 0, or -1 with *cat NULL (no memory) or a handle that only answers
 * fh_catalog_error* and fh_catalog_errmsg (close it). */
int fh_catalog_open(const char *path, struct fh_catalog **cat);
void fh_catalog_close(struct fh_catalog *cat);
const char *fh_catalog_errmsg(struct fh_catalog *cat);
/* The last error as a Win32 code (SQLite's errno through the one errno
 * mapping), and the FH_STATE_* it means for the target (full, gone, denied). */
uint32_t fh_catalog_error(struct fh_catalog *cat);
uint32_t fh_catalog_error_state(struct fh_catalog *cat);
/* The file's id, created when create is set; 0 with *id = 0 when absent. */
int fh_catalog_file_id(struct fh_catalog *cat, const char *path, int create, long long *id);
/* Newest version of path: 1 found, 0 none, -1 error. */
int fh_catalog_latest(struct fh_catalog *cat, const char *path, struct fh_version *v);
/* Newest version of path with version_time <= at: 1, 0, -1. */
int fh_catalog_version_at(struct fh_catalog *cat, const char *path, time_t at, struct fh_version *v);
void fh_version_free(struct fh_version *v);
typedef int (*fh_version_cb)(void *ctx, const char *path, const struct fh_version *v);
int fh_catalog_list_versions(struct fh_catalog *cat, const char *path, fh_version_cb cb, void *ctx);
int fh_catalog_list_all(struct fh_catalog *cat, fh_version_cb cb, void *ctx);
/* Highest cycle start time recorded (0 when none). */
int fh_catalog_last_cycle_time(struct fh_catalog *cat, time_t *t);
int fh_catalog_begin_cycle(struct fh_catalog *cat, time_t t, int full_scan, long long *cycle_id);
int fh_catalog_end_cycle(struct fh_catalog *cat, long long cycle_id, int state, long long examined,
                         long long added, uint32_t status);
/* Announce that `stored` is about to appear (before its rename into place). */
int fh_catalog_add_pending(struct fh_catalog *cat, const char *stored, long long cycle_id);
/* The announced file will not appear after all (it was removed). */
int fh_catalog_delete_pending(struct fh_catalog *cat, const char *stored);
/* Group the calls between them into one transaction (BEGIN IMMEDIATE /
 * COMMIT); rollback keeps the error message and does nothing outside one. */
int fh_catalog_begin(struct fh_catalog *cat);
int fh_catalog_commit(struct fh_catalog *cat);
void fh_catalog_rollback(struct fh_catalog *cat);
/* The version row and the end of its pending entry (inside a transaction:
 * the caller's; its file must be durable at its place already). */
int fh_catalog_add_version(struct fh_catalog *cat, long long file_id, long long cycle_id,
                           const char *stored, time_t t, const struct stat *st);
/* Crash recovery: calls cb for every pending entry that has no version row
 * (the caller deletes that file), clears the pending table and marks
 * running cycles interrupted. */
typedef int (*fh_pending_cb)(void *ctx, const char *stored);
int fh_catalog_recover(struct fh_catalog *cat, fh_pending_cb cb, void *ctx);
/* Cleanup: versions with version_time < cutoff that are not the newest of
 * their file; each is moved to pending (one transaction) then cb deletes the
 * file, then the pending entry goes. Returns the number removed or -1. */
long long fh_catalog_expire(struct fh_catalog *cat, time_t cutoff, fh_pending_cb cb, void *ctx);
int fh_catalog_set_status(struct fh_catalog *cat, const char *key, const char *value);
/* malloc'ed value or NULL */
char *fh_catalog_get_status(struct fh_catalog *cat, const char *key);
/* Counters of the last finished cycle: -1 on error/none. */
int fh_catalog_last_cycle(struct fh_catalog *cat, long long *id, int *state, int *full_scan,
                          long long *examined, long long *added);

/* ------------------------------------------------------------------ */
/* fh_util.c: file helpers                                             */

int fh_write_all(int fd, const void *buf, size_t len);
/* Write data to path atomically (a random O_EXCL temporary name in the same
 * dir, fsync, rename, fsync dir). 0 or -1/errno. */
int fh_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* The same for name in dirfd. */
int fh_write_beneath_atomic(int dirfd, const char *name, const char *data, size_t len, mode_t mode);
/* Open relpath below dirfd without following any symbolic link (ELOOP) or
 * leaving dirfd; relpath has no "", ".", ".." component (EINVAL). */
int fh_open_beneath(int dirfd, const char *relpath, int flags, mode_t mode);
/* The same for a regular file only: anything else (a device node, a FIFO)
 * is ENXIO and never opened (its driver's open() could act: a watchdog, a
 * tape).  With O_CREAT, a new file is made with O_EXCL. */
int fh_open_regular_beneath(int dirfd, const char *relpath, int flags, mode_t mode);
/* mkdir -p of relpath below dirfd, never through a symbolic link; an
 * O_RDONLY | O_DIRECTORY fd of the last directory, or -1/errno. */
int fh_mkdirs_beneath(int dirfd, const char *relpath, mode_t mode);
/* Unlink relpath below dirfd (its directories resolved as above). */
int fh_unlink_beneath(int dirfd, const char *relpath);
/* 2 * bytes random lowercase hex characters and a NUL. */
int fh_random_hex(char *out, size_t bytes);
/* One line "<time> filehistory[pid]: message" on fd (nothing when fd < 0). */
void fh_log(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* mkdir -p; 0 or -1/errno */
int fh_mkdir_p(const char *path, mode_t mode);
int fh_fsync_dir(const char *dir);
/* malloc'ed a + "/" + b */
char *fh_join(const char *a, const char *b);

/* ------------------------------------------------------------------ */
/* fh_util.c: the per-user protection state kept next to the configuration */

struct fh_state
{
    uint32_t state;         /* FH_STATE_* without FH_STATE_RUNNING */
    time_t protected_until; /* 0 = never */
    long long not_backed_up;/* files the last cycle could not back up */
};
int fh_state_load(const char *config_dir, struct fh_state *st);
int fh_state_save(const char *config_dir, const struct fh_state *st);

/* ------------------------------------------------------------------ */
/* fh_progress.c: what a running cycle has done, shared with its viewers */

/* Written by one cycle (its walk and its scan thread), read by anyone:
 * the CLI drawing it, the service answering PROGRESS (the service keeps
 * it in memory shared with the cycle's process).  Every counter is read
 * and written whole (atomically); `current` is guarded by `seq` (odd while
 * it changes). */
struct fh_progress
{
    int64_t started_ms;         /* CLOCK_REALTIME, ms; 0: no cycle */
    int64_t files_total;        /* regular files the scan found; -1 while it counts */
    int64_t bytes_total;        /* their size; -1 while it counts */
    int64_t files_done;         /* files examined (copied, unchanged or given up) */
    int64_t bytes_done;         /* their size */
    int64_t versions;           /* versions committed */
    int64_t bytes_copied;       /* data copied this cycle */
    int64_t not_backed_up;      /* files that could not be backed up */
    uint32_t seq;
    char current[1024];         /* the file being examined */
};

struct fh_progress_view         /* a consistent copy of the above */
{
    int64_t elapsed_ms, files_total, bytes_total, files_done, bytes_done, versions, bytes_copied, not_backed_up;
    double rate;                /* bytes_done per second */
    int64_t eta_seconds;        /* -1: unknown */
    char current[1024];
};

void fh_progress_start(struct fh_progress *p);
void fh_progress_set_current(struct fh_progress *p, const char *path);
void fh_progress_add(int64_t *counter, int64_t n);
void fh_progress_set(int64_t *counter, int64_t v);
void fh_progress_read(const struct fh_progress *p, struct fh_progress_view *v);
/* "N/M files, X/Y, R/s, ETA H:MM:SS, current" fitted to width columns. */
void fh_progress_format(const struct fh_progress_view *v, int width, char *buf, size_t size);
/* "123.4 MiB" */
void fh_format_bytes(double bytes, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* fh_copy.c: one verified copy of a file                               */

enum fh_copy_status
{
    FH_COPY_DONE,           /* the copy holds a state the file had: out->st */
    FH_COPY_GONE,           /* the file vanished or is no longer a regular file */
    FH_COPY_BUSY,           /* it changed during every attempt: try again later */
    FH_COPY_SOURCE_ERROR,   /* it cannot be read (out->error) */
    FH_COPY_TARGET_ERROR,   /* the copy cannot be written (out->error) */
    FH_COPY_NO_MEMORY,
};

struct fh_copy_outcome
{
    enum fh_copy_status status;
    uint32_t error;             /* Win32 code of the failure */
    struct stat st;             /* the file's state the copy holds */
    int unverified;             /* a clone whose timestamps cannot prove that state (see fh_copy.c) */
    int cloned;                 /* the data came from a reflink clone */
    int attempts;
    int64_t bytes;              /* data bytes copied */
    unsigned int dropped;       /* named streams and EAs the source left out */
};

/* Copy the file at path (never following a final symlink) into a new file
 * `name` made in dir_fd, with its Windows metadata and without syncing it.
 * progress (may be NULL) sees the data bytes as they are copied. */
void fh_copy_version(const char *path, int dir_fd, const char *name, struct fh_progress *progress,
                     struct fh_copy_outcome *out);
/* Restore: the regular file open at src_fd onto name in dest_dir_fd, through
 * a temporary file renamed over name once complete and synced; a symbolic
 * link is never created.  Owner, group and mode never come from the target
 * (see set_restored_owner in fh_copy.c), nor does its security descriptor.
 * Win32 code. */
uint32_t fh_copy_restore(int src_fd, int dest_dir_fd, const char *name);
/* Tests only: 0 turns reflink clones off. */
extern int fh_copy_clone_enabled;

/* ------------------------------------------------------------------ */
/* fh_cycle.c                                                          */

struct fh_cycle_options
{
    int full_scan;                  /* walk every protected folder */
    char **dirty;                   /* else: only these paths (files or new directories) */
    size_t dirty_count;
    volatile sig_atomic_t *cancel;  /* set asynchronously to stop between files */
    int progress_fd;                /* -1, or a terminal to draw progress on */
    int log_fd;                     /* -1, or where to log each file not backed up */
    struct fh_progress *progress;   /* NULL, or where to publish progress */
    /* Tests only (NULL otherwise): called after each step of a batch flush
     * (FH_FLUSH_*); a non-zero return abandons the cycle right there, as a
     * kill -9 would (nothing cleaned up, the cycle stays "running"). */
    int (*flush_hook)(void *ctx, int step);
    void *flush_ctx;
};

/* Steps of a batch flush, in order (see fh_cycle.c) */
#define FH_FLUSH_SYNCED    1    /* staged copies durable */
#define FH_FLUSH_PENDING   2    /* their pending entries committed */
#define FH_FLUSH_RENAMED   3    /* renamed into Data/ */
#define FH_FLUSH_DURABLE   4    /* the renames durable */
#define FH_FLUSH_COMMITTED 5    /* the version rows committed */

struct fh_cycle_result
{
    uint32_t state;                 /* FH_STATE_*: what the cycle says about the target */
    uint32_t error;                 /* Win32 code when the cycle failed for a reason that is
                                       not the target's (ERROR_NOT_ENOUGH_MEMORY), else 0 */
    time_t cycle_time;
    long long examined;             /* files stat'ed */
    long long added;                /* versions created */
    long long not_backed_up;        /* files that could not be backed up (each one logged) */
    long long cycle_id;
    char message[256];
};

/* One backup cycle for cfg (see fh_cycle.c for the crash-safety rules). */
uint32_t fh_cycle_run(const struct fh_config *cfg, const char *config_dir,
                      const struct fh_cycle_options *opt, struct fh_cycle_result *res);
/* What the next cycle would clean up after a killed one, now: the partial
 * copy in Staging/ and pending version files. */
void fh_cycle_recover(const struct fh_config *cfg, const char *config_dir);
/* Delete versions older than days (keeping every file's newest). -1 on error. */
long long fh_cleanup(const struct fh_config *cfg, unsigned long long days, char *msg, size_t msgsize);
/* Restore path as of `at` to dest (NULL: the original path). 0 or -1 + msg. */
int fh_restore(const struct fh_config *cfg, const char *path, time_t at, const char *dest_dir,
               char *msg, size_t msgsize);
/* The one mapping from a failure to the state of the target: a Win32 code
 * (libwinbackup's, or wb_win32_error_from_errno's) to an FH_STATE_*. */
uint32_t fh_state_from_error(uint32_t win32);
uint32_t fh_state_from_errno(int error);

/* ------------------------------------------------------------------ */
/* fh_journal.c: inotify change journal over the protected folders     */

struct fh_journal;
struct fh_journal *fh_journal_create(const struct fh_config *cfg);
void fh_journal_free(struct fh_journal *j);
int fh_journal_fd(const struct fh_journal *j);
/* Read and record pending events (non-blocking). */
void fh_journal_read(struct fh_journal *j);
/* Does the next cycle need a full scan (start, overflow, lost watch)? */
int fh_journal_needs_full(const struct fh_journal *j);
/* Snapshot of the changed paths; *mark identifies it for fh_journal_done. */
char **fh_journal_snapshot(struct fh_journal *j, size_t *count, unsigned long long *mark);
/* A cycle that used the snapshot `mark` (full or not) completed: forget
 * what it covered; events that came later stay. */
void fh_journal_done(struct fh_journal *j, unsigned long long mark, int was_full);
void fh_strv_free(char **v, size_t n);

/* ------------------------------------------------------------------ */
/* fh_proto.c: the control protocol of docs/fh-protocol.md            */

#define FH_PROTO_MAX_LINE 256
#define FH_HELLO_TIMEOUT_MS 3000    /* a connection that has not said HELLO by then is closed */
#define FH_CLIENT_TIMEOUT_S 60      /* the CLI gives up on a service silent for that long */
char *fh_endpoint_path(void);
/* The service's log when it runs detached: $XDG_STATE_HOME/filehistory/filehistory.log,
 * default ~/.local/state/filehistory/filehistory.log. Caller frees. */
char *fh_log_path(void);
/* Connect and authenticate; returns the socket or -1 (errno set; ECONNREFUSED/ENOENT = no service). */
int fh_client_connect(void);
/* Send one request line (without \n) and read the reply: 0 with *hr and
 * text (may be empty) filled, -1 on a transport error. */
int fh_client_request(int sock, const char *request, uint32_t *hr, char *text, size_t textsize);
/* Read one line from a blocking socket (strips \r\n). 1 line, 0 EOF, -1 error/too long. */
int fh_read_line(int fd, char *buf, size_t size);
/* The uid owning the other end of a loopback TCP connection: 0 or -1. */
int fh_peer_uid(int sock, uid_t *uid);
/* Is this socket's peer (a loopback TCP connection) owned by uid? */
int fh_peer_uid_matches(int sock, uid_t uid);

/* ------------------------------------------------------------------ */
/* fh_daemon.c                                                         */

int fh_daemon_main(int detach);

#endif
