/*
 * Unit tests of the File History configuration (libs/fh/fh_config.c):
 * the Config1.xml document (root <DataProtectionUserConfig SchemaVersion="1">,
 * defaults DPFrequency 3600 s and FH_RETENTION_DISABLED from fhcfg.h), its
 * reader's refusal of malformed input, and the alternating atomic copies.
 */
#include "testutil.h"
#include <sys/stat.h>
#include "../libs/fh/fh_names.c"
#include "../libs/fh/fh_util.c"
#include "../libs/fh/fh_config.c"

static uint32_t parse(const char *text, struct fh_config *cfg)
{
    return fh_config_from_xml(text, strlen(text), cfg);
}

#define DOC(body) "<?xml version=\"1.0\"?>\n<DataProtectionUserConfig SchemaVersion=\"1\">" \
                  "<UserName>alice</UserName><PCName>pc1</PCName>" body "</DataProtectionUserConfig>\n"

static void test_defaults(void **state)
{
    struct fh_config cfg;

    assert_int_equal(parse(DOC(""), &cfg), FH_S_OK);
    assert_string_equal(cfg.user_name, "alice");
    assert_string_equal(cfg.pc_name, "pc1");
    assert_int_equal(cfg.frequency, 3600);
    assert_int_equal(cfg.retention_type, FH_RETENTION_DISABLED);
    assert_int_equal(cfg.dp_status, FH_STATUS_ENABLED);
    assert_null(cfg.target_url);
    assert_int_equal(cfg.folder_count, 0);
    fh_config_free(&cfg);
}

static void test_full_document(void **state)
{
    struct fh_config cfg;
    static const char doc[] = DOC(
        "<!-- a comment -->"
        "<Library><Folder>/home/alice/Documents</Folder><Folder>/home/alice/a &amp; b</Folder></Library>"
        "<Exclusions><Folder>/home/alice/Documents/tmp</Folder></Exclusions>"
        "<RetentionPolicies><RetentionPolicy Type='2' MinimumAge=\"30\"/></RetentionPolicies>"
        "<DPFrequency>600</DPFrequency><DPStatus>0</DPStatus>"
        "<Target><TargetName>disk</TargetName><TargetUrl>/media/disk</TargetUrl></Target>"
        "<UnknownElement attr=\"x\">ignored</UnknownElement>");

    assert_int_equal(parse(doc, &cfg), FH_S_OK);
    assert_int_equal(cfg.folder_count, 2);
    assert_string_equal(cfg.folders[0], "/home/alice/Documents");
    assert_string_equal(cfg.folders[1], "/home/alice/a & b");
    assert_int_equal(cfg.exclude_count, 1);
    assert_string_equal(cfg.excludes[0], "/home/alice/Documents/tmp");
    assert_int_equal(cfg.retention_type, FH_RETENTION_AGE);
    assert_int_equal(cfg.retention_age, 30);
    assert_int_equal(cfg.frequency, 600);
    assert_int_equal(cfg.dp_status, FH_STATUS_DISABLED);
    assert_string_equal(cfg.target_name, "disk");
    assert_string_equal(cfg.target_url, "/media/disk");
    fh_config_free(&cfg);
}

static void test_roundtrip(void **state)
{
    struct fh_config cfg, back;
    char *xml;

    memset(&cfg, 0, sizeof(cfg));
    cfg.user_name = strdup("bob");
    cfg.pc_name = strdup("host<1>");
    cfg.frequency = 900;
    cfg.retention_type = FH_RETENTION_AGE;
    cfg.retention_age = 7;
    cfg.dp_status = FH_STATUS_ENABLED;
    cfg.generation = 5;
    cfg.target_name = strdup("t \"q\"");
    cfg.target_url = strdup("/mnt/backup disk");
    assert_int_equal(fh_config_list_add(&cfg.folders, &cfg.folder_count, "/home/bob/caf\xc3\xa9 & <x>"), 0);
    assert_int_equal(fh_config_list_add(&cfg.folders, &cfg.folder_count, "/home/bob/caf\xc3\xa9 & <x>"), 0);
    assert_int_equal(cfg.folder_count, 1);   /* no duplicates */
    assert_int_equal(fh_config_list_add(&cfg.excludes, &cfg.exclude_count, "/home/bob/tmp"), 0);

    assert_non_null(xml = fh_config_to_xml(&cfg));
    assert_non_null(strstr(xml, "<DataProtectionUserConfig SchemaVersion=\"1\">"));
    assert_non_null(strstr(xml, "<DPFrequency>900</DPFrequency>"));
    assert_non_null(strstr(xml, "<TargetUrl>/mnt/backup disk</TargetUrl>"));
    assert_int_equal(parse(xml, &back), FH_S_OK);
    assert_string_equal(back.user_name, "bob");
    assert_string_equal(back.pc_name, "host<1>");
    assert_string_equal(back.folders[0], "/home/bob/caf\xc3\xa9 & <x>");
    assert_string_equal(back.excludes[0], "/home/bob/tmp");
    assert_string_equal(back.target_name, "t \"q\"");
    assert_string_equal(back.target_url, "/mnt/backup disk");
    assert_int_equal(back.frequency, 900);
    assert_int_equal(back.retention_type, FH_RETENTION_AGE);
    assert_int_equal(back.retention_age, 7);
    assert_int_equal(back.generation, 5);
    free(xml);
    fh_config_free(&back);

    /* XML 1.0 cannot carry control characters: refused, not mangled */
    free(cfg.pc_name);
    cfg.pc_name = strdup("bad\x01name");
    assert_null(fh_config_to_xml(&cfg));
    free(cfg.pc_name);
    cfg.pc_name = strdup("bad\xff");   /* not UTF-8 */
    assert_null(fh_config_to_xml(&cfg));
    fh_config_free(&cfg);
}

static void test_empty_elements(void **state)
{
    struct fh_config cfg;
    assert_int_equal(parse(DOC("<Library/><Exclusions></Exclusions>"), &cfg), FH_S_OK);
    assert_int_equal(cfg.folder_count, 0);
    assert_int_equal(cfg.exclude_count, 0);
    fh_config_free(&cfg);
}

static void test_character_references(void **state)
{
    struct fh_config cfg;
    assert_int_equal(parse("<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>&#x41;&#66;&lt;&gt;&apos;&quot;"
                           "</UserName><PCName>p</PCName></DataProtectionUserConfig>", &cfg), FH_S_OK);
    assert_string_equal(cfg.user_name, "AB<>'\"");
    fh_config_free(&cfg);
}

static void test_corrupt(void **state)
{
    static const char *const bad[] =
    {
        "",
        "not xml",
        "<Other SchemaVersion=\"1\"><UserName>a</UserName><PCName>p</PCName></Other>",
        "<DataProtectionUserConfig><UserName>a</UserName><PCName>p</PCName></DataProtectionUserConfig>",
        "<DataProtectionUserConfig SchemaVersion=\"2\"><UserName>a</UserName><PCName>p</PCName></DataProtectionUserConfig>",
        "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>a</UserName><PCName>p</PCName>",
        "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>a</PCName><PCName>p</PCName></DataProtectionUserConfig>",
        "<DataProtectionUserConfig SchemaVersion=\"1\"><PCName>p</PCName></DataProtectionUserConfig>",
        "<!DOCTYPE x [<!ENTITY e \"x\">]><DataProtectionUserConfig SchemaVersion=\"1\"><UserName>&e;</UserName>"
            "<PCName>p</PCName></DataProtectionUserConfig>",
        DOC("<Bad>&unknown;</Bad>"),
        DOC("<Bad>&#0;</Bad>"),
        DOC("<Bad>&#xD800;</Bad>"),
        DOC("<Library><Folder>relative/dir</Folder></Library>"),
        DOC("<Library><Folder>/home/../etc</Folder></Library>"),
        DOC("<DPFrequency>abc</DPFrequency>"),
        DOC("<DPFrequency>0</DPFrequency>"),
        DOC("<DPFrequency>-5</DPFrequency>"),
        DOC("<DPStatus>9</DPStatus>"),
        DOC("<RetentionPolicies><RetentionPolicy Type=\"7\"/></RetentionPolicies>"),
        DOC("<Target><TargetName>x</TargetName></Target>"),
        DOC("<Target><TargetUrl>C:\\backup</TargetUrl></Target>"),
        DOC("<A x=\"1\" x=\"2\"/>"),
        DOC("<A x=1/>"),
        DOC("") "trailing",
        DOC("") "<Second/>",
        "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>..</UserName><PCName>p</PCName></DataProtectionUserConfig>",
        "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>a/b</UserName><PCName>p</PCName></DataProtectionUserConfig>",
        "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName></UserName><PCName>p</PCName></DataProtectionUserConfig>",
        "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName/><PCName>p</PCName></DataProtectionUserConfig>",
        DOC("<DPFrequency/>"),
        DOC("<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a>"),
    };
    struct fh_config cfg;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    {
        uint32_t hr = parse(bad[i], &cfg);
        if (hr != FHCFG_E_CORRUPT_CONFIG_FILE) fail_msg("document %zu accepted: got %#x", i, hr);
    }
    /* an embedded NUL */
    {
        static const char nul_doc[] = DOC("<X>a\0b</X>");
        assert_int_equal(fh_config_from_xml(nul_doc, sizeof(nul_doc) - 1, &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    }
    assert_int_equal(fh_config_from_xml(NULL, 0, &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
}

/* What a hostile target can put in Config1.xml: each is refused, quickly and
 * without a large allocation (ASan reports leaks; the time is bounded by
 * the test's own run time). */
static void test_hostile(void **state)
{
    static const char laughs[] =
        "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
        "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>&d;</UserName><PCName>p</PCName></DataProtectionUserConfig>";
    static const char external[] =
        "<!DOCTYPE d SYSTEM \"file:///etc/passwd\"><DataProtectionUserConfig SchemaVersion=\"1\">"
        "<UserName>a</UserName><PCName>p</PCName></DataProtectionUserConfig>";
    /* UTF-16 with a BOM: the reader takes UTF-8 only */
    static const char utf16[] = "\xff\xfe<\0D\0/\0>\0";
    struct fh_config cfg;
    char *doc, *p;
    size_t i, n;

    assert_int_equal(parse(laughs, &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    assert_int_equal(parse(external, &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    assert_int_equal(fh_config_from_xml(utf16, sizeof(utf16) - 1, &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    /* elements in a namespace are not ours */
    assert_int_equal(parse("<x:DataProtectionUserConfig xmlns:x=\"urn:x\" SchemaVersion=\"1\"><x:UserName>a</x:UserName>"
                           "<x:PCName>p</x:PCName></x:DataProtectionUserConfig>", &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    /* a text where a number belongs, an element where text belongs */
    assert_int_equal(parse(DOC("<Generation>1e3</Generation>"), &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    assert_int_equal(parse("<DataProtectionUserConfig SchemaVersion=\"1\"><UserName><b>a</b></UserName>"
                           "<PCName>p</PCName></DataProtectionUserConfig>", &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    assert_int_equal(parse(DOC("<DPFrequency>99999999999999999999999</DPFrequency>"), &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    assert_int_equal(parse(DOC("<RetentionPolicies><RetentionPolicy MinimumAge=\"36501\"/></RetentionPolicies>"), &cfg),
                     FHCFG_E_CORRUPT_CONFIG_FILE);
    /* XML can carry DEL and line breaks, the writer cannot: refused on reading
     * (found by fuzz_fh_config: such a configuration loaded but never saved) */
    assert_int_equal(parse("<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>a</UserName>"
                           "<PCName>h\x7fst</PCName></DataProtectionUserConfig>", &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    assert_int_equal(parse(DOC("<Library><Folder>/a&#10;b</Folder></Library>"), &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    /* paths that leave where they claim to be */
    assert_int_equal(parse(DOC("<Target><TargetUrl>/media/../../etc</TargetUrl></Target>"), &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    assert_int_equal(parse(DOC("<Target><TargetUrl>/</TargetUrl></Target>"), &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    assert_int_equal(parse(DOC("<Library><Folder>/home/a/./b</Folder></Library>"), &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);

    /* 100,000 levels deep */
    n = 100000;
    assert_non_null(doc = malloc(n * 7 + 512));
    p = doc + sprintf(doc, "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>a</UserName><PCName>p</PCName>");
    for (i = 0; i < n; i++) p += sprintf(p, "<a>");
    for (i = 0; i < n; i++) p += sprintf(p, "</a>");
    p += sprintf(p, "</DataProtectionUserConfig>");
    assert_int_equal(fh_config_from_xml(doc, p - doc, &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    free(doc);

    /* more folders than a list may hold; exactly the limit is fine */
    for (int over = 0; over <= 1; over++)
    {
        n = 1024 + over;
        assert_non_null(doc = malloc(n * 40 + 512));
        p = doc + sprintf(doc, "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>a</UserName><PCName>p</PCName><Library>");
        for (i = 0; i < n; i++) p += sprintf(p, "<Folder>/f/%zu</Folder>", i);
        p += sprintf(p, "</Library></DataProtectionUserConfig>");
        assert_int_equal(fh_config_from_xml(doc, p - doc, &cfg), over ? FHCFG_E_CORRUPT_CONFIG_FILE : FH_S_OK);
        if (!over) { assert_int_equal(cfg.folder_count, 1024); fh_config_free(&cfg); }
        free(doc);
    }
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_save_load(void **state)
{
    char *dir = testutil_mkdtemp(), path[4200];
    struct fh_config cfg, got;
    struct stat st;

    assert_int_equal(fh_config_load(dir, &got), FHCFG_E_CONFIG_FILE_NOT_FOUND);
    assert_int_equal(fh_config_init_default(&cfg), 0);
    assert_int_equal(cfg.frequency, FH_DEFAULT_FREQUENCY);
    cfg.frequency = 100;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    assert_int_equal(cfg.generation, 1);
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* the second save goes to the other copy; the newer one wins */
    cfg.frequency = 200;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    snprintf(path, sizeof(path), "%s/Config2.xml", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.frequency, 200);
    assert_int_equal(got.generation, 2);
    fh_config_free(&got);

    /* a torn newer copy: the older one is used */
    write_text(path, "<DataProtectionUserConfig SchemaVers");
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.frequency, 100);
    fh_config_free(&got);

    /* the next save replaces the broken copy, not the good one */
    cfg.frequency = 300;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.frequency, 300);
    fh_config_free(&got);
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    fh_config_free(&got);

    /* both broken */
    write_text(path, "x");
    snprintf(path, sizeof(path), "%s/Config2.xml", dir);
    write_text(path, "y");
    assert_int_equal(fh_config_load(dir, &got), FHCFG_E_CORRUPT_CONFIG_FILE);

    fh_config_free(&cfg);
    testutil_rmtree(dir);
}

static void test_mirror(void **state)
{
    char *dir = testutil_mkdtemp(), path[4200];
    struct fh_config cfg, got;
    struct stat st;

    assert_int_equal(fh_config_init_default(&cfg), 0);
    cfg.generation = 7;
    assert_int_equal(fh_config_mirror(dir, &cfg), 0);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.generation, 7);   /* the mirror keeps the user's generation */
    fh_config_free(&got);
    /* same generation again: nothing written */
    assert_int_equal(fh_config_mirror(dir, &cfg), 0);
    snprintf(path, sizeof(path), "%s/Config2.xml", dir);
    assert_int_equal(stat(path, &st), -1);
    cfg.generation = 8;
    assert_int_equal(fh_config_mirror(dir, &cfg), 0);
    assert_int_equal(stat(path, &st), 0);
    fh_config_free(&cfg);
    testutil_rmtree(dir);
}

static void test_config_dir(void **state)
{
    char *saved_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char *dir;

    setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
    dir = fh_config_dir();
    assert_string_equal(dir, "/x/cfg/filehistory");
    free(dir);
    /* the XDG spec ignores a relative value */
    setenv("XDG_CONFIG_HOME", "relative", 1);
    setenv("HOME", "/home/h", 1);
    dir = fh_config_dir();
    assert_string_equal(dir, "/home/h/.config/filehistory");
    free(dir);
    unsetenv("XDG_CONFIG_HOME");
    dir = fh_config_dir();
    assert_string_equal(dir, "/home/h/.config/filehistory");
    free(dir);
    if (saved_xdg) setenv("XDG_CONFIG_HOME", saved_xdg, 1);
    if (saved_home) setenv("HOME", saved_home, 1); else unsetenv("HOME");
    free(saved_xdg); free(saved_home);
}

static void test_lists_and_paths(void **state)
{
    char **list = NULL;
    size_t count = 0;

    assert_true(fh_path_under("/a/b", "/a"));
    assert_true(fh_path_under("/a", "/a"));
    assert_false(fh_path_under("/ab", "/a"));
    assert_true(fh_path_under("/anything", "/"));
    assert_int_equal(fh_config_list_add(&list, &count, "/a"), 0);
    assert_int_equal(fh_config_list_add(&list, &count, "/b"), 0);
    assert_int_equal(fh_config_list_remove(&list, &count, "/a"), 0);
    assert_int_equal(count, 1);
    assert_string_equal(list[0], "/b");
    fh_strv_free(list, count);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_document),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_empty_elements),
        cmocka_unit_test(test_character_references),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_mirror),
        cmocka_unit_test(test_config_dir),
        cmocka_unit_test(test_lists_and_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
