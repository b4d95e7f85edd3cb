/*
 * The configuration manager: what IFhConfigMgr and IFhReassociation do, as
 * engine code over the one per-user configuration (fh_config.c).  The COM
 * classes in dlls/fhcfg reach it through the service (fh_cfgproto.c); the
 * CLI and the service use fh_config.c directly.  Nothing here knows COM or
 * the wire format: paths are absolute POSIX paths, results are HRESULTs.
 *
 * One struct fh_cfgmgr is one COM object's view (a protocol connection):
 *
 *   unloaded --load / create_default / reassociate--> loaded
 *
 * Every method but load, create_default and the reassociation ones needs
 * "loaded" (FHCFG_E_NO_VALID_CONFIGURATION_LOADED otherwise, as fhcfg.h's
 * documentation says: LoadConfiguration or CreateDefaultConfiguration first).
 * Changes stay in the object until save writes them (fh_config_save: the
 * older of the two copies, atomically); the caller then tells the service.
 *
 * Targets and configurations found on them are someone else's data:
 * provisioning creates FileHistory/<user>/<pc>/Configuration one directory
 * at a time without following links; scanning opens each level with
 * O_NOFOLLOW, reads at most FH_MAX_SCAN configurations through the hardened
 * reader, and only keeps one whose UserName/PCName equal the directory
 * names it was found under (else reassociation would point at other data).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fh.h"

#define FH_MAX_SCAN 256     /* configurations kept from one target */
#define FH_MAX_SCAN_DIRS 1024               /* <user>/<pc> directories looked at in one scan */
#define FH_MAX_SCAN_BYTES (32u << 20)       /* configuration bytes parsed in one scan */

struct fh_found
{
    struct fh_config cfg;
    time_t backup_time;
};

struct fh_cfgmgr
{
    char *config_dir;
    int loaded;
    struct fh_config cfg;
    char **library_candidates;      /* folders a default configuration protects */
    size_t library_candidate_count;
    /* reassociation */
    char *scanned_target;
    struct fh_found *found;
    size_t found_count;
    long selected;                  /* index in found, -1 = none */
    int target_changed;             /* provisioned since the last save: reset the state on save */
};

struct fh_cfgmgr *fh_cfgmgr_new(const char *config_dir)
{
    struct fh_cfgmgr *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    if (!(m->config_dir = strdup(config_dir))) { free(m); return NULL; }
    m->selected = -1;
    return m;
}

static void free_found(struct fh_cfgmgr *m)
{
    for (size_t i = 0; i < m->found_count; i++) fh_config_free(&m->found[i].cfg);
    free(m->found);
    free(m->scanned_target);
    m->found = NULL;
    m->found_count = 0;
    m->scanned_target = NULL;
    m->selected = -1;
}

void fh_cfgmgr_free(struct fh_cfgmgr *m)
{
    if (!m) return;
    if (m->loaded) fh_config_free(&m->cfg);
    fh_strv_free(m->library_candidates, m->library_candidate_count);
    free_found(m);
    free(m->config_dir);
    free(m);
}

int fh_cfgmgr_loaded(const struct fh_cfgmgr *m)
{
    return m->loaded;
}

const struct fh_config *fh_cfgmgr_config(const struct fh_cfgmgr *m)
{
    return m->loaded ? &m->cfg : NULL;
}

static int is_directory(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------------------ */
/* load, create, save                                                  */

uint32_t fh_cfgmgr_load(struct fh_cfgmgr *m)
{
    uint32_t hr;
    if (m->loaded) return FHCFG_E_CONFIGURATION_PREVIOUSLY_LOADED;
    if ((hr = fh_config_load(m->config_dir, &m->cfg))) return hr;
    m->loaded = 1;
    return FH_S_OK;
}

/* The folder a path names, links resolved (a Wine prefix's shell folders
 * are links to the user's own folders: those are what gets protected); a
 * path that does not exist (yet) stays as it is.  NULL when invalid. */
static char *canonical(const char *path)
{
    char *real;
    if (!path || !fh_path_is_valid(path)) return NULL;
    if ((real = realpath(path, NULL)))
    {
        if (fh_path_is_valid(real)) return real;
        free(real);
        return NULL;
    }
    return strdup(path);
}

/* Is path the user's home directory or a folder above it?  Wine links a
 * shell folder whose XDG folder does not exist (no ~/Videos) to $HOME
 * itself; protecting that would copy ~/.ssh and the rest of the home. */
static int holds_home(const char *path)
{
    const char *home = getenv("HOME");
    struct passwd *pw;
    char *real_home;
    int holds;

    if ((!home || home[0] != '/') && (pw = getpwuid(geteuid()))) home = pw->pw_dir;
    if (!home || home[0] != '/') return 0;
    if (!(real_home = realpath(home, NULL))) return !strcmp(path, home) || fh_path_under(home, path);
    holds = !strcmp(path, real_home) || fh_path_under(real_home, path);
    free(real_home);
    return holds;
}

uint32_t fh_cfgmgr_add_library(struct fh_cfgmgr *m, const char *path)
{
    char *real;
    uint32_t hr;

    if (!(real = canonical(path))) return FH_E_INVALIDARG;
    if (holds_home(real)) hr = FH_S_OK;     /* not a library: left out of the default scope */
    else if (m->library_candidate_count >= FH_MAX_LIST_ITEMS) hr = FH_E_INVALIDARG;
    else if (fh_config_list_add(&m->library_candidates, &m->library_candidate_count, real)) hr = FH_E_OUTOFMEMORY;
    else hr = FH_S_OK;
    free(real);
    return hr;
}

/* Is there a configuration (valid or not) for this user already? */
static int config_exists(const char *dir)
{
    struct fh_config cfg;
    uint32_t hr = fh_config_load(dir, &cfg);
    if (!hr) fh_config_free(&cfg);
    return hr != FHCFG_E_CONFIG_FILE_NOT_FOUND;
}

uint32_t fh_cfgmgr_create_default(struct fh_cfgmgr *m, int overwrite)
{
    struct fh_config cfg;
    int err;

    if (m->loaded) return FHCFG_E_CONFIGURATION_PREVIOUSLY_LOADED;
    if (!overwrite && config_exists(m->config_dir)) return FHCFG_E_CONFIG_ALREADY_EXISTS;
    if (fh_config_init_default(&cfg)) return FH_E_OUTOFMEMORY;
    /* the user's libraries that exist; File History starts turned off until
     * a target is provisioned and SetBackupStatus turns it on */
    for (size_t i = 0; i < m->library_candidate_count; i++)
    {
        if (!is_directory(m->library_candidates[i])) continue;
        if (fh_config_list_add(&cfg.folders, &cfg.folder_count, m->library_candidates[i]))
        {
            fh_config_free(&cfg);
            return FH_E_OUTOFMEMORY;
        }
    }
    cfg.dp_status = FH_STATUS_DISABLED;
    if ((err = fh_config_save(m->config_dir, &cfg)))
    {
        fh_config_free(&cfg);
        return fh_hresult_from_errno(err);
    }
    m->cfg = cfg;
    m->loaded = 1;
    return FH_S_OK;
}

uint32_t fh_cfgmgr_save(struct fh_cfgmgr *m)
{
    int err;
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    if ((err = fh_config_save(m->config_dir, &m->cfg))) return fh_hresult_from_errno(err);
    if (m->target_changed)
    {
        /* the old target's state (full, absent...) says nothing about the new
         * one; before this save the old target was still the user's */
        struct fh_state fresh;
        memset(&fresh, 0, sizeof(fresh));
        fresh.state = FH_STATE_NO_ERROR;
        fh_state_save(m->config_dir, &fresh);
        m->target_changed = 0;
    }
    return FH_S_OK;
}

/* ------------------------------------------------------------------ */
/* rules                                                               */

static int is_protected_folder(const struct fh_config *cfg, const char *path)
{
    for (size_t i = 0; i < cfg->folder_count; i++) if (!strcmp(cfg->folders[i], path)) return 1;
    return 0;
}

static int in_list(char **list, size_t count, const char *item)
{
    for (size_t i = 0; i < count; i++) if (!strcmp(list[i], item)) return 1;
    return 0;
}

/* Our configuration has one list of protected folders (the user's libraries:
 * under Wine the folders the shell folders map to) and one of excluded
 * folders.  An excluded library is the exclusion of one of the protected
 * folders itself; any other exclusion is a folder exclusion. */
static uint32_t exclude(struct fh_cfgmgr *m, int add, int category, const char *path);

uint32_t fh_cfgmgr_exclude(struct fh_cfgmgr *m, int add, int category, const char *path)
{
    char *real;
    uint32_t hr;

    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    if ((category != FH_CATEGORY_FOLDER && category != FH_CATEGORY_LIBRARY) || !(real = canonical(path)))
        return FH_E_INVALIDARG;
    /* a value SaveConfiguration could not write is refused now, not at save */
    if (add && !fh_config_text_ok(real)) { free(real); return FH_E_INVALIDARG; }
    hr = exclude(m, add, category, real);
    free(real);
    return hr;
}

static uint32_t exclude(struct fh_cfgmgr *m, int add, int category, const char *path)
{
    if (category == FH_CATEGORY_LIBRARY && !is_protected_folder(&m->cfg, path)) return FH_E_NOT_FOUND;
    if (category == FH_CATEGORY_FOLDER && is_protected_folder(&m->cfg, path)) return FH_E_INVALIDARG;
    if (!add)
    {
        if (!in_list(m->cfg.excludes, m->cfg.exclude_count, path)) return FH_E_NOT_FOUND;
        fh_config_list_remove(&m->cfg.excludes, &m->cfg.exclude_count, path);
        return FH_S_OK;
    }
    if (m->cfg.exclude_count >= FH_MAX_LIST_ITEMS && !in_list(m->cfg.excludes, m->cfg.exclude_count, path))
        return FH_E_INVALIDARG;
    return fh_config_list_add(&m->cfg.excludes, &m->cfg.exclude_count, path) ? FH_E_OUTOFMEMORY : FH_S_OK;
}

uint32_t fh_cfgmgr_rules(struct fh_cfgmgr *m, int include, int category, char ***items, size_t *count)
{
    char **out = NULL;
    size_t n = 0;

    *items = NULL;
    *count = 0;
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    if (category != FH_CATEGORY_FOLDER && category != FH_CATEGORY_LIBRARY) return FH_E_INVALIDARG;
    if (include && category == FH_CATEGORY_LIBRARY)
    {
        for (size_t i = 0; i < m->cfg.folder_count; i++)
            if (fh_config_list_add(&out, &n, m->cfg.folders[i])) goto oom;
    }
    else if (!include)
    {
        for (size_t i = 0; i < m->cfg.exclude_count; i++)
        {
            int library = is_protected_folder(&m->cfg, m->cfg.excludes[i]);
            if (library != (category == FH_CATEGORY_LIBRARY)) continue;
            if (fh_config_list_add(&out, &n, m->cfg.excludes[i])) goto oom;
        }
    }
    *items = out;
    *count = n;
    return FH_S_OK;
oom:
    fh_strv_free(out, n);
    return FH_E_OUTOFMEMORY;
}

/* ------------------------------------------------------------------ */
/* policies and status                                                 */

uint32_t fh_cfgmgr_get_policy(struct fh_cfgmgr *m, int type, unsigned long long *value)
{
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    switch (type)
    {
    case FH_POLICY_FREQUENCY: *value = m->cfg.frequency; return FH_S_OK;
    case FH_POLICY_RETENTION_TYPE: *value = (unsigned long long)m->cfg.retention_type; return FH_S_OK;
    case FH_POLICY_RETENTION_AGE: *value = m->cfg.retention_age; return FH_S_OK;
    default: return FH_E_INVALIDARG;
    }
}

/* The limits are the reader's: a value it would refuse is never written. */
uint32_t fh_cfgmgr_set_policy(struct fh_cfgmgr *m, int type, unsigned long long value)
{
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    switch (type)
    {
    case FH_POLICY_FREQUENCY:
        if (!value || value > FH_MAX_FREQUENCY) return FH_E_INVALIDARG;
        m->cfg.frequency = value;
        return FH_S_OK;
    case FH_POLICY_RETENTION_TYPE:
        if (value > FH_RETENTION_AGE) return FH_E_INVALIDARG;
        m->cfg.retention_type = (int)value;
        return FH_S_OK;
    case FH_POLICY_RETENTION_AGE:
        if (!value || value > FH_MAX_RETENTION_AGE) return FH_E_INVALIDARG;
        m->cfg.retention_age = value;
        return FH_S_OK;
    default:
        return FH_E_INVALIDARG;
    }
}

uint32_t fh_cfgmgr_get_status(struct fh_cfgmgr *m, int *status)
{
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    *status = m->cfg.dp_status;
    return FH_S_OK;
}

/* Only the user's own choices: group policy and rehydration are set by the system. */
uint32_t fh_cfgmgr_set_status(struct fh_cfgmgr *m, int status)
{
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    if (status != FH_STATUS_DISABLED && status != FH_STATUS_ENABLED) return FH_E_INVALIDARG;
    m->cfg.dp_status = status;
    return FH_S_OK;
}

/* ------------------------------------------------------------------ */
/* targets                                                             */

uint32_t fh_cfgmgr_target(struct fh_cfgmgr *m, const char **name, const char **url)
{
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    if (!m->cfg.target_url) return FH_E_NOT_FOUND;
    *name = m->cfg.target_name ? m->cfg.target_name : "";
    *url = m->cfg.target_url;
    return FH_S_OK;
}

uint32_t fh_cfgmgr_target_drive_type(struct fh_cfgmgr *m, int *type)
{
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    if (!m->cfg.target_url) return FH_E_NOT_FOUND;
    *type = fh_target_drive_type(m->cfg.target_url);
    return FH_S_OK;
}

/* A target path: an absolute path without . or .. or controls; "/" too
 * (Z:\ under Wine), which the rules below judge like any folder. */
static int target_path_is_valid(const char *path)
{
    return !strcmp(path, "/") || fh_path_is_valid(path);
}

/* Is path inside what the configuration protects?  Under a protected folder
 * and not under one of its exclusions, or holding a protected folder. */
static int in_scope(const struct fh_config *cfg, const char *path)
{
    for (size_t i = 0; i < cfg->folder_count; i++)
    {
        const char *folder = cfg->folders[i];
        int excluded = 0;
        if (!strcmp(path, "/") || fh_path_under(folder, path)) return 1;   /* the target holds it */
        if (strcmp(path, folder) && !fh_path_under(path, folder)) continue;
        for (size_t j = 0; j < cfg->exclude_count && !excluded; j++)
            excluded = !strcmp(path, cfg->excludes[j]) || fh_path_under(path, cfg->excludes[j]);
        if (!excluded) return 1;
    }
    return 0;
}

/* The checks of one directory of the namespace FileHistory/<user>/<pc>/...
 * on a target other users may write to (level 0 is FileHistory itself,
 * shared by every user of the disk).  Level 0 must be ours, root's or
 * sticky, so that nobody else can rename our directory away; the levels
 * below must be ours, and are made private (0700) when they are not.
 * 0, or the errno to fail with. */
static int check_namespace_dir(int fd, int level)
{
    return fh_dir_check(fd, level == 0 ? FH_DIR_SHARED : FH_DIR_OURS);
}

static int namespace_is_ours(const char *target, const char *user, const char *pc)
{
    const char *parts[3] = { "FileHistory", user, pc };
    int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC), next, ok = 1;

    if (fd < 0) return 0;
    for (int i = 0; i < 3 && ok; i++)
    {
        if ((next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        {
            ok = errno == ENOENT;   /* what is missing will be made ours */
            break;
        }
        close(fd);
        fd = next;
        ok = !check_namespace_dir(fd, i);
    }
    close(fd);
    return ok;
}

/* FH_DEVICE_VALIDATION_RESULT for a target directory, judged against cfg
 * (may be NULL: no configuration yet).  *real receives the resolved path
 * (malloc'ed) when the directory exists. */
static uint32_t validate(const struct fh_config *cfg, const char *path, int *result, char **real_out)
{
    const char *user = cfg ? cfg->user_name : NULL, *pc = cfg ? cfg->pc_name : NULL;
    struct fh_config defaults;
    char *real, *ns;
    struct stat st;
    int have_defaults = 0;

    *real_out = NULL;
    if (!path || !target_path_is_valid(path)) return FH_E_INVALIDARG;
    /* the target the user named; a link to it (a mount point's alias) is the user's choice */
    if (!(real = realpath(path, NULL))) return fh_hresult_from_errno(errno);
    if (stat(real, &st) || !S_ISDIR(st.st_mode) || !target_path_is_valid(real))
    {
        free(real);
        *result = FH_VALIDATION_INVALID_DRIVE_TYPE;
        return FH_S_OK;
    }
    *real_out = real;
    if (access(real, R_OK | X_OK)) { *result = FH_VALIDATION_ACCESS_DENIED; return FH_S_OK; }
    if (access(real, W_OK)) { *result = FH_VALIDATION_READ_ONLY; return FH_S_OK; }
    if (cfg && cfg->target_url && !strcmp(cfg->target_url, real)) { *result = FH_VALIDATION_CURRENT_DEFAULT; return FH_S_OK; }
    if (cfg && in_scope(cfg, real)) { *result = FH_VALIDATION_PART_OF_LIBRARY; return FH_S_OK; }
    if (!user)
    {
        if (fh_config_init_default(&defaults)) return FH_E_OUTOFMEMORY;
        have_defaults = 1;
        user = defaults.user_name;
        pc = defaults.pc_name;
    }
    *result = FH_VALIDATION_VALID;
    if (asprintf(&ns, "%s/FileHistory/%s/%s", strcmp(real, "/") ? real : "", user, pc) < 0) ns = NULL;
    /* someone else's FileHistory/<user>/<pc> (or a part of the way there) is not ours to use */
    if (!namespace_is_ours(real, user, pc)) *result = FH_VALIDATION_ACCESS_DENIED;
    else if (ns && !lstat(ns, &st)) *result = FH_VALIDATION_NAMESPACE_EXISTS;
    free(ns);
    if (have_defaults) fh_config_free(&defaults);
    return FH_S_OK;
}

uint32_t fh_cfgmgr_validate_target(struct fh_cfgmgr *m, const char *path, int *result)
{
    char *real;
    uint32_t hr;
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    hr = validate(&m->cfg, path, result, &real);
    free(real);
    return hr;
}

/* mkdir -p of the namespace rel below base, one component at a time, never
 * through a link, each directory checked (check_namespace_dir). */
static int mkdirs_nofollow(const char *base, const char *rel)
{
    char *copy = strdup(rel), *part, *save = NULL;
    int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC), next, err = 0, level = 0;

    if (!copy || fd < 0) { err = copy ? errno : ENOMEM; goto out; }
    for (part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save), level++)
    {
        if (mkdirat(fd, part, 0700) && errno != EEXIST) { err = errno; break; }
        if ((next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) { err = errno; break; }
        close(fd);
        fd = next;
        if ((err = check_namespace_dir(fd, level))) break;
    }
out:
    if (fd >= 0) close(fd);
    free(copy);
    return err;
}

static int name_is_representable(const char *name)
{
    return strlen(name) < 256 && !strchr(name, '\n') && !strchr(name, '\r') && fh_config_text_ok(name);
}

uint32_t fh_cfgmgr_provision(struct fh_cfgmgr *m, const char *path, const char *name)
{
    char *real, *rel = NULL, *new_name;
    const char *slash;
    int result, err;
    uint32_t hr;

    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    if (!name || !name_is_representable(name)) return FH_E_INVALIDARG;
    if ((hr = validate(&m->cfg, path, &result, &real))) return hr;
    switch (result)
    {
    case FH_VALIDATION_VALID:
    case FH_VALIDATION_CURRENT_DEFAULT:
    case FH_VALIDATION_NAMESPACE_EXISTS:    /* our own earlier backups: go on with them */
        break;
    case FH_VALIDATION_ACCESS_DENIED:
    case FH_VALIDATION_READ_ONLY:
        free(real);
        return FH_E_ACCESSDENIED;
    default:
        free(real);
        return FHCFG_E_TARGET_CANNOT_BE_USED;
    }
    if (asprintf(&rel, "FileHistory/%s/%s/Configuration", m->cfg.user_name, m->cfg.pc_name) < 0)
    {
        free(real);
        return FH_E_OUTOFMEMORY;
    }
    err = mkdirs_nofollow(real, rel);
    free(rel);
    if (err) { free(real); return fh_hresult_from_errno(err); }
    slash = strrchr(real, '/');
    if (!(new_name = strdup(*name ? name : slash + 1))) { free(real); return FH_E_OUTOFMEMORY; }
    free(m->cfg.target_url);
    free(m->cfg.target_name);
    free(m->cfg.target_id);
    m->cfg.target_url = real;
    m->cfg.target_name = new_name;
    m->cfg.target_id = NULL;
    {
        /* the target's identity (fh_target.c): cycles write only where it matches */
        char msg[512];
        errno = 0;
        if (fh_target_provision(&m->cfg, msg, sizeof(msg))) return fh_hresult_from_errno(errno ? errno : EIO);
    }
    /* the old target's state (full, absent...) is dropped when this is saved */
    m->target_changed = 1;
    return FH_S_OK;
}

/* There is no HomeGroup to recommend a target to. */
uint32_t fh_cfgmgr_recommend(struct fh_cfgmgr *m, int recommend)
{
    if (!m->loaded) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
    if (!m->cfg.target_url) return FHCFG_E_TARGET_NOT_CONFIGURED;
    return FHCFG_E_RECOMMENDATION_CHANGE_NOT_ALLOWED;
}

/* ------------------------------------------------------------------ */
/* reassociation                                                       */

uint32_t fh_cfgmgr_reassoc_validate(struct fh_cfgmgr *m, const char *path, int *result)
{
    struct fh_config cfg;
    const struct fh_config *use = NULL;
    char *real;
    uint32_t hr;

    if (m->loaded) use = &m->cfg;
    else if (!fh_config_load(m->config_dir, &cfg)) use = &cfg;
    hr = validate(use, path, result, &real);
    /* a namespace on the target is what reassociation looks for, not a conflict */
    free(real);
    if (use == &cfg) fh_config_free(&cfg);
    return hr;
}

static int open_dir_at(int dirfd, const char *name)
{
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Directory entries that may name a user or a PC (no dot files, no links). */
static int usable_entry(int dirfd, const struct dirent *d)
{
    struct stat st;
    if (d->d_name[0] == '.') return 0;
    return !fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode);
}

static time_t last_backup_time(int confd)
{
    struct stat st;
    if (!fstatat(confd, "Catalog.sqlite", &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode)) return st.st_mtime;
    if (!fstatat(confd, "Config1.xml", &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode)) return st.st_mtime;
    return 0;
}

/* Charge a configuration's documents to the scan's budget: 0 when they may
 * be parsed.  A document with other hard links is someone's trick to make
 * one big file cost many parses, never a configuration File History wrote. */
static int charge_documents(int confd, size_t *budget)
{
    static const char *const names[2] = { "Config1.xml", "Config2.xml" };
    struct stat st;
    for (int i = 0; i < 2; i++)
    {
        if (fstatat(confd, names[i], &st, AT_SYMLINK_NOFOLLOW)) continue;
        if (!S_ISREG(st.st_mode) || st.st_nlink != 1) return -1;
        if ((unsigned long long)st.st_size > *budget) { *budget = 0; return -1; }
        *budget -= (size_t)st.st_size;
    }
    return 0;
}

static void scan_pc(struct fh_cfgmgr *m, int userfd, const char *user, const char *pc, size_t *budget)
{
    int pcfd = open_dir_at(userfd, pc), confd = -1;
    struct fh_found *grown;
    struct fh_config cfg;

    if (pcfd < 0) return;
    if ((confd = open_dir_at(pcfd, "Configuration")) < 0) goto out;
    if (charge_documents(confd, budget) || fh_config_load_at(confd, &cfg)) goto out;
    /* the document must describe the place it was found in */
    if (strcmp(cfg.user_name, user) || strcmp(cfg.pc_name, pc) ||
        !(grown = realloc(m->found, (m->found_count + 1) * sizeof(*grown))))
    {
        fh_config_free(&cfg);
        goto out;
    }
    m->found = grown;
    m->found[m->found_count].cfg = cfg;
    m->found[m->found_count].backup_time = last_backup_time(confd);
    m->found_count++;
out:
    if (confd >= 0) close(confd);
    close(pcfd);
}

uint32_t fh_cfgmgr_scan(struct fh_cfgmgr *m, const char *path)
{
    int rootfd, fhfd, userfd;
    DIR *users = NULL, *pcs;
    struct dirent *u, *p;
    struct stat st;
    char *real;
    size_t budget = FH_MAX_SCAN_BYTES, dirs = 0;

    free_found(m);
    if (!path || !target_path_is_valid(path)) return FH_E_INVALIDARG;
    if (!(real = realpath(path, NULL))) return fh_hresult_from_errno(errno);
    if (stat(real, &st) || !S_ISDIR(st.st_mode)) { free(real); return fh_hresult_from_errno(ENOTDIR); }
    if ((rootfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
        free(real);
        return fh_hresult_from_errno(errno);
    }
    m->scanned_target = real;
    fhfd = open_dir_at(rootfd, "FileHistory");
    close(rootfd);
    if (fhfd < 0 || !(users = fdopendir(fhfd)))
    {
        if (fhfd >= 0) close(fhfd);
        return FH_E_NOT_FOUND;
    }
    /* bounded: a hostile disk can hold any number of directories and documents */
    while ((u = readdir(users)) && m->found_count < FH_MAX_SCAN && budget && dirs < FH_MAX_SCAN_DIRS)
    {
        if (!usable_entry(dirfd(users), u) || (userfd = open_dir_at(dirfd(users), u->d_name)) < 0) continue;
        if (!(pcs = fdopendir(userfd))) { close(userfd); continue; }
        while ((p = readdir(pcs)) && m->found_count < FH_MAX_SCAN && budget && dirs < FH_MAX_SCAN_DIRS)
            if (usable_entry(dirfd(pcs), p)) { dirs++; scan_pc(m, dirfd(pcs), u->d_name, p->d_name, &budget); }
        closedir(pcs);
    }
    closedir(users);
    return m->found_count ? FH_S_OK : FH_E_NOT_FOUND;
}

size_t fh_cfgmgr_found_count(const struct fh_cfgmgr *m)
{
    return m->found_count;
}

uint32_t fh_cfgmgr_found(const struct fh_cfgmgr *m, unsigned long index, const char **user, const char **pc,
                         time_t *backup_time)
{
    if (index >= m->found_count) return FH_E_NOT_FOUND;
    *user = m->found[index].cfg.user_name;
    *pc = m->found[index].cfg.pc_name;
    *backup_time = m->found[index].backup_time;
    return FH_S_OK;
}

uint32_t fh_cfgmgr_select(struct fh_cfgmgr *m, unsigned long index)
{
    if (index >= m->found_count) return FH_E_NOT_FOUND;
    m->selected = (long)index;
    return FH_S_OK;
}

/* The selected configuration becomes the user's, pointed at the scanned
 * target: its UserName/PCName name the directory whose versions and
 * catalog the next cycles continue. */
uint32_t fh_cfgmgr_reassociate(struct fh_cfgmgr *m, int overwrite)
{
    struct fh_config cfg;
    const struct fh_config *old;
    const char *slash;
    int err;

    if (m->selected < 0 || (size_t)m->selected >= m->found_count) return FH_E_UNEXPECTED;
    if (!overwrite && config_exists(m->config_dir)) return FHCFG_E_CONFIG_ALREADY_EXISTS;
    old = &m->found[m->selected].cfg;
    /* a namespace another user made (on a shared disk) is not the user's
     * File History, whatever its Config1.xml says: its folders would hold
     * the user's versions for that user to read */
    if (!namespace_is_ours(m->scanned_target, old->user_name, old->pc_name)) return FH_E_ACCESSDENIED;
    memset(&cfg, 0, sizeof(cfg));
    slash = strrchr(m->scanned_target, '/');
    if (!(cfg.user_name = strdup(old->user_name)) || !(cfg.pc_name = strdup(old->pc_name)) ||
        !(cfg.target_url = strdup(m->scanned_target)) ||
        !(cfg.target_name = strdup(old->target_name && *old->target_name ? old->target_name : slash + 1)))
        goto oom;
    for (size_t i = 0; i < old->folder_count; i++)
        if (fh_config_list_add(&cfg.folders, &cfg.folder_count, old->folders[i])) goto oom;
    for (size_t i = 0; i < old->exclude_count; i++)
        if (fh_config_list_add(&cfg.excludes, &cfg.exclude_count, old->excludes[i])) goto oom;
    cfg.frequency = old->frequency;
    cfg.retention_type = old->retention_type;
    cfg.retention_age = old->retention_age;
    cfg.dp_status = FH_STATUS_ENABLED;
    {
        /* the target keeps (or, from before identities, gets) its identity */
        char msg[512];
        errno = 0;
        if (fh_target_provision(&cfg, msg, sizeof(msg)))
        {
            err = errno ? errno : EIO;
            fh_config_free(&cfg);
            return fh_hresult_from_errno(err);
        }
    }
    if ((err = fh_config_save(m->config_dir, &cfg)))
    {
        fh_config_free(&cfg);
        return fh_hresult_from_errno(err);
    }
    {
        struct fh_state fresh = { FH_STATE_NO_ERROR, 0, 0 };
        fh_state_save(m->config_dir, &fresh);
    }
    if (m->loaded) fh_config_free(&m->cfg);
    m->cfg = cfg;
    m->loaded = 1;
    return FH_S_OK;
oom:
    fh_config_free(&cfg);
    return FH_E_OUTOFMEMORY;
}

/* HRESULT_FROM_WIN32 of the Win32 error an errno means here. */
uint32_t fh_hresult_from_errno(int error)
{
    switch (error)
    {
    case 0: return FH_S_OK;
    case ENOENT: return 0x80070003u;            /* ERROR_PATH_NOT_FOUND */
    case ENOTDIR: return 0x8007010Bu;           /* ERROR_DIRECTORY */
    case EACCES: case EPERM: case EROFS: return FH_E_ACCESSDENIED;
    case ENOSPC: case EDQUOT: return 0x80070070u;   /* ERROR_DISK_FULL */
    case ENOMEM: return FH_E_OUTOFMEMORY;
    case ENAMETOOLONG: return 0x800700CEu;      /* ERROR_FILENAME_EXCED_RANGE */
    case ELOOP: return 0x80070781u;             /* ERROR_CANT_RESOLVE_FILENAME */
    case EINVAL: return FH_E_INVALIDARG;
    default: return FH_E_FAIL;
    }
}
