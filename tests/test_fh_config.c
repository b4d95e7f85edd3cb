/*
 * Unit tests of the File History configuration (libs/fh/fh_config.c) and
 * of the registry entries derived from it (libs/fh/fh_winreg.c):
 *   - the document is Windows' Config1.xml: the expected bytes below are the
 *     Windows 8 sample of docs/windows-evidence.md line for line (element
 *     names, order, two-space indentation, value words), with our values
 *     put in as that page's rules say (months in MinimumRetentionAge, our
 *     paths, TargetUrl ending with a separator, our own elements last);
 *   - documents Windows wrote (the Windows 8 sample, a Windows 10/11 one,
 *     the "2 years" retention of a forensic write-up) and the dialect this
 *     project wrote before are read;
 *   - the reader refuses malformed and hostile input;
 *   - both copies are written, Config1.xml is always the current one, and
 *     an old copy is rewritten in the current form once;
 *   - reassociation finds what a Windows machine left on a disk.
 * Defaults (DPFrequency 3600 s, FH_RETENTION_DISABLED, 365 days) are fhcfg.h's.
 */
#include "testutil.h"
#include <regex.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "../libs/fh/fh_names.c"
#include "../libs/fh/fh_util.c"
#include "../libs/fh/fh_config.c"
#include "../libs/fh/fh_winreg.c"
#include "../libs/fh/fh_errors.c"
#include "../libs/fh/fh_target.c"
#include "../libs/fh/fh_cfgmgr.c"

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

/* The dialect this project wrote before it wrote Windows' schema: existing
 * users' files and targets. */
static void test_old_dialect(void **state)
{
    struct fh_config cfg;
    static const char doc[] = DOC(
        "<Generation>7</Generation>"
        "<!-- a comment -->"
        "<Library><Folder>/home/alice/Documents</Folder><Folder>/home/alice/a &amp; b</Folder></Library>"
        "<Exclusions><Folder>/home/alice/Documents/tmp</Folder></Exclusions>"
        "<RetentionPolicies><RetentionPolicy Type='2' MinimumAge=\"30\"/></RetentionPolicies>"
        "<DPFrequency>600</DPFrequency><DPStatus>0</DPStatus>"
        "<Target><TargetName>disk</TargetName><TargetUrl>/media/disk</TargetUrl></Target>"
        "<UnknownElement attr=\"x\">ignored</UnknownElement>");

    assert_int_equal(parse(doc, &cfg), FH_S_OK);
    assert_int_equal(cfg.generation, 7);
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
    assert_null(cfg.user_id);
    assert_null(cfg.friendly_name);
    fh_config_free(&cfg);

    /* every number of FH_BACKUP_STATUS as the old dialect wrote it */
    for (int status = 0; status <= FH_STATUS_MAX; status++)
    {
        char text[256];
        snprintf(text, sizeof(text), DOC("<DPStatus>%d</DPStatus>"), status);
        assert_int_equal(parse(text, &cfg), FH_S_OK);
        assert_int_equal(cfg.dp_status, status);
        fh_config_free(&cfg);
    }
}

/* The Windows 8 sample (docs/windows-evidence.md), verbatim but for the
 * trailing blanks of the blog's rendering: Windows' paths name nothing
 * here, everything else is read. */
static const char windows8_sample[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<DataProtectionUserConfig SchemaVersion=\"1\">\r\n"
    "  <UserName>Admin</UserName>\r\n"
    "  <FriendlyName>Admin</FriendlyName>\r\n"
    "  <PCName>AV-WIN8-004</PCName>\r\n"
    "  <UserId>6f5671be-a258-45cc-9a08-377ef1c943fb</UserId>\r\n"
    "  <Library>\r\n"
    "    <LibraryName>*7b0db17d-9cd2-4a93-9733-46cc89022e7c</LibraryName>\r\n"
    "    <Folder>C:\\Users\\Admin\\Documents</Folder>\r\n"
    "    <Folder>C:\\Users\\Public\\Documents</Folder>\r\n"
    "  </Library>\r\n"
    "  <Library>\r\n"
    "    <LibraryName>*2112ab0a-c86a-4ffe-a368-0de96e47012e</LibraryName>\r\n"
    "    <Folder>C:\\Users\\Admin\\Music</Folder>\r\n"
    "    <Folder>C:\\Users\\Public\\Music</Folder>\r\n"
    "  </Library>\r\n"
    "  <UserFolder>C:\\Users\\Admin\\Contacts</UserFolder>\r\n"
    "  <UserFolder>C:\\Users\\Admin\\Desktop</UserFolder>\r\n"
    "  <UserFolder>C:\\Users\\Admin\\Favorites</UserFolder>\r\n"
    "  <LocalCatalogPath1>C:\\Users\\Admin\\AppData\\Local\\Microsoft\\Windows\\FileHistory\\Configuration\\Catalog1.edb</LocalCatalogPath1>\r\n"
    "  <LocalCatalogPath2>C:\\Users\\Admin\\AppData\\Local\\Microsoft\\Windows\\FileHistory\\Configuration\\Catalog2.edb</LocalCatalogPath2>\r\n"
    "  <StagingArea>\r\n"
    "    <StagingAreaPath>C:\\Users\\Admin\\AppData\\Local\\Microsoft\\Windows\\FileHistory\\Data</StagingAreaPath>\r\n"
    "    <StagingAreaMaximumCapacity>24986936729</StagingAreaMaximumCapacity>\r\n"
    "    <StagingAreaWarningThreshold>18740202546</StagingAreaWarningThreshold>\r\n"
    "  </StagingArea>\r\n"
    "  <AvailabilityPolicies>\r\n"
    "    <TargetAbsenceTime>5</TargetAbsenceTime>\r\n"
    "    <TimeInUnprotectedState>3</TimeInUnprotectedState>\r\n"
    "  </AvailabilityPolicies>\r\n"
    "  <RetentionPolicies>\r\n"
    "    <RetentionPolicyType>DISABLED</RetentionPolicyType>\r\n"
    "    <MinimumRetentionAge>365</MinimumRetentionAge>\r\n"
    "  </RetentionPolicies>\r\n"
    "  <DPFrequency>3600</DPFrequency>\r\n"
    "  <DPStatus>ENABLED</DPStatus>\r\n"
    "  <Target>\r\n"
    "    <TargetName>\\\\labhome099\\data\\FileHistoryBackup</TargetName>\r\n"
    "    <TargetUrl>\\\\labhome099\\data\\FileHistoryBackup\\</TargetUrl>\r\n"
    "    <TargetDriveType>REMOTE</TargetDriveType>\r\n"
    "    <TargetConfigPath1>Admin\\AV-WIN8-004\\Configuration\\Config1.xml</TargetConfigPath1>\r\n"
    "    <TargetConfigPath2>Admin\\AV-WIN8-004\\Configuration\\Config2.xml</TargetConfigPath2>\r\n"
    "    <TargetCatalogPath1>Admin\\AV-WIN8-004\\Configuration\\Catalog1.edb</TargetCatalogPath1>\r\n"
    "    <TargetCatalogPath2>Admin\\AV-WIN8-004\\Configuration\\Catalog2.edb</TargetCatalogPath2>\r\n"
    "    <TargetBackupStorePath>Admin\\AV-WIN8-004\\Data</TargetBackupStorePath>\r\n"
    "    <TargetWarningThreshold>98</TargetWarningThreshold>\r\n"
    "  </Target>\r\n"
    "</DataProtectionUserConfig>\r\n";

/* A Windows 10/11 document (a dashboard's test fixture "sampled from the
 * live machine"): retention until space is needed, a local disk. */
static const char windows10_sample[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DataProtectionUserConfig SchemaVersion=\"1\">\n"
    "  <UserName>higs7</UserName>\n"
    "  <FriendlyName>Scott Higgins</FriendlyName>\n"
    "  <PCName>SHIGS78-PC24</PCName>\n"
    "  <UserId>430e9483-d237-4479-b254-db897ff47121</UserId>\n"
    "  <UserFolder>C:\\Users\\higs7\\Documents</UserFolder>\n"
    "  <RetentionPolicies>\n"
    "    <RetentionPolicyType>NO LIMIT</RetentionPolicyType>\n"
    "    <MinimumRetentionAge>12</MinimumRetentionAge>\n"
    "  </RetentionPolicies>\n"
    "  <DPFrequency>3600</DPFrequency>\n"
    "  <DPStatus>ENABLED</DPStatus>\n"
    "  <Target>\n"
    "    <TargetName>Storage space</TargetName>\n"
    "    <TargetUrl>E:\\</TargetUrl>\n"
    "    <TargetDriveType>FIXED</TargetDriveType>\n"
    "    <TargetBackupStorePath>higs7\\SHIGS78-PC24\\Data</TargetBackupStorePath>\n"
    "    <TargetWarningThreshold>98</TargetWarningThreshold>\n"
    "  </Target>\n"
    "</DataProtectionUserConfig>\n";

static void test_windows_documents(void **state)
{
    struct fh_config cfg;
    char *doc, *p;

    assert_int_equal(parse(windows8_sample, &cfg), FH_S_OK);
    assert_string_equal(cfg.user_name, "Admin");
    assert_string_equal(cfg.friendly_name, "Admin");
    assert_string_equal(cfg.pc_name, "AV-WIN8-004");
    assert_string_equal(cfg.user_id, "6f5671be-a258-45cc-9a08-377ef1c943fb");
    assert_int_equal(cfg.folder_count, 0);          /* C:\Users\... is nothing here */
    assert_null(cfg.target_url);                    /* nor is a share of a Windows network */
    assert_null(cfg.target_name);
    assert_int_equal(cfg.frequency, 3600);
    assert_int_equal(cfg.dp_status, FH_STATUS_ENABLED);
    assert_int_equal(cfg.retention_type, FH_RETENTION_DISABLED);
    assert_int_equal(cfg.retention_age, fh_retention_days(365));    /* read as months (UNVERIFIED for Windows 8) */
    assert_int_equal(cfg.generation, 0);
    fh_config_free(&cfg);

    assert_int_equal(parse(windows10_sample, &cfg), FH_S_OK);
    assert_string_equal(cfg.friendly_name, "Scott Higgins");
    assert_int_equal(cfg.retention_type, FH_RETENTION_UNLIMITED);
    assert_int_equal(cfg.retention_age, 365);       /* 12 months */
    assert_null(cfg.target_url);                    /* E:\ */
    fh_config_free(&cfg);

    /* "2 years" in Windows 10's settings (the forensic write-up) */
    assert_non_null(doc = strdup(windows10_sample));
    memcpy(strstr(doc, "NO LIMIT"), "AGELIMIT", 8);
    p = strstr(doc, "<MinimumRetentionAge>12<") + strlen("<MinimumRetentionAge>");
    p[0] = '2'; p[1] = '4';
    assert_int_equal(parse(doc, &cfg), FH_S_OK);
    assert_int_equal(cfg.retention_type, FH_RETENTION_AGE);
    assert_int_equal(cfg.retention_age, 730);
    fh_config_free(&cfg);
    free(doc);
}

/* What Windows writes for a configuration, with our values: the Windows 8
 * sample above, element for element, written out by hand. */
static const char expected_windows_form[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DataProtectionUserConfig SchemaVersion=\"1\">\n"
    "  <UserName>Admin</UserName>\n"
    "  <FriendlyName>Admin</FriendlyName>\n"
    "  <PCName>AV-WIN8-004</PCName>\n"
    "  <UserId>6f5671be-a258-45cc-9a08-377ef1c943fb</UserId>\n"
    "  <UserFolder>/home/Admin/Contacts</UserFolder>\n"
    "  <UserFolder>/home/Admin/Desktop</UserFolder>\n"
    "  <LocalCatalogPath1>/mnt/labhome099/data/FileHistoryBackup/FileHistory/Admin/AV-WIN8-004/Configuration/Catalog.sqlite</LocalCatalogPath1>\n"
    "  <StagingArea>\n"
    "    <StagingAreaPath></StagingAreaPath>\n"
    "    <StagingAreaMaximumCapacity>0</StagingAreaMaximumCapacity>\n"
    "    <StagingAreaWarningThreshold>0</StagingAreaWarningThreshold>\n"
    "  </StagingArea>\n"
    "  <RetentionPolicies>\n"
    "    <RetentionPolicyType>DISABLED</RetentionPolicyType>\n"
    "    <MinimumRetentionAge>12</MinimumRetentionAge>\n"
    "  </RetentionPolicies>\n"
    "  <DPFrequency>3600</DPFrequency>\n"
    "  <DPStatus>ENABLED</DPStatus>\n"
    "  <Target>\n"
    "    <TargetName>FileHistoryBackup</TargetName>\n"
    "    <TargetUrl>/mnt/labhome099/data/FileHistoryBackup/</TargetUrl>\n"
    "    <TargetDriveType>REMOTE</TargetDriveType>\n"
    "    <TargetConfigPath1>Admin/AV-WIN8-004/Configuration/Config1.xml</TargetConfigPath1>\n"
    "    <TargetConfigPath2>Admin/AV-WIN8-004/Configuration/Config2.xml</TargetConfigPath2>\n"
    "    <TargetCatalogPath1>Admin/AV-WIN8-004/Configuration/Catalog.sqlite</TargetCatalogPath1>\n"
    "    <TargetBackupStorePath>Admin/AV-WIN8-004/Data</TargetBackupStorePath>\n"
    "    <TargetWarningThreshold>100</TargetWarningThreshold>\n"
    "  </Target>\n"
    "  <Winbackup>\n"
    "    <Generation>3</Generation>\n"
    "    <MinimumRetentionDays>365</MinimumRetentionDays>\n"
    "    <ExcludedFolder>/home/Admin/Desktop/tmp</ExcludedFolder>\n"
    "  </Winbackup>\n"
    "</DataProtectionUserConfig>\n";

static void fill_sample_config(struct fh_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->user_name = strdup("Admin");
    cfg->friendly_name = strdup("Admin");
    cfg->pc_name = strdup("AV-WIN8-004");
    cfg->user_id = strdup("6f5671be-a258-45cc-9a08-377ef1c943fb");
    assert_int_equal(fh_config_list_add(&cfg->folders, &cfg->folder_count, "/home/Admin/Contacts"), 0);
    assert_int_equal(fh_config_list_add(&cfg->folders, &cfg->folder_count, "/home/Admin/Desktop"), 0);
    assert_int_equal(fh_config_list_add(&cfg->excludes, &cfg->exclude_count, "/home/Admin/Desktop/tmp"), 0);
    cfg->retention_type = FH_RETENTION_DISABLED;
    cfg->retention_age = 365;
    cfg->frequency = 3600;
    cfg->dp_status = FH_STATUS_ENABLED;
    cfg->target_name = strdup("FileHistoryBackup");
    cfg->target_url = strdup("/mnt/labhome099/data/FileHistoryBackup");
    cfg->target_drive_type = FH_DRIVE_REMOTE;
    cfg->generation = 3;
}

static void test_windows_form(void **state)
{
    struct fh_config cfg, back;
    char *xml;

    fill_sample_config(&cfg);
    assert_non_null(xml = fh_config_to_xml(&cfg));
    assert_string_equal(xml, expected_windows_form);
    /* and it reads back as it was */
    assert_int_equal(parse(xml, &back), FH_S_OK);
    assert_string_equal(back.friendly_name, "Admin");
    assert_string_equal(back.user_id, cfg.user_id);
    assert_int_equal(back.folder_count, 2);
    assert_string_equal(back.folders[1], "/home/Admin/Desktop");
    assert_int_equal(back.exclude_count, 1);
    assert_string_equal(back.excludes[0], "/home/Admin/Desktop/tmp");
    assert_string_equal(back.target_url, "/mnt/labhome099/data/FileHistoryBackup");
    assert_int_equal(back.target_drive_type, FH_DRIVE_REMOTE);
    assert_int_equal(back.retention_age, 365);
    assert_int_equal(back.generation, 3);
    fh_config_free(&back);
    free(xml);

    /* the other words: until space is needed, an age (a forensic write-up's
     * "2 years" = AGELIMIT 24), off, a local disk; no target, no catalog */
    cfg.retention_type = FH_RETENTION_UNLIMITED;
    cfg.dp_status = FH_STATUS_DISABLED;
    cfg.target_drive_type = FH_DRIVE_FIXED;
    assert_non_null(xml = fh_config_to_xml(&cfg));
    assert_non_null(strstr(xml, "\n    <RetentionPolicyType>NO LIMIT</RetentionPolicyType>\n"));
    assert_non_null(strstr(xml, "\n  <DPStatus>DISABLED</DPStatus>\n"));
    assert_non_null(strstr(xml, "\n    <TargetDriveType>FIXED</TargetDriveType>\n"));
    free(xml);
    cfg.retention_type = FH_RETENTION_AGE;
    cfg.retention_age = 730;
    cfg.target_drive_type = FH_DRIVE_REMOVABLE;
    free(cfg.target_url);
    cfg.target_url = NULL;
    assert_non_null(xml = fh_config_to_xml(&cfg));
    assert_non_null(strstr(xml, "\n    <RetentionPolicyType>AGELIMIT</RetentionPolicyType>\n"
                                "    <MinimumRetentionAge>24</MinimumRetentionAge>\n"));
    assert_non_null(strstr(xml, "\n    <MinimumRetentionDays>730</MinimumRetentionDays>\n"));
    assert_null(strstr(xml, "<Target>"));
    assert_null(strstr(xml, "LocalCatalogPath1"));
    free(xml);
    fh_config_free(&cfg);
}

/* How the scripts written for Windows read the file: one element per line,
 * matched by a regular expression (an AutoHotkey tool, a Python dashboard),
 * and LanHistory's drive test (case-insensitive "remote"). */
static char *line_value(const char *xml, const char *element)
{
    char pattern[128], *out = NULL;
    regex_t re;
    regmatch_t m[2];
    const char *line = xml;

    snprintf(pattern, sizeof(pattern), "^[ \t]*<%s>([^<]*)</%s>[ \t\r]*$", element, element);
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED), 0);
    while (*line)
    {
        size_t len = strcspn(line, "\n");
        char *copy = strndup(line, len);
        if (!regexec(&re, copy, 2, m, 0))
        {
            assert_null(out);   /* once */
            out = strndup(copy + m[1].rm_so, m[1].rm_eo - m[1].rm_so);
        }
        free(copy);
        line += len + (line[len] == '\n');
    }
    regfree(&re);
    return out;
}

static void test_line_readers(void **state)
{
    struct fh_config cfg;
    char *xml, *v;

    fill_sample_config(&cfg);
    assert_non_null(xml = fh_config_to_xml(&cfg));
    assert_non_null(v = line_value(xml, "TargetUrl"));
    assert_string_equal(v, "/mnt/labhome099/data/FileHistoryBackup/");
    free(v);
    assert_non_null(v = line_value(xml, "TargetDriveType"));
    assert_int_equal(strcasecmp(v, "remote"), 0);
    free(v);
    assert_non_null(v = line_value(xml, "DPStatus"));
    assert_string_equal(v, "ENABLED");
    free(v);
    assert_non_null(v = line_value(xml, "RetentionPolicyType"));
    assert_string_equal(v, "DISABLED");
    free(v);
    assert_non_null(v = line_value(xml, "MinimumRetentionAge"));
    assert_string_equal(v, "12");
    free(v);
    /* the samples themselves read the same way (the check of the check) */
    assert_non_null(v = line_value(windows8_sample, "TargetDriveType"));
    assert_string_equal(v, "REMOTE");
    free(v);
    free(xml);
    fh_config_free(&cfg);
}

/* FH_RETENTION_AGE is in days (the API), MinimumRetentionAge in months
 * (Windows 10); our MinimumRetentionDays keeps the days exactly. */
static void test_retention_units(void **state)
{
    static const struct { unsigned long long days, months; } table[] =
    {
        { 1, 1 }, { 30, 1 }, { 91, 3 }, { 183, 6 }, { 274, 9 }, { 365, 12 }, { 730, 24 }, { 36500, 1200 },
    };
    struct fh_config cfg;

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        assert_int_equal(fh_retention_months(table[i].days), table[i].months);
    assert_int_equal(fh_retention_days(1), 30);
    assert_int_equal(fh_retention_days(12), 365);
    assert_int_equal(fh_retention_days(24), 730);
    assert_int_equal(fh_retention_days(1200), FH_MAX_RETENTION_AGE);
    for (unsigned long long m = 1; m <= 1200; m++) assert_int_equal(fh_retention_months(fh_retention_days(m)), m);

    /* the exact days win while the months agree with them */
    assert_int_equal(parse(DOC("<RetentionPolicies><RetentionPolicyType>AGELIMIT</RetentionPolicyType>"
                               "<MinimumRetentionAge>1</MinimumRetentionAge></RetentionPolicies>"
                               "<Winbackup><MinimumRetentionDays>40</MinimumRetentionDays></Winbackup>"), &cfg), FH_S_OK);
    assert_int_equal(cfg.retention_age, 40);
    fh_config_free(&cfg);
    /* months changed on the Windows side: they win */
    assert_int_equal(parse(DOC("<RetentionPolicies><RetentionPolicyType>AGELIMIT</RetentionPolicyType>"
                               "<MinimumRetentionAge>3</MinimumRetentionAge></RetentionPolicies>"
                               "<Winbackup><MinimumRetentionDays>40</MinimumRetentionDays></Winbackup>"), &cfg), FH_S_OK);
    assert_int_equal(cfg.retention_age, 91);
    fh_config_free(&cfg);
    /* words in any case, as LanHistory compares them */
    assert_int_equal(parse(DOC("<RetentionPolicies><RetentionPolicyType>no limit</RetentionPolicyType></RetentionPolicies>"
                               "<DPStatus>Disabled</DPStatus>"), &cfg), FH_S_OK);
    assert_int_equal(cfg.retention_type, FH_RETENTION_UNLIMITED);
    assert_int_equal(cfg.dp_status, FH_STATUS_DISABLED);
    fh_config_free(&cfg);
}

/* Windows' paths in a document name nothing here: left out, not refused;
 * a path that is neither ours nor Windows' is refused. */
static void test_windows_paths(void **state)
{
    struct fh_config cfg;

    assert_int_equal(parse(DOC("<UserFolder>C:\\Users\\a\\Documents</UserFolder><UserFolder>/home/a/Music</UserFolder>"
                               "<Library><Folder>\\\\server\\share\\docs</Folder></Library>"
                               "<Winbackup><ExcludedFolder>d:\\tmp</ExcludedFolder></Winbackup>"
                               "<Target><TargetName>x</TargetName><TargetUrl>\\\\server\\share\\</TargetUrl></Target>"), &cfg),
                     FH_S_OK);
    assert_int_equal(cfg.folder_count, 1);
    assert_string_equal(cfg.folders[0], "/home/a/Music");
    assert_int_equal(cfg.exclude_count, 0);
    assert_null(cfg.target_url);
    assert_null(cfg.target_name);
    fh_config_free(&cfg);
    /* our TargetUrl, with or without its separator */
    assert_int_equal(parse(DOC("<Target><TargetUrl>/media/disk/</TargetUrl><TargetDriveType>CDROM</TargetDriveType></Target>"), &cfg), FH_S_OK);
    assert_string_equal(cfg.target_url, "/media/disk");
    assert_int_equal(cfg.target_drive_type, FH_DRIVE_UNKNOWN);   /* a word we do not know only describes */
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
    assert_non_null(strstr(xml, "<TargetUrl>/mnt/backup disk/</TargetUrl>"));
    assert_non_null(strstr(xml, "<UserFolder>/home/bob/caf\xc3\xa9 &amp; &lt;x&gt;</UserFolder>"));
    assert_non_null(strstr(xml, "<TargetConfigPath1>bob/host&lt;1&gt;/Configuration/Config1.xml</TargetConfigPath1>"));
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
        DOC("<Target><TargetUrl>C:backup</TargetUrl></Target>"),
        DOC("<Target><TargetUrl>C:/backup</TargetUrl></Target>"),
        DOC("<Target><TargetUrl>backup</TargetUrl></Target>"),
        DOC("<Target><TargetUrl>/media/disk//</TargetUrl></Target>"),
        DOC("<Target><TargetUrl></TargetUrl></Target>"),
        DOC("<UserFolder>relative</UserFolder>"),
        DOC("<UserFolder>\\\\</UserFolder>"),
        DOC("<Winbackup><ExcludedFolder>/a/../b</ExcludedFolder></Winbackup>"),
        DOC("<UserId>6f5671be-a258-45cc-9a08-377ef1c943f</UserId>"),
        DOC("<UserId>6f5671be-a258-45cc-9a08-377ef1c943fbb</UserId>"),
        DOC("<UserId>{6f5671be-a258-45cc-9a08-377ef1c943fb}</UserId>"),
        DOC("<UserId>6f5671be_a258-45cc-9a08-377ef1c943fb</UserId>"),
        DOC("<DPStatus>ON</DPStatus>"),
        DOC("<DPStatus></DPStatus>"),
        DOC("<RetentionPolicies><RetentionPolicyType>FOREVER</RetentionPolicyType></RetentionPolicies>"),
        DOC("<RetentionPolicies><MinimumRetentionAge>0</MinimumRetentionAge></RetentionPolicies>"),
        DOC("<RetentionPolicies><MinimumRetentionAge>1201</MinimumRetentionAge></RetentionPolicies>"),
        DOC("<Winbackup><MinimumRetentionDays>0</MinimumRetentionDays></Winbackup>"),
        DOC("<Winbackup><MinimumRetentionDays>36501</MinimumRetentionDays></Winbackup>"),
        DOC("<Winbackup><Generation>-1</Generation></Winbackup>"),
        /* FH_MAX_GENERATION is 2^62: a crafted 2^64-1 would wrap at the next save */
        DOC("<Winbackup><Generation>18446744073709551615</Generation></Winbackup>"),
        DOC("<Winbackup><Generation>4611686018427387905</Generation></Winbackup>"),
        DOC("<Generation>18446744073709551615</Generation>"),
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
    /* the bound itself is a generation */
    assert_int_equal(parse(DOC("<Winbackup><Generation>4611686018427387904</Generation></Winbackup>"), &cfg), FH_S_OK);
    assert_true(cfg.generation == FH_MAX_GENERATION);
    fh_config_free(&cfg);
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

    /* a FriendlyName longer than a name needs */
    n = 1024 + 1;
    assert_non_null(doc = malloc(n + 512));
    p = doc + sprintf(doc, "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>a</UserName><PCName>p</PCName><FriendlyName>");
    memset(p, 'f', n);
    p += n;
    p += sprintf(p, "</FriendlyName></DataProtectionUserConfig>");
    assert_int_equal(fh_config_from_xml(doc, p - doc, &cfg), FHCFG_E_CORRUPT_CONFIG_FILE);
    memmove(p - strlen("</FriendlyName></DataProtectionUserConfig>") - 1, p - strlen("</FriendlyName></DataProtectionUserConfig>"),
            strlen("</FriendlyName></DataProtectionUserConfig>"));
    assert_int_equal(fh_config_from_xml(doc, p - doc - 1, &cfg), FH_S_OK);
    assert_int_equal(strlen(cfg.friendly_name), 1024);
    fh_config_free(&cfg);
    free(doc);

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

static char *read_text(const char *dir, const char *name)
{
    char path[4200], *buf;
    FILE *f;
    long len;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(path, "rb"))) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    assert_non_null(buf = malloc(len + 1));
    assert_int_equal(fread(buf, 1, len, f), (size_t)len);
    buf[len] = 0;
    fclose(f);
    return buf;
}

/* Both copies hold the same document (Config1.xml is what Windows' readers open). */
static void assert_copies_equal(const char *dir)
{
    char *one = read_text(dir, "Config1.xml"), *two = read_text(dir, "Config2.xml");
    assert_non_null(one);
    assert_non_null(two);
    assert_string_equal(one, two);
    free(one);
    free(two);
}

static void test_save_load(void **state)
{
    char *dir = testutil_mkdtemp(), path[4200], *text;
    struct fh_config cfg, got;
    struct stat st;

    assert_int_equal(fh_config_load(dir, &got), FHCFG_E_CONFIG_FILE_NOT_FOUND);
    assert_int_equal(fh_config_init_default(&cfg), 0);
    assert_int_equal(cfg.frequency, FH_DEFAULT_FREQUENCY);
    assert_non_null(cfg.user_id);
    assert_true(guid_is_valid(cfg.user_id));
    assert_int_equal(cfg.user_id[14], '4');     /* a version 4 (random) GUID, as Windows' */
    assert_non_null(strchr("89ab", cfg.user_id[19]));
    assert_non_null(cfg.friendly_name);
    cfg.frequency = 100;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    assert_int_equal(cfg.generation, 1);
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/Config2.xml", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_copies_equal(dir);

    /* every save writes both copies: Config1.xml is always the current one */
    cfg.frequency = 200;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    assert_copies_equal(dir);
    assert_non_null(text = read_text(dir, "Config1.xml"));
    assert_non_null(strstr(text, "<DPFrequency>200</DPFrequency>"));
    free(text);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.frequency, 200);
    assert_int_equal(got.generation, 2);
    assert_string_equal(got.user_id, cfg.user_id);  /* made once, kept */
    fh_config_free(&got);

    /* a torn copy: the other one is used */
    write_text(path, "<DataProtectionUserConfig SchemaVers");
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.frequency, 200);
    fh_config_free(&got);

    /* the next save replaces the broken copy first, then the good one */
    cfg.frequency = 300;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    assert_int_equal(cfg.generation, 3);
    assert_copies_equal(dir);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.frequency, 300);
    fh_config_free(&got);

    /* a crash between the two writes: the newer copy wins whichever slot it is in */
    write_text(path, "x");
    cfg.frequency = 400;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    assert_non_null(text = read_text(dir, "Config2.xml"));
    write_text(path, text);
    free(text);
    cfg.frequency = 500;
    cfg.generation = 9;
    assert_non_null(text = fh_config_to_xml(&cfg));
    snprintf(path, sizeof(path), "%s/Config2.xml", dir);
    write_text(path, text);
    free(text);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.frequency, 500);
    assert_int_equal(got.generation, 9);
    fh_config_free(&got);

    /* both broken */
    write_text(path, "y");
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    write_text(path, "x");
    assert_int_equal(fh_config_load(dir, &got), FHCFG_E_CORRUPT_CONFIG_FILE);

    fh_config_free(&cfg);
    testutil_rmtree(dir);
}

/* A child blocked opening fifo for writing: it only gets past open() once
 * someone opens the FIFO for reading, which is how the tests below see
 * whether a reader opened a FIFO at all. */
static pid_t fifo_writer(const char *fifo)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid)
    {
        alarm(10);
        _exit(open(fifo, O_WRONLY) >= 0 ? 0 : 1);
    }
    return pid;
}

/* Did the writer's open() return (a reader opened the FIFO)?  Reaps it. */
static int fifo_was_opened(pid_t pid)
{
    int status, opened;
    usleep(100000);     /* a writer released by a reader exits at once */
    opened = waitpid(pid, &status, WNOHANG) == pid;
    if (!opened)
    {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    return opened;
}

/* A crafted $XDG_CONFIG_HOME/filehistory/State (written by anything that can
 * write the user's files, or left by an old version): fh_state_load never
 * blocks on it, never opens a FIFO or a device, and takes only a state value
 * that is one of FH_STATE_*; anything else is "no state" (NO_ERROR, never
 * protected), as when the file is missing. */
static void test_state_file_hostile(void **state)
{
    static const char *garbage[] =
    {
        "zzzz\n", "ffffffff 1700000000 5\n", "feff 1700000000 5\n", "10ff 1700000000 0\n",
        "12 1700000000 0\n", "ff -1 -1\n", "ff 99999999999999999999999 0\n", "",
    };
    char *dir = testutil_mkdtemp(), path[4200], big[200000];
    struct fh_state st = { .state = FH_STATE_TARGET_FULL, .protected_until = 1700000000, .not_backed_up = 7 }, got;
    pid_t writer;

    /* what fh_state_save writes comes back, FH_STATE_RUNNING stripped */
    assert_int_equal(fh_state_save(dir, &st), 0);
    assert_int_equal(fh_state_load(dir, &got), 0);
    assert_int_equal(got.state, FH_STATE_TARGET_FULL);
    assert_int_equal(got.protected_until, 1700000000);
    assert_int_equal(got.not_backed_up, 7);
    snprintf(path, sizeof(path), "%s/State", dir);
    write_text(path, "1ff 1700000000 0\n");
    assert_int_equal(fh_state_load(dir, &got), 0);
    assert_int_equal(got.state, FH_STATE_NO_ERROR);
    assert_int_equal(got.protected_until, 1700000000);

    for (size_t i = 0; i < sizeof(garbage) / sizeof(*garbage); i++)
    {
        write_text(path, garbage[i]);
        assert_int_equal(fh_state_load(dir, &got), 0);
        if (got.state != FH_STATE_NO_ERROR || got.protected_until || got.not_backed_up)
            fail_msg("State '%s' taken as %#x %lld %lld", garbage[i], got.state, (long long)got.protected_until,
                     (long long)got.not_backed_up);
    }
    /* a huge file: a bounded read, and the number in it is no state either */
    memset(big, '9', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    write_text(path, big);
    assert_int_equal(fh_state_load(dir, &got), 0);
    assert_int_equal(got.state, FH_STATE_NO_ERROR);
    assert_int_equal(got.protected_until, 0);

    /* a FIFO: not opened (the old code blocked in open() when no writer came,
     * and read a writer's bytes when one did) */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    writer = fifo_writer(path);
    usleep(50000);
    assert_int_equal(fh_state_load(dir, &got), 0);
    assert_false(fifo_was_opened(writer));
    assert_int_equal(got.state, FH_STATE_NO_ERROR);
    testutil_rmtree(dir);
}

/* A Config1.xml that is a FIFO (a device node alike) on a crafted target or
 * in the config folder: never opened (a device's open() has effects of its
 * own), never taken; the regular Config2.xml beside it still is. */
static void test_config_copy_not_regular(void **state)
{
    char *dir = testutil_mkdtemp(), path[4200];
    struct fh_config cfg, got;
    pid_t writer;
    int dirfd;

    assert_int_equal(fh_config_init_default(&cfg), 0);
    cfg.frequency = 600;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    writer = fifo_writer(path);
    usleep(50000);
    assert_true((dirfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
    assert_int_equal(fh_config_load_at(dirfd, &got), FH_S_OK);
    close(dirfd);
    assert_false(fifo_was_opened(writer));
    assert_int_equal(got.frequency, 600);
    fh_config_free(&got);

    /* the same through the config folder's own reader */
    writer = fifo_writer(path);
    usleep(50000);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_false(fifo_was_opened(writer));
    assert_int_equal(got.frequency, 600);
    fh_config_free(&got);
    fh_config_free(&cfg);
    testutil_rmtree(dir);
}

static void test_mirror(void **state)
{
    char *dir = testutil_mkdtemp(), path[4200];
    struct fh_config cfg, got;
    struct stat st1, st2, again;

    assert_int_equal(fh_config_init_default(&cfg), 0);
    cfg.generation = 7;
    assert_int_equal(fh_config_mirror(dir, &cfg), 0);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.generation, 7);   /* the mirror keeps the user's generation */
    fh_config_free(&got);
    assert_copies_equal(dir);
    /* the same document again: nothing written */
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    assert_int_equal(stat(path, &st1), 0);
    snprintf(path, sizeof(path), "%s/Config2.xml", dir);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(fh_config_mirror(dir, &cfg), 0);
    assert_int_equal(stat(path, &again), 0);
    assert_int_equal(again.st_ino, st2.st_ino);
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    assert_int_equal(stat(path, &again), 0);
    assert_int_equal(again.st_ino, st1.st_ino);
    /* a copy in another form (the old dialect, same generation) is rewritten */
    write_text(path, "<DataProtectionUserConfig SchemaVersion=\"1\"><UserName>u</UserName><PCName>p</PCName>"
                     "<Generation>7</Generation></DataProtectionUserConfig>");
    assert_int_equal(fh_config_mirror(dir, &cfg), 0);
    assert_copies_equal(dir);
    cfg.generation = 8;
    assert_int_equal(fh_config_mirror(dir, &cfg), 0);
    assert_copies_equal(dir);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.generation, 8);
    fh_config_free(&got);
    fh_config_free(&cfg);
    testutil_rmtree(dir);
}

/* An existing user's copy in the old dialect becomes Windows' form once,
 * with nothing lost, and keeps its new UserId afterwards. */
static void test_upgrade(void **state)
{
    char *dir = testutil_mkdtemp(), path[4200], *text, *id;
    struct fh_config got;

    assert_int_equal(fh_config_upgrade(dir), 0);            /* nothing there */
    snprintf(path, sizeof(path), "%s/Config1.xml", dir);
    write_text(path, DOC("<Generation>4</Generation><Library><Folder>/home/alice/Documents</Folder></Library>"
                         "<Exclusions><Folder>/home/alice/Documents/tmp</Folder></Exclusions>"
                         "<RetentionPolicies><RetentionPolicy Type=\"2\" MinimumAge=\"45\"/></RetentionPolicies>"
                         "<DPFrequency>600</DPFrequency><DPStatus>2</DPStatus>"
                         "<Target><TargetName>disk</TargetName><TargetUrl>/media/disk</TargetUrl></Target>"));
    assert_int_equal(fh_config_upgrade(dir), 1);
    assert_copies_equal(dir);
    assert_non_null(text = read_text(dir, "Config1.xml"));
    assert_non_null(strstr(text, "\n  <DPStatus>ENABLED</DPStatus>\n"));
    assert_non_null(strstr(text, "\n    <TargetUrl>/media/disk/</TargetUrl>\n"));
    assert_non_null(strstr(text, "\n    <RetentionPolicyType>AGELIMIT</RetentionPolicyType>\n"));
    assert_non_null(strstr(text, "\n    <MinimumRetentionAge>1</MinimumRetentionAge>\n"));
    assert_non_null(strstr(text, "\n  <UserFolder>/home/alice/Documents</UserFolder>\n"));
    assert_null(strstr(text, "<Exclusions>"));
    free(text);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.generation, 5);
    assert_int_equal(got.retention_age, 45);
    assert_int_equal(got.frequency, 600);
    assert_int_equal(got.exclude_count, 1);
    assert_string_equal(got.excludes[0], "/home/alice/Documents/tmp");
    assert_non_null(got.user_id);
    assert_non_null(got.friendly_name);
    id = strdup(got.user_id);
    fh_config_free(&got);
    /* once */
    assert_int_equal(fh_config_upgrade(dir), 0);
    assert_int_equal(fh_config_load(dir, &got), FH_S_OK);
    assert_int_equal(got.generation, 5);
    assert_string_equal(got.user_id, id);
    fh_config_free(&got);
    free(id);
    testutil_rmtree(dir);
}

/* The registry entries Windows' readers look at (fh_winreg.c). */
static void test_winreg(void **state)
{
    char *dir = testutil_mkdtemp(), *text;
    struct fh_config cfg;
    struct fh_state st = { FH_STATE_NO_ERROR, 0 };
    struct fh_winreg reg;
    int upgraded;

    /* a FILETIME of the forensic write-up's registry screenshot:
     * 0x1d8555d543a317f = 2022-04-21 08:53:54.0849023 UTC (whole seconds here) */
    assert_true(fh_filetime(1650531234) == 132950048340000000ull);
    assert_true(fh_filetime(1650531234) / 10000000 == 0x1d8555d543a317full / 10000000);

    assert_int_equal(fh_winreg_load(dir, &reg, &upgraded), 0);   /* nothing configured */
    assert_false(reg.listed);
    assert_false(reg.protected_known);
    assert_false(upgraded);

    assert_int_equal(fh_config_init_default(&cfg), 0);
    fh_winreg_from(FH_S_OK, &cfg, &st, &reg);
    assert_false(reg.listed);                   /* no target: File History is not on */
    cfg.target_url = strdup("/media/disk");
    fh_winreg_from(FH_S_OK, &cfg, &st, &reg);
    assert_true(reg.listed);
    assert_false(reg.protected_known);          /* no cycle finished yet */
    st.protected_until = 1650531234;
    fh_winreg_from(FH_S_OK, &cfg, &st, &reg);
    assert_true(reg.protected_known);
    assert_true(reg.protected_filetime == 132950048340000000ull);
    assert_non_null(text = fh_winreg_text(&reg, "/home/a/.config/filehistory"));
    assert_string_equal(text, "1 01D8555D542D3D00 /home/a/.config/filehistory");
    free(text);
    cfg.dp_status = FH_STATUS_DISABLED;         /* turned off: the Configs value goes, the time stays */
    fh_winreg_from(FH_S_OK, &cfg, &st, &reg);
    assert_false(reg.listed);
    assert_true(reg.protected_known);
    assert_non_null(text = fh_winreg_text(&reg, "/c"));
    assert_string_equal(text, "0 01D8555D542D3D00 /c");
    free(text);
    fh_winreg_from(FHCFG_E_CORRUPT_CONFIG_FILE, &cfg, &st, &reg);
    assert_false(reg.listed);
    assert_false(reg.protected_known);
    st.protected_until = 0;
    fh_winreg_from(FH_S_OK, &cfg, &st, &reg);
    assert_non_null(text = fh_winreg_text(&reg, "/c"));
    assert_string_equal(text, "0 - /c");
    free(text);

    /* from the files, an old copy brought to the current form first */
    cfg.dp_status = FH_STATUS_ENABLED;
    assert_int_equal(fh_config_save(dir, &cfg), 0);
    st.protected_until = 1650531234;
    assert_int_equal(fh_state_save(dir, &st), 0);
    assert_int_equal(fh_winreg_load(dir, &reg, &upgraded), 0);
    assert_true(reg.listed);
    assert_true(reg.protected_filetime == 132950048340000000ull);
    assert_false(upgraded);
    {
        char path[4200];
        snprintf(path, sizeof(path), "%s/Config1.xml", dir);
        write_text(path, DOC("<Generation>40</Generation><DPStatus>2</DPStatus><Target><TargetUrl>/media/disk</TargetUrl></Target>"));
    }
    assert_int_equal(fh_winreg_load(dir, &reg, &upgraded), 0);
    assert_true(upgraded);
    assert_true(reg.listed);
    assert_copies_equal(dir);
    fh_config_free(&cfg);
    testutil_rmtree(dir);
}

/* A disk a Windows machine backed up to (its Config1.xml and Config2.xml,
 * the same file as Windows keeps them) next to one of ours in the old
 * dialect: reassociation offers both; taking the Windows one continues its
 * FileHistory/<user>/<pc> on this disk, with Windows' policies and none of
 * its Windows folders. */
static void test_reassociate_windows_disk(void **state)
{
    char *disk = testutil_mkdtemp(), *config = testutil_mkdtemp(), path[4200], *real;
    struct fh_cfgmgr *m;
    const struct fh_config *cfg;
    const char *user, *pc;
    time_t when;
    unsigned long windows = 2;

    snprintf(path, sizeof(path), "%s/FileHistory/Admin/AV-WIN8-004/Configuration", disk);
    assert_int_equal(fh_mkdir_p(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/FileHistory/Admin/AV-WIN8-004/Configuration/Config1.xml", disk);
    write_text(path, windows8_sample);
    snprintf(path, sizeof(path), "%s/FileHistory/Admin/AV-WIN8-004/Configuration/Config2.xml", disk);
    write_text(path, windows8_sample);
    snprintf(path, sizeof(path), "%s/FileHistory/alice/pc1/Configuration", disk);
    assert_int_equal(fh_mkdir_p(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/FileHistory/alice/pc1/Configuration/Config1.xml", disk);
    write_text(path, DOC("<Generation>2</Generation><DPStatus>2</DPStatus>"
                         "<Target><TargetUrl>/media/old</TargetUrl></Target>"));

    assert_non_null(m = fh_cfgmgr_new(config));
    assert_int_equal(fh_cfgmgr_scan(m, disk), FH_S_OK);
    assert_int_equal(fh_cfgmgr_found_count(m), 2);
    for (unsigned long i = 0; i < 2; i++)
    {
        assert_int_equal(fh_cfgmgr_found(m, i, &user, &pc, &when), FH_S_OK);
        if (!strcmp(user, "Admin")) { assert_string_equal(pc, "AV-WIN8-004"); windows = i; }
        else { assert_string_equal(user, "alice"); assert_string_equal(pc, "pc1"); }
    }
    assert_true(windows < 2);
    assert_int_equal(fh_cfgmgr_select(m, windows), FH_S_OK);
    assert_int_equal(fh_cfgmgr_reassociate(m, 0), FH_S_OK);
    assert_non_null(cfg = fh_cfgmgr_config(m));
    assert_string_equal(cfg->user_name, "Admin");
    assert_string_equal(cfg->pc_name, "AV-WIN8-004");
    assert_non_null(real = realpath(disk, NULL));
    assert_string_equal(cfg->target_url, real);
    assert_int_equal(cfg->folder_count, 0);
    assert_int_equal(cfg->dp_status, FH_STATUS_ENABLED);
    assert_int_equal(cfg->frequency, 3600);
    free(real);
    fh_cfgmgr_free(m);
    /* the user's own copy is in Windows' form, naming the disk */
    {
        char *text = read_text(config, "Config1.xml");
        assert_non_null(text);
        assert_non_null(strstr(text, "\n  <UserName>Admin</UserName>\n"));
        assert_non_null(strstr(text, "\n    <TargetConfigPath1>Admin/AV-WIN8-004/Configuration/Config1.xml</TargetConfigPath1>\n"));
        free(text);
    }
    testutil_rmtree(config);
    testutil_rmtree(disk);
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
        cmocka_unit_test(test_old_dialect),
        cmocka_unit_test(test_windows_documents),
        cmocka_unit_test(test_windows_form),
        cmocka_unit_test(test_line_readers),
        cmocka_unit_test(test_retention_units),
        cmocka_unit_test(test_windows_paths),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_empty_elements),
        cmocka_unit_test(test_character_references),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_state_file_hostile),
        cmocka_unit_test(test_config_copy_not_regular),
        cmocka_unit_test(test_mirror),
        cmocka_unit_test(test_upgrade),
        cmocka_unit_test(test_winreg),
        cmocka_unit_test(test_reassociate_windows_disk),
        cmocka_unit_test(test_config_dir),
        cmocka_unit_test(test_lists_and_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
