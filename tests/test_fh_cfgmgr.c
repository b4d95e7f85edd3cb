/*
 * Unit tests of the configuration manager behind IFhConfigMgr and
 * IFhReassociation (libs/fh/fh_cfgmgr.c) and of its protocol face
 * (libs/fh/fh_cfgproto.c), on real directories.
 *
 * Expected values: FH_DEVICE_VALIDATION_RESULT and the HRESULTs from
 * fhcfg.h's documentation (ValidateTarget: FH_TARGET_PART_OF_LIBRARY means
 * "in the protection scope", which exclusions take away); the rest from
 * docs/fh-protocol.md and the attack findings each test names.
 */
#include "testutil.h"
#include <fcntl.h>
#include <sys/stat.h>
#include "../libs/fh/fh_names.c"
#include "../libs/fh/fh_util.c"
#include "../libs/fh/fh_config.c"
#include "../libs/fh/fh_winreg.c"
#include "../libs/fh/fh_errors.c"
#include "../libs/fh/fh_target.c"
#include "../libs/fh/fh_cfgmgr.c"
#include "../libs/fh/fh_cfgproto.c"

struct fixture
{
    char *root;         /* holds config/, home/ and target/ */
    char config[4096], home[4096], target[4096];
    char *saved_home;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *home = getenv("HOME");

    f->root = testutil_mkdtemp();
    snprintf(f->config, sizeof(f->config), "%s/config", f->root);
    snprintf(f->home, sizeof(f->home), "%s/home", f->root);
    snprintf(f->target, sizeof(f->target), "%s/target", f->root);
    assert_int_equal(mkdir(f->config, 0700), 0);
    assert_int_equal(mkdir(f->home, 0700), 0);
    assert_int_equal(mkdir(f->target, 0755), 0);
    f->saved_home = home ? strdup(home) : NULL;
    setenv("HOME", f->home, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->saved_home) setenv("HOME", f->saved_home, 1); else unsetenv("HOME");
    free(f->saved_home);
    testutil_rmtree(f->root);
    free(f);
    return 0;
}

static char *path_in(const char *dir, const char *name)
{
    char *p;
    assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* A manager with a default configuration protecting home/Documents (and
 * home/Pictures when asked). */
static struct fh_cfgmgr *new_default(struct fixture *f, int pictures)
{
    struct fh_cfgmgr *m = fh_cfgmgr_new(f->config);
    char *docs = path_in(f->home, "Documents"), *pics = path_in(f->home, "Pictures");

    mkdir(docs, 0700);
    assert_int_equal(fh_cfgmgr_add_library(m, docs), FH_S_OK);
    if (pictures)
    {
        mkdir(pics, 0700);
        assert_int_equal(fh_cfgmgr_add_library(m, pics), FH_S_OK);
    }
    assert_int_equal(fh_cfgmgr_create_default(m, 1), FH_S_OK);
    free(docs);
    free(pics);
    return m;
}

/* F08: Wine links a shell folder whose XDG folder is missing to $HOME; the
 * default scope must never become the whole home (or anything above it). */
static void test_default_scope_never_home(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m = fh_cfgmgr_new(f->config);
    char *docs = path_in(f->home, "Documents"), *link = path_in(f->root, "Videos");
    const struct fh_config *cfg;

    assert_int_equal(mkdir(docs, 0700), 0);
    assert_int_equal(symlink(f->home, link), 0);
    assert_int_equal(fh_cfgmgr_add_library(m, docs), FH_S_OK);
    assert_int_equal(fh_cfgmgr_add_library(m, link), FH_S_OK);       /* the home itself, through a link */
    assert_int_equal(fh_cfgmgr_add_library(m, f->home), FH_S_OK);
    assert_int_equal(fh_cfgmgr_add_library(m, f->root), FH_S_OK);    /* above the home */
    assert_int_equal(fh_cfgmgr_create_default(m, 1), FH_S_OK);
    cfg = fh_cfgmgr_config(m);
    assert_int_equal(cfg->folder_count, 1);
    assert_string_equal(cfg->folders[0], docs);
    fh_cfgmgr_free(m);
    free(docs);
    free(link);
}

/* F15: a folder the user excluded inside a library is not in the scope. */
static void test_validate_honours_exclusions(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m = new_default(f, 0);
    char *docs = path_in(f->home, "Documents"), *inside = path_in(docs, "backup-disk");
    int result = -1;

    assert_int_equal(mkdir(inside, 0700), 0);
    assert_int_equal(fh_cfgmgr_validate_target(m, inside, &result), FH_S_OK);
    assert_int_equal(result, FH_VALIDATION_PART_OF_LIBRARY);
    assert_int_equal(fh_cfgmgr_exclude(m, 1, FH_CATEGORY_FOLDER, inside), FH_S_OK);
    assert_int_equal(fh_cfgmgr_validate_target(m, inside, &result), FH_S_OK);
    assert_int_equal(result, FH_VALIDATION_VALID);
    /* a target holding a library is still part of it, exclusions or not */
    assert_int_equal(fh_cfgmgr_validate_target(m, f->home, &result), FH_S_OK);
    assert_int_equal(result, FH_VALIDATION_PART_OF_LIBRARY);
    fh_cfgmgr_free(m);
    free(docs);
    free(inside);
}

/* F13: "Z:\" is "/" under Wine: judged like any folder, never E_INVALIDARG. */
static void test_validate_root(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m = new_default(f, 0);
    int result = -1;

    assert_int_equal(fh_cfgmgr_validate_target(m, "/", &result), FH_S_OK);
    /* / holds the user's libraries */
    assert_int_equal(result, FH_VALIDATION_PART_OF_LIBRARY);
    fh_cfgmgr_free(m);
    m = fh_cfgmgr_new(f->config);
    assert_int_not_equal(fh_cfgmgr_scan(m, "/"), FH_E_INVALIDARG);
    fh_cfgmgr_free(m);
}

/* F11: a value the writer cannot write is refused when it is given, so a
 * later SaveConfiguration cannot fail and lose every other change. */
static void test_unsaveable_values_refused(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m = new_default(f, 0);
    char *odd = path_in(f->root, "odd\xef\xbf\xbf");    /* U+FFFF: no XML 1.0 character */

    assert_int_equal(mkdir(odd, 0700), 0);
    assert_int_equal(fh_cfgmgr_exclude(m, 1, FH_CATEGORY_FOLDER, odd), FH_E_INVALIDARG);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, "disk\x01one"), FH_E_INVALIDARG);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, "bad \xc3"), FH_E_INVALIDARG);
    assert_int_equal(fh_cfgmgr_set_policy(m, FH_POLICY_FREQUENCY, 600), FH_S_OK);
    assert_int_equal(fh_cfgmgr_save(m), FH_S_OK);
    fh_cfgmgr_free(m);
    free(odd);
}

/* F04: provisioning resets the protection state only when the new target is
 * saved: an object released without SaveConfiguration changes nothing. */
static void test_provision_state_reset_on_save(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m = new_default(f, 0);
    struct fh_state st = { FH_STATE_TARGET_ABSENT, 1700000000, 0 }, got;

    assert_int_equal(fh_state_save(f->config, &st), 0);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, ""), FH_S_OK);
    assert_int_equal(fh_state_load(f->config, &got), 0);
    assert_int_equal(got.state, FH_STATE_TARGET_ABSENT);
    assert_int_equal(got.protected_until, 1700000000);
    fh_cfgmgr_free(m);                                  /* released unsaved */
    assert_int_equal(fh_state_load(f->config, &got), 0);
    assert_int_equal(got.state, FH_STATE_TARGET_ABSENT);

    m = fh_cfgmgr_new(f->config);
    assert_int_equal(fh_cfgmgr_load(m), FH_S_OK);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, ""), FH_S_OK);
    assert_int_equal(fh_cfgmgr_save(m), FH_S_OK);
    assert_int_equal(fh_state_load(f->config, &got), 0);
    assert_int_equal(got.state, FH_STATE_NO_ERROR);
    assert_int_equal(got.protected_until, 0);
    fh_cfgmgr_free(m);
}

/* F07: on a target other users can write to, our own FileHistory/<user>/<pc>
 * left open to everyone is continued and made private. */
static void test_open_namespace_made_private(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m = new_default(f, 0);
    const struct fh_config *cfg = fh_cfgmgr_config(m);
    char *fhdir = path_in(f->target, "FileHistory"), *user, *pc, *conf;
    struct stat st;
    int result = -1;

    assert_true(asprintf(&user, "%s/%s", fhdir, cfg->user_name) > 0);
    assert_true(asprintf(&pc, "%s/%s", user, cfg->pc_name) > 0);
    assert_true(asprintf(&conf, "%s/Configuration", pc) > 0);
    assert_int_equal(mkdir(fhdir, 0777), 0);
    assert_int_equal(chmod(fhdir, 01777), 0);           /* a shared disk: sticky, like /tmp */
    assert_int_equal(mkdir(user, 0777), 0);
    assert_int_equal(mkdir(pc, 0777), 0);
    assert_int_equal(chmod(user, 0777), 0);
    assert_int_equal(chmod(pc, 0777), 0);

    assert_int_equal(fh_cfgmgr_validate_target(m, f->target, &result), FH_S_OK);
    assert_int_equal(result, FH_VALIDATION_NAMESPACE_EXISTS);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, ""), FH_S_OK);
    assert_int_equal(stat(user, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(pc, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(conf, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    fh_cfgmgr_free(m);
    free(fhdir);
    free(user);
    free(pc);
    free(conf);
}

/* F07: a FileHistory/<user> that someone else made (or a FileHistory they
 * own, can write and did not make sticky) is not ours to continue:
 * ValidateTarget says access denied and provisioning refuses it. */
static void test_foreign_namespace_refused(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m;
    char *fhdir = path_in(f->target, "FileHistory"), *user;
    int result = -1;

    if (geteuid() != 0) { free(fhdir); skip(); }        /* another owner needs root */
    m = new_default(f, 0);
    assert_true(asprintf(&user, "%s/%s", fhdir, fh_cfgmgr_config(m)->user_name) > 0);
    assert_int_equal(mkdir(fhdir, 01777), 0);
    assert_int_equal(chmod(fhdir, 01777), 0);
    assert_int_equal(mkdir(user, 0777), 0);
    assert_int_equal(chown(user, 65534, 65534), 0);
    assert_int_equal(fh_cfgmgr_validate_target(m, f->target, &result), FH_S_OK);
    assert_int_equal(result, FH_VALIDATION_ACCESS_DENIED);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, ""), FH_E_ACCESSDENIED);

    assert_int_equal(chown(user, 0, 0), 0);
    assert_int_equal(chown(fhdir, 65534, 65534), 0);
    assert_int_equal(chmod(fhdir, 0777), 0);
    assert_int_equal(fh_cfgmgr_validate_target(m, f->target, &result), FH_S_OK);
    assert_int_equal(result, FH_VALIDATION_ACCESS_DENIED);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, ""), FH_E_ACCESSDENIED);
    /* the same, sticky: still refused, since the owner of a sticky
     * directory may rename anything in it (our directory among them) */
    assert_int_equal(chmod(fhdir, 01777), 0);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, ""), FH_E_ACCESSDENIED);
    /* 0777 without the sticky bit lets anyone swap our directory: as the
     * directory is ours here (we are root), it is made 0755 first */
    assert_int_equal(chown(fhdir, 0, 0), 0);
    assert_int_equal(chmod(fhdir, 0777), 0);
    assert_int_equal(fh_cfgmgr_validate_target(m, f->target, &result), FH_S_OK);
    {
        struct stat st;
        assert_int_equal(stat(fhdir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
    }
    /* root's and sticky, like /tmp: only we and root may move our directory */
    assert_int_equal(chmod(fhdir, 01777), 0);
    assert_int_equal(fh_cfgmgr_provision(m, f->target, ""), FH_S_OK);
    fh_cfgmgr_free(m);
    free(fhdir);
    free(user);
}

/* A configuration document for user/pc on a disk's namespace. */
static void write_found_config(const char *target, const char *user, const char *pc, size_t pad)
{
    char *dir, *file;
    FILE *fp;

    assert_true(asprintf(&dir, "%s/FileHistory/%s/%s/Configuration", target, user, pc) > 0);
    assert_int_equal(mkdirs_nofollow(target, dir + strlen(target) + 1), 0);
    assert_true(asprintf(&file, "%s/Config1.xml", dir) > 0);
    assert_non_null(fp = fopen(file, "w"));
    fprintf(fp, "<?xml version=\"1.0\"?>\n<DataProtectionUserConfig SchemaVersion=\"1\">"
                "<UserName>%s</UserName><PCName>%s</PCName>", user, pc);
    for (size_t i = 0; i < pad; i++) fputc(' ', fp);
    fprintf(fp, "</DataProtectionUserConfig>\n");
    fclose(fp);
    free(dir);
    free(file);
}

/* F02: a scan's cost is bounded by what it parses, not by what it keeps:
 * documents with other hard links are never parsed, and past a byte budget
 * the scan stops. */
static void test_scan_bounded(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m = fh_cfgmgr_new(f->config);
    const char *user, *pc;
    char *one, *other;
    time_t when;

    write_found_config(f->target, "alice", "pc1", 0);
    assert_int_equal(fh_cfgmgr_scan(m, f->target), FH_S_OK);
    assert_int_equal(fh_cfgmgr_found_count(m), 1);

    /* bob's document is a hard link of carol's: neither counts */
    write_found_config(f->target, "carol", "pc1", 0);
    assert_true(asprintf(&one, "%s/FileHistory/carol/pc1/Configuration/Config1.xml", f->target) > 0);
    assert_true(asprintf(&other, "%s/FileHistory/bob/pc1/Configuration", f->target) > 0);
    assert_int_equal(mkdirs_nofollow(f->target, other + strlen(f->target) + 1), 0);
    free(other);
    assert_true(asprintf(&other, "%s/FileHistory/bob/pc1/Configuration/Config1.xml", f->target) > 0);
    assert_int_equal(link(one, other), 0);
    assert_int_equal(fh_cfgmgr_scan(m, f->target), FH_S_OK);
    assert_int_equal(fh_cfgmgr_found_count(m), 1);
    assert_int_equal(fh_cfgmgr_found(m, 0, &user, &pc, &when), FH_S_OK);
    assert_string_equal(user, "alice");
    free(one);
    free(other);

    /* 40 documents of 1 MiB: past the 32 MiB budget some are not parsed */
    for (int i = 0; i < 40; i++)
    {
        char name[16];
        snprintf(name, sizeof(name), "u%02d", i);
        write_found_config(f->target, name, "pc", (1u << 20) - 200);
    }
    assert_int_equal(fh_cfgmgr_scan(m, f->target), FH_S_OK);
    assert_true(fh_cfgmgr_found_count(m) < 35);
    assert_true(fh_cfgmgr_found_count(m) >= 1);
    fh_cfgmgr_free(m);
}

/* Attack pass 2, F08: on a shared disk another user made
 * FileHistory/alice/pc1 and a Config1.xml naming alice: reassociation finds
 * it (it is listed) but does not take it, or alice's versions would land in
 * that user's folders. */
static void test_reassociate_foreign_namespace_refused(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgmgr *m = fh_cfgmgr_new(f->config);
    char *cmd;

    if (geteuid() != 0) { fh_cfgmgr_free(m); skip(); }     /* another owner needs root */
    write_found_config(f->target, "alice", "pc1", 0);
    assert_true(asprintf(&cmd, "chown -R 65534:65534 '%s/FileHistory/alice'", f->target) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_int_equal(fh_cfgmgr_scan(m, f->target), FH_S_OK);
    assert_int_equal(fh_cfgmgr_found_count(m), 1);
    assert_int_equal(fh_cfgmgr_select(m, 0), FH_S_OK);
    assert_int_equal(fh_cfgmgr_reassociate(m, 1), FH_E_ACCESSDENIED);
    assert_true(access(f->config, F_OK) || !config_exists(f->config));
    /* the same namespace, ours: taken */
    assert_true(asprintf(&cmd, "chown -R 0:0 '%s/FileHistory/alice'", f->target) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_int_equal(fh_cfgmgr_reassociate(m, 1), FH_S_OK);
    fh_cfgmgr_free(m);
}

/* F05: a crafted generation that the next save would wrap is refused. */
static void test_generation_cannot_wrap(void **state)
{
    struct fh_config cfg;
    static const char doc[] = "<?xml version=\"1.0\"?>\n<DataProtectionUserConfig SchemaVersion=\"1\">"
        "<UserName>alice</UserName><PCName>pc1</PCName><Generation>18446744073709551615</Generation>"
        "</DataProtectionUserConfig>\n";
    assert_int_equal(fh_config_from_xml(doc, strlen(doc), &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
}

static uint32_t protection(void *ctx, time_t *until) { *until = 0; return FH_STATE_NO_ERROR; }
static void changed(void *ctx) { }

static uint32_t command(struct fh_cfgsession **s, const struct fh_cfgproto_env *env, const char *line)
{
    char copy[512], text[512];
    uint32_t hr = 0xdeadbeef;
    snprintf(copy, sizeof(copy), "%s", line);
    assert_int_equal(fh_cfgproto_handle(s, env, copy, &hr, text, sizeof(text)), 1);
    return hr;
}

/* F09: flags are 0 or 1 (docs/fh-protocol.md 7.2); 2..9 were taken as
 * numbers below the limit because max - digit wrapped. */
static void test_protocol_flags(void **state)
{
    struct fixture *f = *state;
    struct fh_cfgproto_env env = { f->config, protection, changed, NULL };
    struct fh_cfgsession *s = NULL;

    assert_int_equal(command(&s, &env, "CFG_CREATE 7"), FH_E_INVALIDARG);
    assert_int_equal(command(&s, &env, "CFG_CREATE 2"), FH_E_INVALIDARG);
    assert_int_equal(command(&s, &env, "CFG_CREATE 1"), FH_S_OK);
    assert_int_equal(command(&s, &env, "CFG_RULES 9 1"), FH_E_INVALIDARG);
    assert_int_equal(command(&s, &env, "CFG_RULES 1 1"), FH_S_OK);
    assert_int_equal(command(&s, &env, "CFG_RECOMMEND 5"), FH_E_INVALIDARG);
    assert_int_equal(command(&s, &env, "REASSOC_PERFORM 3"), FH_E_INVALIDARG);
    fh_cfgsession_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup_teardown(test_default_scope_never_home, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_honours_exclusions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsaveable_values_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provision_state_reset_on_save, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_namespace_made_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_namespace_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reassociate_foreign_namespace_refused, setup, teardown),
        cmocka_unit_test(test_generation_cannot_wrap),
        cmocka_unit_test_setup_teardown(test_protocol_flags, setup, teardown),
    };
    return cmocka_run_group_tests_name("fh_cfgmgr", tests, NULL, NULL);
}
