/*
 * The configuration commands of the service protocol (docs/fh-protocol.md,
 * section 7): the wire face of fh_cfgmgr.c for fhcfg.dll.
 *
 * Each connection owns one fh_cfgsession, created on its first
 * configuration command and freed with the connection: the FhConfigMgr or
 * FhReassociation object on the other side holds its state here, so two
 * objects never see each other's unsaved changes (as on Windows, where each
 * object holds its own copy until SaveConfiguration).
 *
 * Strings travel percent-encoded after a '=' (bytes 0x21..0x7e but '%' as
 * they are, every other byte as %XX); a string longer than a line holds is
 * sent in ARG parts first.  Long strings come back in parts the client asks
 * for by offset.  All of it is bounded: FH_ARG_MAX bytes per string.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fh.h"

#define FH_ARG_MAX      4096    /* longest string argument, in bytes */
#define FH_CHUNK_CHARS  160     /* longest encoded part in a reply */
#define MAX_WORDS       6

struct fh_cfgsession
{
    struct fh_cfgmgr *mgr;
    char arg[FH_ARG_MAX + 1];   /* ARG parts received so far */
    size_t arg_len;
    char *target_name;          /* CFG_TARGET_NAME, for the next CFG_PROVISION */
    char **rules;               /* the last CFG_RULES snapshot */
    size_t rule_count;
};

void fh_cfgsession_free(struct fh_cfgsession *s)
{
    if (!s) return;
    fh_cfgmgr_free(s->mgr);
    free(s->target_name);
    fh_strv_free(s->rules, s->rule_count);
    free(s);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int fh_proto_decode(const char *in, char *out, size_t outsize, size_t *outlen)
{
    size_t n = 0;
    for (; *in; in++)
    {
        int c = (unsigned char)*in;
        if (c < 0x21 || c > 0x7e) return -1;
        if (c == '%')
        {
            int hi = hex_value(in[1]), lo = hi < 0 ? -1 : hex_value(in[2]);
            if (lo < 0 || !(c = hi * 16 + lo)) return -1;   /* no NUL inside a string */
            in += 2;
        }
        if (n + 1 >= outsize) return -1;
        out[n++] = (char)c;
    }
    out[n] = 0;
    *outlen = n;
    return 0;
}

/* Encodes as much of in as fits in outsize - 1 characters; *consumed says how much. */
size_t fh_proto_encode(const char *in, size_t inlen, char *out, size_t outsize, size_t *consumed)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0, i;
    for (i = 0; i < inlen; i++)
    {
        unsigned char c = (unsigned char)in[i];
        int plain = c >= 0x21 && c <= 0x7e && c != '%';
        if (n + (plain ? 1 : 3) >= outsize) break;
        if (plain) out[n++] = (char)c;
        else { out[n++] = '%'; out[n++] = hex[c >> 4]; out[n++] = hex[c & 15]; }
    }
    if (outsize) out[n] = 0;
    *consumed = i;
    return n;
}

/* Decimal without sign or leading zeros, at most max. */
static int parse_number(const char *word, unsigned long long max, unsigned long long *value)
{
    unsigned long long v = 0;
    if (!word || !*word || (word[0] == '0' && word[1])) return -1;
    for (; *word; word++)
    {
        if (*word < '0' || *word > '9') return -1;
        if (v > (max - (unsigned long long)(*word - '0')) / 10) return -1;
        v = v * 10 + (unsigned long long)(*word - '0');
    }
    *value = v;
    return 0;
}

/* The string of a "=..." word, appended to the pending ARG parts (then cleared). */
static const char *take_string(struct fh_cfgsession *s, const char *word)
{
    size_t len;
    if (!word || word[0] != '=') return NULL;
    if (fh_proto_decode(word + 1, s->arg + s->arg_len, sizeof(s->arg) - s->arg_len, &len)) return NULL;
    s->arg_len = 0;
    return s->arg;
}

/* "<total> =<part from offset>" */
static uint32_t reply_string(const char *value, unsigned long long offset, char *text, size_t textsize)
{
    size_t len = strlen(value), used, consumed;
    char part[FH_CHUNK_CHARS + 1];

    if (offset > len) return FH_E_INVALIDARG;
    fh_proto_encode(value + offset, len - offset, part, sizeof(part), &consumed);
    used = (size_t)snprintf(text, textsize, "%zu =%s", len, part);
    return used < textsize ? FH_S_OK : FH_E_INVALIDARG;
}

struct command
{
    const char *word;
    int args;       /* words after the command */
};

static const struct command commands[] =
{
    { "ARG", 1 }, { "CFG_LOAD", 0 }, { "CFG_LIBRARY", 1 }, { "CFG_CREATE", 1 }, { "CFG_SAVE", 0 },
    { "CFG_EXCLUDE", 3 }, { "CFG_RULES", 2 }, { "CFG_RULE", 2 }, { "CFG_POLICY", 1 },
    { "CFG_SET_POLICY", 2 }, { "CFG_STATUS", 0 }, { "CFG_SET_STATUS", 1 }, { "CFG_TARGET", 2 },
    { "CFG_TARGET_DRIVE", 0 }, { "CFG_VALIDATE", 1 }, { "CFG_TARGET_NAME", 1 }, { "CFG_PROVISION", 1 },
    { "CFG_RECOMMEND", 1 }, { "CFG_PROTECTION", 0 }, { "REASSOC_VALIDATE", 1 }, { "REASSOC_SCAN", 1 },
    { "REASSOC_DETAILS", 3 }, { "REASSOC_TIME", 1 }, { "REASSOC_SELECT", 1 }, { "REASSOC_PERFORM", 1 },
};

static uint32_t run(struct fh_cfgsession *s, const struct fh_cfgproto_env *env, const char *cmd, char **w,
                    char *text, size_t textsize)
{
    unsigned long long a = 0, b = 0, c = 0;
    const char *str, *name, *url;
    uint32_t hr;
    int value;
    time_t when;

#define FLAG(word, out) do { if (parse_number(word, 1, &(out))) return FH_E_INVALIDARG; } while (0)
#define NUMBER(word, max, out) do { if (parse_number(word, max, &(out))) return FH_E_INVALIDARG; } while (0)
#define STRING(word) do { if (!(str = take_string(s, word))) return FH_E_INVALIDARG; } while (0)

    if (!strcmp(cmd, "ARG"))
    {
        size_t len;
        if (!w[0] || w[0][0] != '=' ||
            fh_proto_decode(w[0] + 1, s->arg + s->arg_len, sizeof(s->arg) - s->arg_len, &len))
        {
            s->arg_len = 0;
            return FH_E_INVALIDARG;
        }
        s->arg_len += len;
        return FH_S_OK;
    }
    if (!strcmp(cmd, "CFG_LOAD")) return fh_cfgmgr_load(s->mgr);
    if (!strcmp(cmd, "CFG_LIBRARY")) { STRING(w[0]); return fh_cfgmgr_add_library(s->mgr, str); }
    if (!strcmp(cmd, "CFG_CREATE"))
    {
        FLAG(w[0], a);
        if (!(hr = fh_cfgmgr_create_default(s->mgr, (int)a)) && env->changed) env->changed(env->ctx);
        return hr;
    }
    if (!strcmp(cmd, "CFG_SAVE"))
    {
        if (!(hr = fh_cfgmgr_save(s->mgr)) && env->changed) env->changed(env->ctx);
        return hr;
    }
    if (!strcmp(cmd, "CFG_EXCLUDE"))
    {
        FLAG(w[0], a);
        NUMBER(w[1], 255, b);
        STRING(w[2]);
        return fh_cfgmgr_exclude(s->mgr, (int)a, (int)b, str);
    }
    if (!strcmp(cmd, "CFG_RULES"))
    {
        FLAG(w[0], a);
        NUMBER(w[1], 255, b);
        fh_strv_free(s->rules, s->rule_count);
        s->rules = NULL;
        s->rule_count = 0;
        if ((hr = fh_cfgmgr_rules(s->mgr, (int)a, (int)b, &s->rules, &s->rule_count))) return hr;
        snprintf(text, textsize, "%zu", s->rule_count);
        return FH_S_OK;
    }
    if (!strcmp(cmd, "CFG_RULE"))
    {
        NUMBER(w[0], ~0ull, a);
        NUMBER(w[1], FH_ARG_MAX, b);
        if (a >= s->rule_count) return FH_E_NOT_FOUND;
        return reply_string(s->rules[a], b, text, textsize);
    }
    if (!strcmp(cmd, "CFG_POLICY"))
    {
        NUMBER(w[0], 255, a);
        if ((hr = fh_cfgmgr_get_policy(s->mgr, (int)a, &b))) return hr;
        snprintf(text, textsize, "%llu", b);
        return FH_S_OK;
    }
    if (!strcmp(cmd, "CFG_SET_POLICY"))
    {
        NUMBER(w[0], 255, a);
        NUMBER(w[1], ~0ull, b);
        return fh_cfgmgr_set_policy(s->mgr, (int)a, b);
    }
    if (!strcmp(cmd, "CFG_STATUS"))
    {
        if ((hr = fh_cfgmgr_get_status(s->mgr, &value))) return hr;
        snprintf(text, textsize, "%d", value);
        return FH_S_OK;
    }
    if (!strcmp(cmd, "CFG_SET_STATUS")) { NUMBER(w[0], 255, a); return fh_cfgmgr_set_status(s->mgr, (int)a); }
    if (!strcmp(cmd, "CFG_TARGET"))
    {
        FLAG(w[0], a);
        NUMBER(w[1], FH_ARG_MAX, b);
        if ((hr = fh_cfgmgr_target(s->mgr, &name, &url))) return hr;
        return reply_string(a ? url : name, b, text, textsize);
    }
    if (!strcmp(cmd, "CFG_TARGET_DRIVE"))
    {
        if ((hr = fh_cfgmgr_target_drive_type(s->mgr, &value))) return hr;
        snprintf(text, textsize, "%d", value);
        return FH_S_OK;
    }
    if (!strcmp(cmd, "CFG_VALIDATE") || !strcmp(cmd, "REASSOC_VALIDATE"))
    {
        STRING(w[0]);
        hr = cmd[0] == 'C' ? fh_cfgmgr_validate_target(s->mgr, str, &value)
                           : fh_cfgmgr_reassoc_validate(s->mgr, str, &value);
        if (!hr) snprintf(text, textsize, "%d", value);
        return hr;
    }
    if (!strcmp(cmd, "CFG_TARGET_NAME"))
    {
        char *copy;
        STRING(w[0]);
        if (!(copy = strdup(str))) return FH_E_OUTOFMEMORY;
        free(s->target_name);
        s->target_name = copy;
        return FH_S_OK;
    }
    if (!strcmp(cmd, "CFG_PROVISION"))
    {
        STRING(w[0]);
        hr = fh_cfgmgr_provision(s->mgr, str, s->target_name ? s->target_name : "");
        free(s->target_name);
        s->target_name = NULL;
        return hr;
    }
    if (!strcmp(cmd, "CFG_RECOMMEND")) { FLAG(w[0], a); return fh_cfgmgr_recommend(s->mgr, (int)a); }
    if (!strcmp(cmd, "CFG_PROTECTION"))
    {
        char until[32] = "-";
        uint32_t state;
        if (!fh_cfgmgr_loaded(s->mgr)) return FHCFG_E_NO_VALID_CONFIGURATION_LOADED;
        when = 0;
        state = env->protection ? env->protection(env->ctx, &when) : FH_STATE_NOT_TRACKED;
        if (when) fh_format_iso(when, until, sizeof(until));
        snprintf(text, textsize, "%08X %s", state, until);
        return FH_S_OK;
    }
    if (!strcmp(cmd, "REASSOC_SCAN"))
    {
        STRING(w[0]);
        if ((hr = fh_cfgmgr_scan(s->mgr, str))) return hr;
        snprintf(text, textsize, "%zu", fh_cfgmgr_found_count(s->mgr));
        return FH_S_OK;
    }
    if (!strcmp(cmd, "REASSOC_DETAILS"))
    {
        NUMBER(w[0], ~0ull, a);
        FLAG(w[1], b);
        NUMBER(w[2], FH_ARG_MAX, c);
        if ((hr = fh_cfgmgr_found(s->mgr, (unsigned long)a, &name, &url, &when))) return hr;
        return reply_string(b ? url : name, c, text, textsize);
    }
    if (!strcmp(cmd, "REASSOC_TIME"))
    {
        NUMBER(w[0], ~0ull, a);
        if ((hr = fh_cfgmgr_found(s->mgr, (unsigned long)a, &name, &url, &when))) return hr;
        snprintf(text, textsize, "%lld", (long long)when);
        return FH_S_OK;
    }
    if (!strcmp(cmd, "REASSOC_SELECT")) { NUMBER(w[0], ~0ull, a); return fh_cfgmgr_select(s->mgr, (unsigned long)a); }
    if (!strcmp(cmd, "REASSOC_PERFORM"))
    {
        FLAG(w[0], a);
        if (!(hr = fh_cfgmgr_reassociate(s->mgr, (int)a)) && env->changed) env->changed(env->ctx);
        return hr;
    }
#undef FLAG
#undef NUMBER
#undef STRING
    return FH_E_INVALIDARG;
}

int fh_cfgproto_handle(struct fh_cfgsession **session, const struct fh_cfgproto_env *env, char *line,
                       uint32_t *hr, char *text, size_t textsize)
{
    char *words[MAX_WORDS + 1], *p = line, *cmd;
    const struct command *known = NULL;
    size_t count = 0;
    struct fh_cfgsession *s;

    if (strncmp(line, "CFG_", 4) && strncmp(line, "REASSOC_", 8) && strncmp(line, "ARG ", 4)) return 0;
    text[0] = 0;
    cmd = strsep(&p, " ");
    while (p && count <= MAX_WORDS) words[count++] = strsep(&p, " ");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].word, cmd)) known = &commands[i];
    if (!(s = *session))
    {
        if (!(s = calloc(1, sizeof(*s))) || !(s->mgr = fh_cfgmgr_new(env->config_dir)))
        {
            free(s);
            *hr = FH_E_OUTOFMEMORY;
            return 1;
        }
        *session = s;
    }
    /* a command other than ARG ends a run of ARG parts */
    if (!known || p || count != (size_t)known->args)
    {
        s->arg_len = 0;
        *hr = FH_E_INVALIDARG;
        return 1;
    }
    for (size_t i = 0; i < count; i++)
        if (!*words[i]) { s->arg_len = 0; *hr = FH_E_INVALIDARG; return 1; }
    words[count] = NULL;
    *hr = run(s, env, cmd, words, text, textsize);
    if (strcmp(cmd, "ARG")) s->arg_len = 0;
    return 1;
}
