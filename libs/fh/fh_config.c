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
 * The XML reader below handles exactly what such a document needs:
 * elements, attributes, text, the five predefined entities and numeric
 * character references, comments and the XML declaration.  DOCTYPE (and with
 * it any entity definition) is refused.  Anything malformed is
 * FHCFG_E_CORRUPT_CONFIG_FILE.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fh.h"

/* ------------------------------------------------------------------ */
/* a growable string */

struct strbuf { char *data; size_t len, cap; int failed; };

static void sb_append(struct strbuf *sb, const char *s, size_t n)
{
    if (sb->failed) return;
    if (sb->len + n + 1 > sb->cap)
    {
        size_t cap = sb->cap ? sb->cap : 256;
        char *p;
        while (cap < sb->len + n + 1) cap *= 2;
        if (!(p = realloc(sb->data, cap))) { sb->failed = 1; return; }
        sb->data = p; sb->cap = cap;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = 0;
}

static void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf)) { sb->failed = 1; return; }
    sb_append(sb, buf, n);
}

/* Valid UTF-8 without C0 controls or DEL: XML 1.0 cannot carry those. */
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

static int sb_escaped(struct strbuf *sb, const char *s)
{
    if (!text_is_representable(s)) return -1;
    for (; *s; s++)
    {
        switch (*s)
        {
        case '&': sb_append(sb, "&amp;", 5); break;
        case '<': sb_append(sb, "&lt;", 4); break;
        case '>': sb_append(sb, "&gt;", 4); break;
        case '"': sb_append(sb, "&quot;", 6); break;
        default: sb_append(sb, s, 1);
        }
    }
    return 0;
}

static int sb_element(struct strbuf *sb, const char *indent, const char *name, const char *value)
{
    sb_printf(sb, "%s<%s>", indent, name);
    if (sb_escaped(sb, value)) return -1;
    sb_printf(sb, "</%s>\n", name);
    return 0;
}

char *fh_config_to_xml(const struct fh_config *cfg)
{
    struct strbuf sb = {0};
    size_t i;
    int bad = 0;

    sb_printf(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb_printf(&sb, "<DataProtectionUserConfig SchemaVersion=\"1\">\n");
    bad |= sb_element(&sb, "  ", "UserName", cfg->user_name ? cfg->user_name : "");
    bad |= sb_element(&sb, "  ", "PCName", cfg->pc_name ? cfg->pc_name : "");
    sb_printf(&sb, "  <Generation>%llu</Generation>\n", cfg->generation);
    sb_printf(&sb, "  <Library>\n");
    for (i = 0; i < cfg->folder_count; i++) bad |= sb_element(&sb, "    ", "Folder", cfg->folders[i]);
    sb_printf(&sb, "  </Library>\n");
    sb_printf(&sb, "  <Exclusions>\n");
    for (i = 0; i < cfg->exclude_count; i++) bad |= sb_element(&sb, "    ", "Folder", cfg->excludes[i]);
    sb_printf(&sb, "  </Exclusions>\n");
    sb_printf(&sb, "  <RetentionPolicies>\n    <RetentionPolicy Type=\"%d\" MinimumAge=\"%llu\"/>\n"
              "  </RetentionPolicies>\n", cfg->retention_type, cfg->retention_age);
    sb_printf(&sb, "  <DPFrequency>%llu</DPFrequency>\n", cfg->frequency);
    sb_printf(&sb, "  <DPStatus>%d</DPStatus>\n", cfg->dp_status);
    if (cfg->target_url)
    {
        sb_printf(&sb, "  <Target>\n");
        bad |= sb_element(&sb, "    ", "TargetName", cfg->target_name ? cfg->target_name : "");
        bad |= sb_element(&sb, "    ", "TargetUrl", cfg->target_url);
        if (cfg->target_id) bad |= sb_element(&sb, "    ", "TargetId", cfg->target_id);
        sb_printf(&sb, "  </Target>\n");
    }
    sb_printf(&sb, "</DataProtectionUserConfig>\n");
    if (bad || sb.failed) { free(sb.data); return NULL; }
    return sb.data;
}

/* ------------------------------------------------------------------ */
/* the XML reader: a small tree */

struct xml_node
{
    char *name;
    char *text;                 /* character data directly inside (concatenated) */
    char **attr_names, **attr_values;
    size_t attr_count;
    struct xml_node **children;
    size_t child_count;
};

struct xml_parser { const char *p, *end; int depth; };

#define XML_MAX_DEPTH 16

static void xml_free(struct xml_node *n)
{
    size_t i;
    if (!n) return;
    free(n->name); free(n->text);
    for (i = 0; i < n->attr_count; i++) { free(n->attr_names[i]); free(n->attr_values[i]); }
    free(n->attr_names); free(n->attr_values);
    for (i = 0; i < n->child_count; i++) xml_free(n->children[i]);
    free(n->children);
    free(n);
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == ':';
}

static void skip_ws(struct xml_parser *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')) x->p++;
}

static int starts(struct xml_parser *x, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(x->end - x->p) >= n && !memcmp(x->p, s, n);
}

static char *parse_name(struct xml_parser *x)
{
    const char *s = x->p;
    char *out;
    if (x->p >= x->end || !(isalpha((unsigned char)*x->p) || *x->p == '_')) return NULL;
    while (x->p < x->end && is_name_char(*x->p)) x->p++;
    if (!(out = malloc(x->p - s + 1))) return NULL;
    memcpy(out, s, x->p - s);
    out[x->p - s] = 0;
    return out;
}

static void put_utf8(struct strbuf *sb, unsigned long cp)
{
    char b[4];
    if (cp < 0x80) { b[0] = cp; sb_append(sb, b, 1); }
    else if (cp < 0x800) { b[0] = 0xc0 | (cp >> 6); b[1] = 0x80 | (cp & 0x3f); sb_append(sb, b, 2); }
    else if (cp < 0x10000)
    {
        b[0] = 0xe0 | (cp >> 12); b[1] = 0x80 | ((cp >> 6) & 0x3f); b[2] = 0x80 | (cp & 0x3f);
        sb_append(sb, b, 3);
    }
    else
    {
        b[0] = 0xf0 | (cp >> 18); b[1] = 0x80 | ((cp >> 12) & 0x3f);
        b[2] = 0x80 | ((cp >> 6) & 0x3f); b[3] = 0x80 | (cp & 0x3f);
        sb_append(sb, b, 4);
    }
}

/* Character data up to `stop` ('<' for text, the quote for attributes), entities decoded. */
static int parse_chars(struct xml_parser *x, char stop, struct strbuf *sb)
{
    while (x->p < x->end && *x->p != stop)
    {
        if (*x->p == '&')
        {
            const char *semi = memchr(x->p, ';', x->end - x->p);
            size_t n;
            if (!semi || semi - x->p > 12) return -1;
            n = semi - x->p - 1;
            if (n == 3 && !memcmp(x->p + 1, "amp", 3)) sb_append(sb, "&", 1);
            else if (n == 2 && !memcmp(x->p + 1, "lt", 2)) sb_append(sb, "<", 1);
            else if (n == 2 && !memcmp(x->p + 1, "gt", 2)) sb_append(sb, ">", 1);
            else if (n == 4 && !memcmp(x->p + 1, "quot", 4)) sb_append(sb, "\"", 1);
            else if (n == 4 && !memcmp(x->p + 1, "apos", 4)) sb_append(sb, "'", 1);
            else if (n >= 2 && x->p[1] == '#')
            {
                char num[16], *end;
                unsigned long cp;
                int hex = x->p[2] == 'x';
                memcpy(num, x->p + 2 + hex, n - 1 - hex);
                num[n - 1 - hex] = 0;
                if (!num[0] || !isxdigit((unsigned char)num[0])) return -1;
                cp = strtoul(num, &end, hex ? 16 : 10);
                if (*end || cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
                if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') return -1;
                put_utf8(sb, cp);
            }
            else return -1;
            x->p = semi + 1;
        }
        else
        {
            if (*x->p == 0) return -1;
            sb_append(sb, x->p, 1);
            x->p++;
        }
    }
    return sb->failed ? -1 : 0;
}

/* Skip comments and processing instructions; -1 when malformed. */
static int skip_misc(struct xml_parser *x)
{
    for (;;)
    {
        skip_ws(x);
        if (starts(x, "<!--"))
        {
            const char *e = x->p + 4;
            while (e + 3 <= x->end && memcmp(e, "-->", 3)) e++;
            if (e + 3 > x->end) return -1;
            x->p = e + 3;
        }
        else if (starts(x, "<?"))
        {
            const char *e = x->p + 2;
            while (e + 2 <= x->end && memcmp(e, "?>", 2)) e++;
            if (e + 2 > x->end) return -1;
            x->p = e + 2;
        }
        else if (starts(x, "<!")) return -1;   /* DOCTYPE, CDATA: not in our documents */
        else return 0;
    }
}

static struct xml_node *parse_element(struct xml_parser *x)
{
    struct xml_node *n;
    struct strbuf text = {0};

    if (++x->depth > XML_MAX_DEPTH || x->p >= x->end || *x->p != '<') return NULL;
    x->p++;
    if (!(n = calloc(1, sizeof(*n)))) return NULL;
    if (!(n->name = parse_name(x))) goto fail;
    for (;;)
    {
        char *aname, **names, **values;
        struct strbuf val = {0};
        char quote;

        skip_ws(x);
        if (x->p >= x->end) goto fail;
        if (starts(x, "/>"))
        {
            x->p += 2;
            x->depth--;
            if (!(n->text = strdup(""))) goto fail;
            return n;
        }
        if (*x->p == '>') { x->p++; break; }
        if (!(aname = parse_name(x))) goto fail;
        skip_ws(x);
        if (x->p >= x->end || *x->p != '=') { free(aname); goto fail; }
        x->p++;
        skip_ws(x);
        if (x->p >= x->end || (*x->p != '"' && *x->p != '\'')) { free(aname); goto fail; }
        quote = *x->p++;
        if (parse_chars(x, quote, &val) || x->p >= x->end) { free(aname); free(val.data); goto fail; }
        x->p++;
        for (size_t i = 0; i < n->attr_count; i++)
            if (!strcmp(n->attr_names[i], aname)) { free(aname); free(val.data); goto fail; }
        names = realloc(n->attr_names, (n->attr_count + 1) * sizeof(*names));
        if (names) n->attr_names = names;
        values = realloc(n->attr_values, (n->attr_count + 1) * sizeof(*values));
        if (values) n->attr_values = values;
        if (!names || !values) { free(aname); free(val.data); goto fail; }
        n->attr_names[n->attr_count] = aname;
        n->attr_values[n->attr_count] = val.data ? val.data : strdup("");
        n->attr_count++;
    }
    for (;;)
    {
        if (parse_chars(x, '<', &text) || x->p >= x->end) goto fail;
        if (starts(x, "</"))
        {
            size_t len = strlen(n->name);
            x->p += 2;
            if ((size_t)(x->end - x->p) < len + 1 || memcmp(x->p, n->name, len)) goto fail;
            x->p += len;
            skip_ws(x);
            if (x->p >= x->end || *x->p != '>') goto fail;
            x->p++;
            break;
        }
        if (starts(x, "<!--") || starts(x, "<?") || starts(x, "<!"))
        {
            if (skip_misc(x)) goto fail;
            continue;
        }
        {
            struct xml_node *child = parse_element(x), **kids;
            if (!child) goto fail;
            if (!(kids = realloc(n->children, (n->child_count + 1) * sizeof(*kids)))) { xml_free(child); goto fail; }
            n->children = kids;
            n->children[n->child_count++] = child;
        }
    }
    n->text = text.data ? text.data : strdup("");
    if (!n->text) goto fail2;
    x->depth--;
    return n;
fail:
    free(text.data);
fail2:
    xml_free(n);
    return NULL;
}

static struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
    for (size_t i = 0; i < n->child_count; i++)
        if (!strcmp(n->children[i]->name, name)) return n->children[i];
    return NULL;
}

static const char *xml_attr(const struct xml_node *n, const char *name)
{
    for (size_t i = 0; i < n->attr_count; i++)
        if (!strcmp(n->attr_names[i], name)) return n->attr_values[i];
    return NULL;
}

static int parse_ull(const char *s, unsigned long long *v)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s)) return -1;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return (*end || errno) ? -1 : 0;
}

static int dup_text(const struct xml_node *root, const char *name, char **out, int required)
{
    const struct xml_node *n = xml_child(root, name);
    if (!n) return required ? -1 : 0;
    if (n->child_count) return -1;
    return (*out = strdup(n->text)) ? 0 : -1;
}

static int read_folders(const struct xml_node *list, char ***out, size_t *count)
{
    if (!list) return 0;
    for (size_t i = 0; i < list->child_count; i++)
    {
        const struct xml_node *f = list->children[i];
        if (strcmp(f->name, "Folder")) continue;
        if (f->child_count || !fh_path_is_valid(f->text)) return -1;
        if (fh_config_list_add(out, count, f->text)) return -1;
    }
    return 0;
}

uint32_t fh_config_from_xml(const char *text, size_t len, struct fh_config *cfg)
{
    struct xml_parser x = { text, text + len, 0 };
    struct xml_node *root = NULL, *n;
    const char *schema;
    unsigned long long v;

    memset(cfg, 0, sizeof(*cfg));
    cfg->frequency = FH_DEFAULT_FREQUENCY;
    cfg->retention_type = FH_RETENTION_DISABLED;
    cfg->retention_age = FH_DEFAULT_RETENTION_AGE;
    cfg->dp_status = FH_STATUS_ENABLED;
    if (!text || memchr(text, 0, len)) goto corrupt;
    if (skip_misc(&x) || !(root = parse_element(&x)) || skip_misc(&x) || x.p != x.end) goto corrupt;
    if (strcmp(root->name, "DataProtectionUserConfig")) goto corrupt;
    if (!(schema = xml_attr(root, "SchemaVersion")) || strcmp(schema, "1")) goto corrupt;
    if (dup_text(root, "UserName", &cfg->user_name, 1) || dup_text(root, "PCName", &cfg->pc_name, 1)) goto corrupt;
    if (!*cfg->user_name || strchr(cfg->user_name, '/') || !strcmp(cfg->user_name, ".") ||
        !strcmp(cfg->user_name, "..")) goto corrupt;
    if (!*cfg->pc_name || strchr(cfg->pc_name, '/') || !strcmp(cfg->pc_name, ".") ||
        !strcmp(cfg->pc_name, "..")) goto corrupt;
    if ((n = xml_child(root, "Generation")) && parse_ull(n->text, &cfg->generation)) goto corrupt;
    if (read_folders(xml_child(root, "Library"), &cfg->folders, &cfg->folder_count)) goto corrupt;
    if (read_folders(xml_child(root, "Exclusions"), &cfg->excludes, &cfg->exclude_count)) goto corrupt;
    if ((n = xml_child(root, "RetentionPolicies")) && (n = xml_child(n, "RetentionPolicy")))
    {
        const char *type = xml_attr(n, "Type"), *age = xml_attr(n, "MinimumAge");
        if (type)
        {
            if (parse_ull(type, &v) || v > FH_RETENTION_AGE) goto corrupt;
            cfg->retention_type = (int)v;
        }
        if (age)
        {
            if (parse_ull(age, &v) || v == 0 || v > 36500) goto corrupt;
            cfg->retention_age = v;
        }
    }
    if ((n = xml_child(root, "DPFrequency")))
    {
        if (parse_ull(n->text, &v) || v == 0 || v > 366ull * 86400) goto corrupt;
        cfg->frequency = v;
    }
    if ((n = xml_child(root, "DPStatus")))
    {
        if (parse_ull(n->text, &v) || v > 3) goto corrupt;
        cfg->dp_status = (int)v;
    }
    if ((n = xml_child(root, "Target")))
    {
        if (dup_text(n, "TargetUrl", &cfg->target_url, 1) || dup_text(n, "TargetName", &cfg->target_name, 0) ||
            dup_text(n, "TargetId", &cfg->target_id, 0))
            goto corrupt;
        if (!fh_path_is_valid(cfg->target_url)) goto corrupt;
        if (cfg->target_id && (strlen(cfg->target_id) != FH_TARGET_ID_LEN ||
                               strspn(cfg->target_id, "0123456789abcdef") != FH_TARGET_ID_LEN))
            goto corrupt;
    }
    xml_free(root);
    return FH_S_OK;
corrupt:
    xml_free(root);
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

static char *read_whole(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
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
static int load_copies(const char *dir, struct fh_config *best, int *older_slot, int *found_any)
{
    int best_slot = 0;

    *found_any = 0;
    for (int slot = 1; slot <= 2; slot++)
    {
        char path[4096];
        size_t len;
        char *text;
        struct fh_config cfg;

        snprintf(path, sizeof(path), "%s/Config%d.xml", dir, slot);
        if (!(text = read_whole(path, &len)))
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
