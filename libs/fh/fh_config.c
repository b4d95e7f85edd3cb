/*
 * The per-user File History configuration and its XML form.
 *
 * The same document is kept in two places:
 *   $XDG_CONFIG_HOME/filehistory/Config{1,2}.xml   (the user's copy, read by the service)
 *   <target>/FileHistory/<user>/<pc>/Configuration/Config{1,2}.xml   (the mirror on the target)
 * Each place holds two copies written alternately, each atomically (tmp,
 * fsync, rename): a crash while saving leaves the other copy intact, and the
 * reader takes the valid copy with the higher <Generation>.
 *
 * Document (root and element names follow Windows' Config1.xml; Generation
 * and TargetId are ours, readers that do not know them ignore them; TargetId
 * is the identity fh_target.c writes on the target):
 *
 *   <DataProtectionUserConfig SchemaVersion="1">
 *     <UserName>alice</UserName> <PCName>host</PCName> <Generation>7</Generation>
 *     <Library><Folder>/home/alice/Documents</Folder>...</Library>
 *     <Exclusions><Folder>/home/alice/Documents/tmp</Folder>...</Exclusions>
 *     <RetentionPolicies><RetentionPolicy Type="0" MinimumAge="365"/></RetentionPolicies>
 *     <DPFrequency>3600</DPFrequency> <DPStatus>2</DPStatus>
 *     <Target><TargetName>disk</TargetName><TargetUrl>/media/disk</TargetUrl>
 *             <TargetId>32 hex characters</TargetId></Target>
 *   </DataProtectionUserConfig>
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
#include <unistd.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fh.h"

/* ------------------------------------------------------------------ */
/* limits on what a configuration may hold: a Config1.xml on a target can
 * come from anyone, and every list is searched linearly */

#define XML_MAX_DEPTH     16        /* the document itself needs 4 */
#define XML_MAX_ITEMS     FH_MAX_LIST_ITEMS

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

/* ------------------------------------------------------------------ */
/* the writer: a libxml2 tree, serialized as indented UTF-8 */

static xmlNodePtr add_text(xmlNodePtr parent, const char *name, const char *value, int *bad)
{
    xmlNodePtr node;
    if (!text_is_representable(value)) { *bad = 1; return NULL; }
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

char *fh_config_to_xml(const struct fh_config *cfg)
{
    xmlDocPtr doc;
    xmlNodePtr root, list, node;
    xmlChar *mem = NULL;
    char *out = NULL, number[32];
    int size = 0, bad = 0;
    size_t i;

    pthread_once(&xml_once, xml_init);
    if (!(doc = xmlNewDoc(BAD_CAST "1.0"))) return NULL;
    if (!(root = xmlNewNode(NULL, BAD_CAST "DataProtectionUserConfig"))) goto done;
    xmlDocSetRootElement(doc, root);
    if (!xmlNewProp(root, BAD_CAST "SchemaVersion", BAD_CAST "1")) bad = 1;
    add_text(root, "UserName", cfg->user_name ? cfg->user_name : "", &bad);
    add_text(root, "PCName", cfg->pc_name ? cfg->pc_name : "", &bad);
    add_number(root, "Generation", cfg->generation, &bad);
    if (!(list = xmlNewChild(root, NULL, BAD_CAST "Library", NULL))) bad = 1;
    for (i = 0; list && i < cfg->folder_count; i++) add_text(list, "Folder", cfg->folders[i], &bad);
    if (!(list = xmlNewChild(root, NULL, BAD_CAST "Exclusions", NULL))) bad = 1;
    for (i = 0; list && i < cfg->exclude_count; i++) add_text(list, "Folder", cfg->excludes[i], &bad);
    if (!(list = xmlNewChild(root, NULL, BAD_CAST "RetentionPolicies", NULL)) ||
        !(node = xmlNewChild(list, NULL, BAD_CAST "RetentionPolicy", NULL)))
        bad = 1;
    else
    {
        snprintf(number, sizeof(number), "%d", cfg->retention_type);
        if (!xmlNewProp(node, BAD_CAST "Type", BAD_CAST number)) bad = 1;
        snprintf(number, sizeof(number), "%llu", cfg->retention_age);
        if (!xmlNewProp(node, BAD_CAST "MinimumAge", BAD_CAST number)) bad = 1;
    }
    add_number(root, "DPFrequency", cfg->frequency, &bad);
    add_number(root, "DPStatus", (unsigned long long)cfg->dp_status, &bad);
    if (cfg->target_url)
    {
        if (!(list = xmlNewChild(root, NULL, BAD_CAST "Target", NULL))) bad = 1;
        else
        {
            add_text(list, "TargetName", cfg->target_name ? cfg->target_name : "", &bad);
            add_text(list, "TargetUrl", cfg->target_url, &bad);
            if (cfg->target_id) add_text(list, "TargetId", cfg->target_id, &bad);
        }
    }
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
 * XML_MAX_ITEMS refused; the caller bounds the size (fh_config_load reads
 * at most 1 MiB). */

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

static int child_number(xmlNodePtr parent, const char *name, unsigned long long *v, int *present)
{
    char *text = NULL;
    int ret;
    *present = 0;
    if (child_text(parent, name, &text, 0)) return -1;
    if (!text) return 0;
    *present = 1;
    ret = parse_ull(text, v);
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

static int read_folders(xmlNodePtr list, char ***out, size_t *count)
{
    if (!list) return 0;
    for (xmlNodePtr f = list->children; f; f = f->next)
    {
        char *path;
        int ret;
        if (!is_element(f, "Folder")) continue;
        if (*count >= XML_MAX_ITEMS || !(path = element_text(f))) return -1;
        ret = fh_path_is_valid(path) ? fh_config_list_add(out, count, path) : -1;
        free(path);
        if (ret) return -1;
    }
    return 0;
}

static int config_name_is_valid(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
           strlen(name) < 256;
}

uint32_t fh_config_from_xml(const char *text, size_t len, struct fh_config *cfg)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr root, node;
    xmlChar *schema = NULL;
    unsigned long long v;
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
    if (child_text(root, "UserName", &cfg->user_name, 1) || child_text(root, "PCName", &cfg->pc_name, 1)) goto corrupt;
    if (!config_name_is_valid(cfg->user_name) || !config_name_is_valid(cfg->pc_name)) goto corrupt;
    if (child_number(root, "Generation", &v, &present)) goto corrupt;
    if (present) cfg->generation = v;
    if (read_folders(child_element(root, "Library"), &cfg->folders, &cfg->folder_count)) goto corrupt;
    if (read_folders(child_element(root, "Exclusions"), &cfg->excludes, &cfg->exclude_count)) goto corrupt;
    if ((node = child_element(root, "RetentionPolicies")) && (node = child_element(node, "RetentionPolicy")))
    {
        if (attr_number(node, "Type", &v, &present) || (present && v > FH_RETENTION_AGE)) goto corrupt;
        if (present) cfg->retention_type = (int)v;
        if (attr_number(node, "MinimumAge", &v, &present) || (present && (v == 0 || v > FH_MAX_RETENTION_AGE)))
            goto corrupt;
        if (present) cfg->retention_age = v;
    }
    if (child_number(root, "DPFrequency", &v, &present) || (present && (v == 0 || v > FH_MAX_FREQUENCY)))
        goto corrupt;
    if (present) cfg->frequency = v;
    if (child_number(root, "DPStatus", &v, &present) || (present && v > FH_STATUS_MAX)) goto corrupt;
    if (present) cfg->dp_status = (int)v;
    if ((node = child_element(root, "Target")))
    {
        if (child_text(node, "TargetUrl", &cfg->target_url, 1) || child_text(node, "TargetName", &cfg->target_name, 0) ||
            child_text(node, "TargetId", &cfg->target_id, 0))
            goto corrupt;
        if (!fh_path_is_valid(cfg->target_url)) goto corrupt;
        if (cfg->target_id && (strlen(cfg->target_id) != FH_TARGET_ID_LEN ||
                               strspn(cfg->target_id, "0123456789abcdef") != FH_TARGET_ID_LEN))
            goto corrupt;
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
    fh_strv_free(cfg->folders, cfg->folder_count);
    fh_strv_free(cfg->excludes, cfg->exclude_count);
    free(cfg->target_name); free(cfg->target_url); free(cfg->target_id);
    memset(cfg, 0, sizeof(*cfg));
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
    if (!cfg->user_name || !cfg->pc_name) { fh_config_free(cfg); return -1; }
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
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
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

/* Write cfg over the older of the two copies in dir; bump: give it a
 * generation above both copies (a new configuration), else keep cfg's (a
 * mirror of the user's copy; nothing is written when the newest copy
 * already has that generation). */
static int save_copy(const char *dir, struct fh_config *cfg, int bump)
{
    struct fh_config current;
    int older, any, err, slot;
    char path[4096], *xml;

    memset(&current, 0, sizeof(current));
    if (fh_mkdir_p(dir, 0700)) return errno;
    if ((slot = load_copies(dir, &current, &older, &any)))
    {
        unsigned long long have = current.generation;
        fh_config_free(&current);
        if (bump && have >= cfg->generation) cfg->generation = have;
        if (!bump && have == cfg->generation) return 0;
    }
    if (bump) cfg->generation++;
    if (!(xml = fh_config_to_xml(cfg))) return EINVAL;
    snprintf(path, sizeof(path), "%s/Config%d.xml", dir, older);
    err = fh_write_file_atomic(path, xml, strlen(xml), 0600) ? errno : 0;
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
    return save_copy(dir, &copy, 0);
}
