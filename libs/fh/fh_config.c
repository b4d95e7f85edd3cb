/*
 * The per-user File History configuration and its XML form.
 *
 * The same document is kept in two places:
 *   $XDG_CONFIG_HOME/filehistory/Config{1,2}.xml   (the user's copy, read by the service)
 *   <target>/FileHistory/<user>/<pc>/Configuration/Config{1,2}.xml   (the mirror on the target)
 * Each place holds two copies.  A save writes both, the older first, each
 * atomically (tmp, fsync, rename): a crash between the two leaves one copy
 * with the new document, and the reader takes the valid copy with the
 * higher generation; once both are written they are the same file, as
 * Windows keeps them (programs written for Windows read Config1.xml only).
 *
 * The document is Windows' Config1.xml (docs/windows-evidence.md says which
 * samples settle what), element for element, in Windows' order, one element
 * per line indented by two spaces (readers of Windows' file match lines):
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <DataProtectionUserConfig SchemaVersion="1">
 *     <UserName>alice</UserName>
 *     <FriendlyName>Alice Liddell</FriendlyName>         GECOS, else UserName
 *     <PCName>host</PCName>
 *     <UserId>0f6d...-4...-a...-...</UserId>               random v4 GUID, made once
 *     <UserFolder>/home/alice/Documents</UserFolder>       one per protected folder
 *     <LocalCatalogPath1>/media/disk/FileHistory/alice/host/Configuration/Catalog.sqlite</LocalCatalogPath1>
 *     <StagingArea>                                        none: cycles wait for an absent target
 *       <StagingAreaPath></StagingAreaPath>
 *       <StagingAreaMaximumCapacity>0</StagingAreaMaximumCapacity>
 *       <StagingAreaWarningThreshold>0</StagingAreaWarningThreshold>
 *     </StagingArea>
 *     <RetentionPolicies>
 *       <RetentionPolicyType>DISABLED</RetentionPolicyType>   DISABLED | NO LIMIT | AGELIMIT
 *       <MinimumRetentionAge>12</MinimumRetentionAge>         months, as Windows 10
 *     </RetentionPolicies>
 *     <DPFrequency>3600</DPFrequency>
 *     <DPStatus>ENABLED</DPStatus>                          DISABLED | ENABLED (| ours below)
 *     <Target>
 *       <TargetName>disk</TargetName>
 *       <TargetUrl>/media/disk/</TargetUrl>                 our path, ending with a separator
 *       <TargetDriveType>REMOVABLE</TargetDriveType>        REMOVABLE | FIXED | REMOTE | UNKNOWN
 *       <TargetConfigPath1>alice/host/Configuration/Config1.xml</TargetConfigPath1>
 *       <TargetConfigPath2>alice/host/Configuration/Config2.xml</TargetConfigPath2>
 *       <TargetCatalogPath1>alice/host/Configuration/Catalog.sqlite</TargetCatalogPath1>
 *       <TargetBackupStorePath>alice/host/Data</TargetBackupStorePath>
 *       <TargetWarningThreshold>100</TargetWarningThreshold>
 *     </Target>
 *     <Winbackup>                                           ours: Windows' readers skip it
 *       <Generation>7</Generation>
 *       <MinimumRetentionDays>365</MinimumRetentionDays>     the API's exact age
 *       <ExcludedFolder>/home/alice/Documents/tmp</ExcludedFolder>
 *       <TargetId>32 hex characters</TargetId>            the identity fh_target.c writes on the target
 *     </Winbackup>
 *   </DataProtectionUserConfig>
 *
 * Paths are ours (POSIX); the Target*Path elements are relative to
 * <TargetUrl>FileHistory/ as Windows' are, with '/' as our TargetUrl.  We
 * have one catalog (SQLite, on the target) where Windows keeps two ESE
 * files, so LocalCatalogPath2 and TargetCatalogPath2 are not written;
 * LocalCatalogPath1 names that catalog.  We keep no local staging area
 * (Windows' offline cache) and do not warn before the target is full
 * (FH_STATE_TARGET_FULL), hence the StagingArea and TargetWarningThreshold
 * values.  Windows' AvailabilityPolicies and TargetVolumePath have no
 * equivalent here and are not written.
 *
 * The reader takes this document, the dialect this project wrote before it
 * (<Library><Folder>, <Exclusions><Folder>, <Generation> at the root,
 * <RetentionPolicy Type=".." MinimumAge=".."/>, DPStatus as a number,
 * TargetUrl without the separator), and documents Windows wrote
 * (reassociation scans disks Windows machines backed up to).  Windows'
 * paths (X:\..., \\server\...) in Folder, UserFolder or TargetUrl name
 * nothing on this machine: such a folder is not protected and such a target
 * is no target, but the document is not refused.  Any other path that is
 * not an absolute, normalized POSIX path is.
 *
 * libxml2 reads and writes the document (see the reader's comment for what
 * it refuses); anything malformed or out of range is
 * FHCFG_E_CORRUPT_CONFIG_FILE.
 */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fh.h"

/* ------------------------------------------------------------------ */
/* limits on what a configuration may hold: a Config1.xml on a target can
 * come from anyone, and every list is searched linearly */

#define XML_MAX_DEPTH     16        /* the document itself needs 4 */
#define XML_MAX_ITEMS     FH_MAX_LIST_ITEMS
#define MAX_FRIENDLY_NAME 1024      /* bytes */
#define MAX_RETENTION_MONTHS 1200   /* fh_retention_days(1200) = FH_MAX_RETENTION_AGE */
#define CATALOG_NAME      "Catalog.sqlite"
/* We say nothing before the target is full (FH_STATE_TARGET_FULL); Windows writes 98. */
#define TARGET_WARNING_THRESHOLD 100

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/* Valid UTF-8 without C0 controls (but tab) or DEL: XML 1.0 cannot carry those. */
static int text_is_representable(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p)
    {
        int extra;
        unsigned int cp;
        if (*p < 0x80)
        {
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f) return 0;
            p++; continue;
        }
        if ((*p & 0xe0) == 0xc0) { extra = 1; cp = *p & 0x1f; }
        else if ((*p & 0xf0) == 0xe0) { extra = 2; cp = *p & 0x0f; }
        else if ((*p & 0xf8) == 0xf0) { extra = 3; cp = *p & 0x07; }
        else return 0;
        p++;
        for (int i = 0; i < extra; i++, p++)
        {
            if ((*p & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (*p & 0x3f);
        }
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
            return 0;
    }
    return 1;
}

int fh_config_text_ok(const char *s)
{
    return text_is_representable(s);
}

/* ------------------------------------------------------------------ */
/* the words Windows writes for numbers of fhcfg.h */

struct word
{
    int value;
    const char *text;
};

/* DPStatus: ENABLED and DISABLED are Windows'; the other two FH_BACKUP_STATUS
 * values are never set through the API and their words are ours (UNVERIFIED). */
static const struct word status_words[] =
{
    { FH_STATUS_DISABLED, "DISABLED" }, { FH_STATUS_DISABLED_BY_GP, "DISABLED_BY_GP" },
    { FH_STATUS_ENABLED, "ENABLED" }, { FH_STATUS_REHYDRATING, "REHYDRATING" },
};
/* RetentionPolicyType: DISABLED keeps every version, NO LIMIT until space
 * is needed, AGELIMIT for MinimumRetentionAge. */
static const struct word retention_words[] =
{
    { FH_RETENTION_DISABLED, "DISABLED" }, { FH_RETENTION_UNLIMITED, "NO LIMIT" }, { FH_RETENTION_AGE, "AGELIMIT" },
};
/* TargetDriveType: FIXED, REMOVABLE, REMOTE are Windows'; UNKNOWN is ours. */
static const struct word drive_words[] =
{
    { FH_DRIVE_UNKNOWN, "UNKNOWN" }, { FH_DRIVE_REMOVABLE, "REMOVABLE" }, { FH_DRIVE_FIXED, "FIXED" },
    { FH_DRIVE_REMOTE, "REMOTE" },
};

static const char *word_of(const struct word *words, size_t count, int value)
{
    for (size_t i = 0; i < count; i++) if (words[i].value == value) return words[i].text;
    return NULL;
}

/* Windows writes these in capitals; a reader of its own (LanHistory) ignores case. */
static int value_of(const struct word *words, size_t count, const char *text, int *value)
{
    for (size_t i = 0; i < count; i++)
        if (!strcasecmp(words[i].text, text)) { *value = words[i].value; return 0; }
    return -1;
}

#define WORD_OF(table, value) word_of(table, sizeof(table) / sizeof(table[0]), value)
#define VALUE_OF(table, text, value) value_of(table, sizeof(table) / sizeof(table[0]), text, value)

unsigned long long fh_retention_months(unsigned long long days)
{
    unsigned long long months = (days * 12 + 182) / 365;
    return months ? months : 1;
}

unsigned long long fh_retention_days(unsigned long long months)
{
    return (months * 365 + 6) / 12;
}

int fh_target_drive_type(const char *path)
{
    struct statfs sfs;
    if (statfs(path, &sfs)) return FH_DRIVE_UNKNOWN;
    switch ((unsigned long)sfs.f_type)
    {
    case 0x6969ul:          /* NFS */
    case 0x517bul:          /* SMB */
    case 0xff534d42ul:      /* CIFS */
    case 0xfe534d42ul:      /* SMB2 */
    case 0x564c:            /* NCP */
    case 0x73757245ul:      /* Coda */
    case 0x7461636full:     /* OCFS2 */
        return FH_DRIVE_REMOTE;
    }
    if (!strncmp(path, "/media/", 7) || !strncmp(path, "/run/media/", 11)) return FH_DRIVE_REMOVABLE;
    return FH_DRIVE_FIXED;
}

/* ------------------------------------------------------------------ */
/* the writer: a libxml2 tree, serialized as indented UTF-8 */

static xmlNodePtr add_text(xmlNodePtr parent, const char *name, const char *value, int *bad)
{
    xmlNodePtr node;
    if (!parent || !text_is_representable(value)) { *bad = 1; return NULL; }
    /* xmlNewTextChild escapes the value */
    if (!(node = xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST value))) *bad = 1;
    return node;
}

static void add_number(xmlNodePtr parent, const char *name, unsigned long long value, int *bad)
{
    char text[32];
    snprintf(text, sizeof(text), "%llu", value);
    add_text(parent, name, text, bad);
}

static void add_word(xmlNodePtr parent, const char *name, const char *word, int *bad)
{
    if (!word) { *bad = 1; return; }
    add_text(parent, name, word, bad);
}

/* "<user>/<pc>/<rest>": a path below <TargetUrl>FileHistory/ (malloc'ed) */
static void add_target_path(xmlNodePtr parent, const char *name, const struct fh_config *cfg, const char *rest,
                            int *bad)
{
    char *path;
    if (asprintf(&path, "%s/%s/%s", cfg->user_name, cfg->pc_name, rest) < 0) { *bad = 1; return; }
    add_text(parent, name, path, bad);
    free(path);
}

static void add_target(xmlNodePtr root, const struct fh_config *cfg, int *bad)
{
    xmlNodePtr target = xmlNewChild(root, NULL, BAD_CAST "Target", NULL);
    char *url;

    if (!target) { *bad = 1; return; }
    add_text(target, "TargetName", cfg->target_name ? cfg->target_name : "", bad);
    /* Windows' TargetUrl ends with a separator ("E:\", "\\server\share\"); ours
     * ends with '/', which the reader takes off again */
    if (asprintf(&url, "%s/", cfg->target_url) < 0) { *bad = 1; return; }
    add_text(target, "TargetUrl", url, bad);
    free(url);
    add_word(target, "TargetDriveType", WORD_OF(drive_words, cfg->target_drive_type), bad);
    add_target_path(target, "TargetConfigPath1", cfg, "Configuration/Config1.xml", bad);
    add_target_path(target, "TargetConfigPath2", cfg, "Configuration/Config2.xml", bad);
    add_target_path(target, "TargetCatalogPath1", cfg, "Configuration/" CATALOG_NAME, bad);
    add_target_path(target, "TargetBackupStorePath", cfg, "Data", bad);
    add_number(target, "TargetWarningThreshold", TARGET_WARNING_THRESHOLD, bad);
}

char *fh_config_to_xml(const struct fh_config *cfg)
{
    xmlDocPtr doc;
    xmlNodePtr root, node;
    xmlChar *mem = NULL;
    char *out = NULL, *root_path;
    int size = 0, bad = 0;
    size_t i;

    if (!cfg->user_name || !cfg->pc_name) return NULL;
    pthread_once(&xml_once, xml_init);
    if (!(doc = xmlNewDoc(BAD_CAST "1.0"))) return NULL;
    if (!(root = xmlNewNode(NULL, BAD_CAST "DataProtectionUserConfig"))) goto done;
    xmlDocSetRootElement(doc, root);
    if (!xmlNewProp(root, BAD_CAST "SchemaVersion", BAD_CAST "1")) bad = 1;
    add_text(root, "UserName", cfg->user_name, &bad);
    add_text(root, "FriendlyName", cfg->friendly_name ? cfg->friendly_name : cfg->user_name, &bad);
    add_text(root, "PCName", cfg->pc_name, &bad);
    if (cfg->user_id) add_text(root, "UserId", cfg->user_id, &bad);
    /* our folders are folders, not libraries: Windows lists such as UserFolder */
    for (i = 0; i < cfg->folder_count; i++) add_text(root, "UserFolder", cfg->folders[i], &bad);
    if (cfg->target_url && (root_path = fh_target_root(cfg)))
    {
        char *catalog;
        if (asprintf(&catalog, "%s/Configuration/" CATALOG_NAME, root_path) < 0) bad = 1;
        else
        {
            add_text(root, "LocalCatalogPath1", catalog, &bad);
            free(catalog);
        }
        free(root_path);
    }
    else if (cfg->target_url) bad = 1;
    node = xmlNewChild(root, NULL, BAD_CAST "StagingArea", NULL);
    add_text(node, "StagingAreaPath", "", &bad);
    add_number(node, "StagingAreaMaximumCapacity", 0, &bad);
    add_number(node, "StagingAreaWarningThreshold", 0, &bad);
    node = xmlNewChild(root, NULL, BAD_CAST "RetentionPolicies", NULL);
    add_word(node, "RetentionPolicyType", WORD_OF(retention_words, cfg->retention_type), &bad);
    add_number(node, "MinimumRetentionAge", fh_retention_months(cfg->retention_age), &bad);
    add_number(root, "DPFrequency", cfg->frequency, &bad);
    add_word(root, "DPStatus", WORD_OF(status_words, cfg->dp_status), &bad);
    if (cfg->target_url) add_target(root, cfg, &bad);
    node = xmlNewChild(root, NULL, BAD_CAST "Winbackup", NULL);
    add_number(node, "Generation", cfg->generation, &bad);
    add_number(node, "MinimumRetentionDays", cfg->retention_age, &bad);
    for (i = 0; i < cfg->exclude_count; i++) add_text(node, "ExcludedFolder", cfg->excludes[i], &bad);
    if (cfg->target_url && cfg->target_id) add_text(node, "TargetId", cfg->target_id, &bad);
    if (bad) goto done;
    xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
    if (mem && size > 0 && (out = malloc((size_t)size + 1)))
    {
        memcpy(out, mem, size);
        out[size] = 0;
    }
done:
    xmlFree(mem);
    xmlFreeDoc(doc);
    return out;
}

/* ------------------------------------------------------------------ */
/* the reader: libxml2 parses, this code only walks a validated tree
 *
 * Config1.xml is hostile input (reassociation reads what other machines
 * wrote on a target).  So: UTF-8 only (the encoding is forced, which also
 * makes the byte scan for a DTD below reliable); no DTD at all, hence no
 * entity definition and no expansion; no network; libxml2's messages
 * silenced; documents deeper than XML_MAX_DEPTH and lists longer than
 * XML_MAX_ITEMS refused; every number in range, every word one we know
 * (but TargetDriveType, which only describes); the caller bounds the size
 * (fh_config_load reads at most 1 MiB). */

static int depth_ok(xmlNodePtr node, int depth)
{
    if (depth > XML_MAX_DEPTH) return 0;
    for (xmlNodePtr child = node->children; child; child = child->next)
        if (child->type == XML_ELEMENT_NODE && !depth_ok(child, depth + 1)) return 0;
    return 1;
}

static int is_element(xmlNodePtr node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && !node->ns && !xmlStrcmp(node->name, BAD_CAST name);
}

static xmlNodePtr child_element(xmlNodePtr parent, const char *name)
{
    if (!parent) return NULL;
    for (xmlNodePtr child = parent->children; child; child = child->next)
        if (is_element(child, name)) return child;
    return NULL;
}

/* The character data of an element that holds no element (malloc'ed), or
 * NULL.  Text the writer could not write back (DEL, controls but tab) is
 * refused too: a configuration that loads must also save. */
static char *element_text(xmlNodePtr node)
{
    xmlChar *content;
    char *out;

    for (xmlNodePtr child = node->children; child; child = child->next)
        if (child->type != XML_TEXT_NODE && child->type != XML_CDATA_SECTION_NODE &&
            child->type != XML_COMMENT_NODE && child->type != XML_PI_NODE)
            return NULL;
    if (!(content = xmlNodeGetContent(node))) return strdup("");
    out = text_is_representable((const char *)content) ? strdup((const char *)content) : NULL;
    xmlFree(content);
    return out;
}

static int child_text(xmlNodePtr parent, const char *name, char **out, int required)
{
    xmlNodePtr node = child_element(parent, name);
    *out = NULL;
    if (!node) return required ? -1 : 0;
    return (*out = element_text(node)) ? 0 : -1;
}

static int parse_ull(const char *s, unsigned long long *v)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s)) return -1;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return (*end || errno) ? -1 : 0;
}

/* A number in [min, max]; *present says whether the element is there. */
static int child_number(xmlNodePtr parent, const char *name, unsigned long long min, unsigned long long max,
                        unsigned long long *v, int *present)
{
    char *text = NULL;
    int ret;
    *present = 0;
    if (child_text(parent, name, &text, 0)) return -1;
    if (!text) return 0;
    *present = 1;
    ret = parse_ull(text, v) || *v < min || *v > max ? -1 : 0;
    free(text);
    return ret;
}

static int attr_number(xmlNodePtr node, const char *name, unsigned long long *v, int *present)
{
    xmlChar *text = xmlGetNoNsProp(node, BAD_CAST name);
    int ret;
    *present = text != NULL;
    if (!text) return 0;
    ret = parse_ull((const char *)text, v);
    xmlFree(text);
    return ret;
}

/* Windows' own absolute paths: "X:\..." and "\\server\share..." (or "\\?\...") */
static int is_windows_path(const char *path)
{
    if (isalpha((unsigned char)path[0]) && path[1] == ':' && path[2] == '\\') return 1;
    return path[0] == '\\' && path[1] == '\\' && path[2] && path[2] != '\\';
}

/* One <Folder>, <UserFolder> or <ExcludedFolder>: ours is taken, Windows'
 * names nothing here and is left out, anything else is corrupt.  *seen
 * bounds the list, those left out included. */
static int take_folder(xmlNodePtr node, char ***list, size_t *count, size_t *seen)
{
    char *path;
    int ret = 0;

    if (++*seen > XML_MAX_ITEMS || !(path = element_text(node))) return -1;
    if (fh_path_is_valid(path)) ret = fh_config_list_add(list, count, path);
    else if (!is_windows_path(path)) ret = -1;
    free(path);
    return ret;
}

/* Every child of parent named name, as folders; a NULL parent has none. */
static int take_folders(xmlNodePtr parent, const char *name, char ***list, size_t *count, size_t *seen)
{
    if (!parent) return 0;
    for (xmlNodePtr f = parent->children; f; f = f->next)
        if (is_element(f, name) && take_folder(f, list, count, seen)) return -1;
    return 0;
}

static int config_name_is_valid(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
           strlen(name) < 256;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", hexadecimal digits in either case */
static int guid_is_valid(const char *text)
{
    for (int i = 0; i < 36; i++)
    {
        if (i == 8 || i == 13 || i == 18 || i == 23) { if (text[i] != '-') return 0; }
        else if (!isxdigit((unsigned char)text[i])) return 0;
    }
    return !text[36];
}

static int read_word(xmlNodePtr parent, const char *name, const struct word *words, size_t count, int *value,
                     int *present)
{
    char *text;
    int ret;
    *present = 0;
    if (child_text(parent, name, &text, 0)) return -1;
    if (!text) return 0;
    *present = 1;
    ret = value_of(words, count, text, value);
    free(text);
    return ret;
}

/* Retention: RetentionPolicyType and MinimumRetentionAge (months) as Windows
 * writes them, our exact MinimumRetentionDays, or the old
 * <RetentionPolicy Type="n" MinimumAge="days"/>.  The days win unless the
 * months no longer say the same (someone changed them on the Windows side). */
static int read_retention(xmlNodePtr root, xmlNodePtr ours, struct fh_config *cfg)
{
    xmlNodePtr policies = child_element(root, "RetentionPolicies"), old;
    unsigned long long v, months = 0, days = 0;
    int present, type, have_months, have_days;

    if (read_word(policies, "RetentionPolicyType", retention_words,
                  sizeof(retention_words) / sizeof(retention_words[0]), &type, &present))
        return -1;
    if (present) cfg->retention_type = type;
    if (child_number(policies, "MinimumRetentionAge", 1, MAX_RETENTION_MONTHS, &months, &have_months) ||
        child_number(ours, "MinimumRetentionDays", 1, FH_MAX_RETENTION_AGE, &days, &have_days))
        return -1;
    if (have_days && (!have_months || fh_retention_months(days) == months)) cfg->retention_age = days;
    else if (have_months) cfg->retention_age = fh_retention_days(months);
    if ((old = child_element(policies, "RetentionPolicy")))
    {
        if (attr_number(old, "Type", &v, &present) || (present && v > FH_RETENTION_AGE)) return -1;
        if (present) cfg->retention_type = (int)v;
        if (attr_number(old, "MinimumAge", &v, &present) || (present && (v == 0 || v > FH_MAX_RETENTION_AGE)))
            return -1;
        if (present && !have_days && !have_months) cfg->retention_age = v;
    }
    return 0;
}

/* DPStatus: a word, or the number the old dialect wrote. */
static int read_status(xmlNodePtr root, struct fh_config *cfg)
{
    char *text;
    unsigned long long v;
    int ret = 0;

    if (child_text(root, "DPStatus", &text, 0)) return -1;
    if (!text) return 0;
    if (isdigit((unsigned char)text[0]))
    {
        if (parse_ull(text, &v) || v > FH_STATUS_MAX) ret = -1;
        else cfg->dp_status = (int)v;
    }
    else ret = VALUE_OF(status_words, text, &cfg->dp_status);
    free(text);
    return ret;
}

/* <Target>: a TargetUrl of Windows' (a drive or a share of a Windows
 * machine) is no target here; ours loses the separator it was written with. */
static int read_target(xmlNodePtr target, struct fh_config *cfg)
{
    char *url, *text;
    size_t len;
    int type;

    if (child_text(target, "TargetUrl", &url, 1)) return -1;
    if (is_windows_path(url)) { free(url); return 0; }
    len = strlen(url);
    if (len > 1 && url[len - 1] == '/') url[len - 1] = 0;
    cfg->target_url = url;
    if (!fh_path_is_valid(url) || child_text(target, "TargetName", &cfg->target_name, 0)) return -1;
    /* what the drive was when saved: an unknown word only loses that */
    if (child_text(target, "TargetDriveType", &text, 0)) return -1;
    cfg->target_drive_type = FH_DRIVE_UNKNOWN;
    if (text && !VALUE_OF(drive_words, text, &type)) cfg->target_drive_type = type;
    free(text);
    return 0;
}

uint32_t fh_config_from_xml(const char *text, size_t len, struct fh_config *cfg)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr root, ours, node;
    xmlChar *schema = NULL;
    unsigned long long v;
    size_t folders_seen = 0, excludes_seen = 0;
    int present;

    memset(cfg, 0, sizeof(*cfg));
    cfg->frequency = FH_DEFAULT_FREQUENCY;
    cfg->retention_type = FH_RETENTION_DISABLED;
    cfg->retention_age = FH_DEFAULT_RETENTION_AGE;
    cfg->dp_status = FH_STATUS_ENABLED;
    if (!text || !len || len > INT_MAX || memchr(text, 0, len)) goto corrupt;
    /* no DTD: nothing to declare an entity with (the encoding is forced to
     * UTF-8, so these bytes cannot hide in another encoding) */
    if (memmem(text, len, "<!DOCTYPE", 9) || memmem(text, len, "<!ENTITY", 8)) goto corrupt;
    pthread_once(&xml_once, xml_init);
    doc = xmlReadMemory(text, (int)len, "Config.xml", "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (!doc || doc->intSubset || doc->extSubset || !(root = xmlDocGetRootElement(doc))) goto corrupt;
    if (!is_element(root, "DataProtectionUserConfig") || !depth_ok(root, 1)) goto corrupt;
    if (!(schema = xmlGetNoNsProp(root, BAD_CAST "SchemaVersion")) || xmlStrcmp(schema, BAD_CAST "1")) goto corrupt;
    ours = child_element(root, "Winbackup");
    if (child_text(root, "UserName", &cfg->user_name, 1) || child_text(root, "PCName", &cfg->pc_name, 1)) goto corrupt;
    if (!config_name_is_valid(cfg->user_name) || !config_name_is_valid(cfg->pc_name)) goto corrupt;
    if (child_text(root, "FriendlyName", &cfg->friendly_name, 0) ||
        (cfg->friendly_name && strlen(cfg->friendly_name) > MAX_FRIENDLY_NAME))
        goto corrupt;
    if (child_text(root, "UserId", &cfg->user_id, 0) || (cfg->user_id && !guid_is_valid(cfg->user_id))) goto corrupt;
    /* the generation: ours, else where the old dialect kept it */
    /* a crafted 2^64-1 would wrap at the next save, and the save would be lost */
    if (child_number(ours, "Generation", 0, FH_MAX_GENERATION, &v, &present)) goto corrupt;
    if (!present && child_number(root, "Generation", 0, FH_MAX_GENERATION, &v, &present)) goto corrupt;
    if (present) cfg->generation = v;
    /* protected folders: UserFolder (ours and Windows'), and every Library's Folder */
    if (take_folders(root, "UserFolder", &cfg->folders, &cfg->folder_count, &folders_seen)) goto corrupt;
    for (node = root->children; node; node = node->next)
        if (is_element(node, "Library") &&
            take_folders(node, "Folder", &cfg->folders, &cfg->folder_count, &folders_seen))
            goto corrupt;
    if (take_folders(ours, "ExcludedFolder", &cfg->excludes, &cfg->exclude_count, &excludes_seen) ||
        take_folders(child_element(root, "Exclusions"), "Folder", &cfg->excludes, &cfg->exclude_count,
                     &excludes_seen))
        goto corrupt;
    if (read_retention(root, ours, cfg)) goto corrupt;
    if (child_number(root, "DPFrequency", 1, FH_MAX_FREQUENCY, &v, &present)) goto corrupt;
    if (present) cfg->frequency = v;
    if (read_status(root, cfg)) goto corrupt;
    if ((node = child_element(root, "Target")) && read_target(node, cfg)) goto corrupt;
    /* the target's identity: ours, else inside <Target> where the old dialect kept it */
    if (child_text(ours, "TargetId", &cfg->target_id, 0)) goto corrupt;
    if (!cfg->target_id && node && child_text(node, "TargetId", &cfg->target_id, 0)) goto corrupt;
    if (cfg->target_id && (strlen(cfg->target_id) != FH_TARGET_ID_LEN ||
                           strspn(cfg->target_id, "0123456789abcdef") != FH_TARGET_ID_LEN))
        goto corrupt;
    if (!cfg->target_url)
    {
        free(cfg->target_name);
        free(cfg->target_id);
        cfg->target_name = NULL;
        cfg->target_id = NULL;
    }
    xmlFree(schema);
    xmlFreeDoc(doc);
    return FH_S_OK;
corrupt:
    xmlFree(schema);
    xmlFreeDoc(doc);
    fh_config_free(cfg);
    return FHCFG_E_CORRUPT_CONFIG_FILE;
}

/* ------------------------------------------------------------------ */

void fh_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void fh_config_free(struct fh_config *cfg)
{
    free(cfg->user_name); free(cfg->pc_name);
    free(cfg->friendly_name); free(cfg->user_id);
    fh_strv_free(cfg->folders, cfg->folder_count);
    fh_strv_free(cfg->excludes, cfg->exclude_count);
    free(cfg->target_name); free(cfg->target_url); free(cfg->target_id);
    memset(cfg, 0, sizeof(*cfg));
}

/* A version 4 (random) GUID, as Windows' UserId values are (both samples in
 * docs/windows-evidence.md), lower case as Windows writes it. */
static char *new_user_id(void)
{
    unsigned char b[16];
    size_t got = 0;
    char *out;

    while (got < sizeof(b))
    {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return NULL;
        got += (size_t)n;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    if (asprintf(&out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                 b[14], b[15]) < 0)
        return NULL;
    return out;
}

/* The full name of the passwd entry named user (the GECOS field up to its
 * first comma), else user itself.  malloc'ed. */
static char *friendly_name_of(const char *user)
{
    struct passwd *pw = getpwnam(user);
    size_t len;

    if (pw && pw->pw_gecos && (len = strcspn(pw->pw_gecos, ",")) && len <= MAX_FRIENDLY_NAME)
    {
        char *name = strndup(pw->pw_gecos, len);
        if (!name || text_is_representable(name)) return name;
        free(name);
    }
    return strdup(user);
}

/* What a saved configuration carries beyond what was set: a UserId made
 * once and kept, a FriendlyName, the target's drive type as it is now (the
 * last one measured while the target is away).  0 or errno. */
static int complete_config(struct fh_config *cfg)
{
    if (!cfg->user_id && !(cfg->user_id = new_user_id())) return errno ? errno : EIO;
    if (!cfg->friendly_name && !(cfg->friendly_name = friendly_name_of(cfg->user_name))) return ENOMEM;
    if (cfg->target_url)
    {
        int type = fh_target_drive_type(cfg->target_url);
        if (type != FH_DRIVE_UNKNOWN) cfg->target_drive_type = type;
    }
    return 0;
}

int fh_config_init_default(struct fh_config *cfg)
{
    struct passwd *pw = getpwuid(getuid());
    char host[256];

    memset(cfg, 0, sizeof(*cfg));
    if (gethostname(host, sizeof(host)) || !host[0]) strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    cfg->user_name = strdup(pw && pw->pw_name[0] ? pw->pw_name : "user");
    cfg->pc_name = strdup(host);
    cfg->frequency = FH_DEFAULT_FREQUENCY;
    cfg->retention_type = FH_RETENTION_DISABLED;
    cfg->retention_age = FH_DEFAULT_RETENTION_AGE;
    cfg->dp_status = FH_STATUS_ENABLED;
    if (!cfg->user_name || !cfg->pc_name || complete_config(cfg)) { fh_config_free(cfg); return -1; }
    return 0;
}

int fh_config_list_add(char ***list, size_t *count, const char *item)
{
    char **n, *dup;
    for (size_t i = 0; i < *count; i++) if (!strcmp((*list)[i], item)) return 0;
    if (!(dup = strdup(item))) return -1;
    if (!(n = realloc(*list, (*count + 1) * sizeof(*n)))) { free(dup); return -1; }
    n[(*count)++] = dup;
    *list = n;
    return 0;
}

int fh_config_list_remove(char ***list, size_t *count, const char *item)
{
    for (size_t i = 0; i < *count; i++)
    {
        if (strcmp((*list)[i], item)) continue;
        free((*list)[i]);
        memmove(*list + i, *list + i + 1, (*count - i - 1) * sizeof(**list));
        (*count)--;
        return 0;
    }
    return 0;
}

int fh_path_under(const char *path, const char *folder)
{
    size_t n = strlen(folder);
    if (n == 1 && folder[0] == '/') return path[0] == '/';
    return !strncmp(path, folder, n) && (path[n] == 0 || path[n] == '/');
}

char *fh_config_dir(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *out;
    size_t len;

    if (xdg && xdg[0] == '/')
    {
        len = strlen(xdg) + 16;
        if ((out = malloc(len))) snprintf(out, len, "%s/filehistory", xdg);
        return out;
    }
    if (!home || !*home)
    {
        struct passwd *pw = getpwuid(getuid());
        if (!pw) return NULL;
        home = pw->pw_dir;
    }
    len = strlen(home) + 24;
    if ((out = malloc(len))) snprintf(out, len, "%s/.config/filehistory", home);
    return out;
}

char *fh_target_root(const struct fh_config *cfg)
{
    char *out;
    size_t len;
    if (!cfg->target_url) return NULL;
    len = strlen(cfg->target_url) + strlen(cfg->user_name) + strlen(cfg->pc_name) + 16;
    if ((out = malloc(len)))
        snprintf(out, len, "%s/FileHistory/%s/%s", strcmp(cfg->target_url, "/") ? cfg->target_url : "",
                 cfg->user_name, cfg->pc_name);
    return out;
}

/* A configuration copy: a regular file of at most 1 MiB, never reached
 * through a symbolic link (a target's Configuration directory is someone
 * else's, so is what a link in it points to). */
static char *read_whole_at(int dirfd, const char *name, size_t *len)
{
    /* the type first (O_PATH opens nothing): a FIFO or a device node named
     * Config1.xml is never opened, as opening one has effects of its own
     * (a FIFO's writer goes on, a device runs its open()) */
    int fd = fh_open_regular_beneath(dirfd, name, O_RDONLY | O_NONBLOCK, 0);
    struct stat st;
    char *buf = NULL;
    ssize_t got;

    if (fd < 0) return NULL;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) { close(fd); errno = EINVAL; return NULL; }
    if (!(buf = malloc(st.st_size + 1))) { close(fd); return NULL; }
    got = read(fd, buf, st.st_size);
    close(fd);
    if (got != st.st_size) { free(buf); errno = EIO; return NULL; }
    buf[got] = 0;
    *len = got;
    return buf;
}

/* Which of the two copies to overwrite next, and the generation to beat. */
static int load_copies_at(int dirfd, struct fh_config *best, int *older_slot, int *found_any)
{
    int best_slot = 0;

    *found_any = 0;
    for (int slot = 1; slot <= 2; slot++)
    {
        char name[] = "Config1.xml";
        size_t len;
        char *text;
        struct fh_config cfg;

        name[6] = '0' + slot;
        if (!(text = read_whole_at(dirfd, name, &len)))
        {
            if (errno != ENOENT) *found_any = 1;
            continue;
        }
        *found_any = 1;
        if (!fh_config_from_xml(text, len, &cfg))
        {
            if (!best_slot || cfg.generation > best->generation)
            {
                if (best_slot) fh_config_free(best);
                *best = cfg;
                best_slot = slot;
            }
            else fh_config_free(&cfg);
        }
        free(text);
    }
    *older_slot = best_slot == 1 ? 2 : 1;
    return best_slot;
}

static int load_copies(const char *dir, struct fh_config *best, int *older_slot, int *found_any)
{
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), slot;

    *found_any = 0;
    *older_slot = 1;
    if (dirfd < 0)
    {
        *found_any = errno != ENOENT;
        return 0;
    }
    slot = load_copies_at(dirfd, best, older_slot, found_any);
    close(dirfd);
    return slot;
}

uint32_t fh_config_load_at(int dirfd, struct fh_config *cfg)
{
    int older, any;
    memset(cfg, 0, sizeof(*cfg));
    if (load_copies_at(dirfd, cfg, &older, &any)) return FH_S_OK;
    return any ? FHCFG_E_CORRUPT_CONFIG_FILE : FHCFG_E_CONFIG_FILE_NOT_FOUND;
}

uint32_t fh_config_load(const char *dir, struct fh_config *cfg)
{
    int older, any;
    memset(cfg, 0, sizeof(*cfg));
    if (load_copies(dir, cfg, &older, &any)) return FH_S_OK;
    return any ? FHCFG_E_CORRUPT_CONFIG_FILE : FHCFG_E_CONFIG_FILE_NOT_FOUND;
}

/* Does dir's copy `slot` hold exactly xml? */
static int copy_holds(const char *dir, int slot, const char *xml)
{
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), same;
    char name[] = "Config1.xml", *text;
    size_t len;

    if (dirfd < 0) return 0;
    name[6] = '0' + slot;
    text = read_whole_at(dirfd, name, &len);
    close(dirfd);
    same = text && len == strlen(xml) && !memcmp(text, xml, len);
    free(text);
    return same;
}

/* Write cfg to both copies in dir, the older first.  bump: give it a
 * generation above both copies and complete it (a new configuration);
 * else keep cfg's and leave a copy that holds this very document (a mirror
 * of the user's copy). */
static int save_copy(const char *dir, struct fh_config *cfg, int bump)
{
    struct fh_config current;
    int older, any, err = 0;
    char path[4096], *xml;

    memset(&current, 0, sizeof(current));
    if (fh_mkdir_p(dir, 0700)) return errno;
    if (load_copies(dir, &current, &older, &any))
    {
        unsigned long long have = current.generation;
        fh_config_free(&current);
        if (bump && have >= cfg->generation) cfg->generation = have;
    }
    if (bump)
    {
        cfg->generation++;
        if ((err = complete_config(cfg))) return err;
    }
    if (!(xml = fh_config_to_xml(cfg))) return EINVAL;
    for (int i = 0; i < 2 && !err; i++)
    {
        int slot = i ? 3 - older : older;
        if (!bump && copy_holds(dir, slot, xml)) continue;
        snprintf(path, sizeof(path), "%s/Config%d.xml", dir, slot);
        err = fh_write_file_atomic(path, xml, strlen(xml), 0600) ? errno : 0;
    }
    free(xml);
    return err;
}

int fh_config_save(const char *dir, struct fh_config *cfg)
{
    return save_copy(dir, cfg, 1);
}

int fh_config_mirror(const char *dir, const struct fh_config *cfg)
{
    struct fh_config copy = *cfg;
    /* a configuration not saved since it was read in the old dialect has no
     * drive type yet; the target is reachable now, being written to */
    if (copy.target_url && copy.target_drive_type == FH_DRIVE_UNKNOWN)
        copy.target_drive_type = fh_target_drive_type(copy.target_url);
    return save_copy(dir, &copy, 0);
}

int fh_config_upgrade(const char *dir)
{
    struct fh_config cfg;
    char *xml;
    int current, err;

    if (fh_config_load(dir, &cfg)) return 0;
    xml = fh_config_to_xml(&cfg);
    current = xml && cfg.user_id && copy_holds(dir, 1, xml) && copy_holds(dir, 2, xml);
    free(xml);
    err = current ? 0 : fh_config_save(dir, &cfg);
    fh_config_free(&cfg);
    if (err) { errno = err; return -1; }
    return !current;
}
