/*
 * libFuzzer target: the File History configuration reader
 * (fh_config_from_xml over libxml2, libs/fh/fh_config.c).
 *
 * Config1.xml on a backup target is written by whoever had the disk before;
 * reassociation reads it.  Any input must give S_OK or
 * FHCFG_E_CORRUPT_CONFIG_FILE without a crash, a leak or a hang, and an
 * accepted document must survive a write/read round trip unchanged (so the
 * writer can always save what the reader accepted).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"

static void check_equal_lists(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb) abort();
    for (size_t i = 0; i < na; i++) if (strcmp(a[i], b[i])) abort();
}

static int same_string(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return !strcmp(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fh_config cfg, back;
    uint32_t hr = fh_config_from_xml((const char *)data, size, &cfg);
    char *xml;

    if (hr != FH_S_OK)
    {
        if (hr != FHCFG_E_CORRUPT_CONFIG_FILE) abort();
        return 0;
    }
    if (!cfg.user_name || !cfg.pc_name || (cfg.target_url && !fh_path_is_valid(cfg.target_url))) abort();
    for (size_t i = 0; i < cfg.folder_count; i++) if (!fh_path_is_valid(cfg.folders[i])) abort();
    for (size_t i = 0; i < cfg.exclude_count; i++) if (!fh_path_is_valid(cfg.excludes[i])) abort();

    /* names that XML 1.0 cannot carry were refused by the parser already,
     * so the writer must succeed */
    if (!(xml = fh_config_to_xml(&cfg))) abort();
    if (fh_config_from_xml(xml, strlen(xml), &back) != FH_S_OK) abort();
    if (strcmp(cfg.user_name, back.user_name) || strcmp(cfg.pc_name, back.pc_name) ||
        !same_string(cfg.target_url, back.target_url) || cfg.frequency != back.frequency ||
        cfg.retention_type != back.retention_type || cfg.retention_age != back.retention_age ||
        cfg.dp_status != back.dp_status || cfg.generation != back.generation)
        abort();
    if (cfg.target_url && !same_string(cfg.target_name ? cfg.target_name : "", back.target_name)) abort();
    check_equal_lists(cfg.folders, cfg.folder_count, back.folders, back.folder_count);
    check_equal_lists(cfg.excludes, cfg.exclude_count, back.excludes, back.exclude_count);
    fh_config_free(&back);
    free(xml);
    fh_config_free(&cfg);
    return 0;
}
