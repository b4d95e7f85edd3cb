/*
 * What Windows' registry says about File History, for programs written for
 * Windows that read it instead of calling an API (docs/windows-evidence.md):
 *
 *   HKLM\SYSTEM\CurrentControlSet\Services\fhsvc\Parameters\Configs
 *       one value per user whose File History is on; its NAME is the
 *       configuration's path without "1.xml" ("...\Configuration\Config"),
 *       so name + "1.xml" opens Config1.xml; its data REG_DWORD 1.
 *       fhsvcctl's FhQueryConfiguredUsersCount counts these values.
 *   HKCU\Software\Microsoft\Windows\CurrentVersion\FileHistory
 *       ProtectedUpToTime: REG_QWORD, the FILETIME up to which the user's
 *       files are protected (the start of the last finished cycle).
 *
 * This file decides what they should hold; the faces that can reach a Wine
 * registry write it: fhsvcctl.dll and fhcfg.dll (dlls/fhsvcctl/registry.c,
 * through the service's CFG_REGISTRY) and `winbackup wine` at each launch
 * (tools/winbackup/wine_fh.c).  A Wine prefix belongs to one Unix user and
 * holds that user's values only.
 *
 * Rules: the Configs value exists while a valid configuration has a target
 * and DPStatus ENABLED (it is there "when File History is on" and goes when
 * it is turned off, as Windows'); ProtectedUpToTime exists while a valid
 * configuration exists and a cycle finished since its target was set.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"

/* Seconds between 1601-01-01 and 1970-01-01 */
#define FILETIME_UNIX_EPOCH 11644473600ull

uint64_t fh_filetime(time_t t)
{
    return ((uint64_t)t + FILETIME_UNIX_EPOCH) * 10000000ull;
}

void fh_winreg_from(uint32_t cfg_status, const struct fh_config *cfg, const struct fh_state *st,
                    struct fh_winreg *out)
{
    memset(out, 0, sizeof(*out));
    if (cfg_status != FH_S_OK) return;
    out->listed = cfg->target_url && cfg->dp_status == FH_STATUS_ENABLED;
    if (st->protected_until > 0)
    {
        out->protected_known = 1;
        out->protected_filetime = fh_filetime(st->protected_until);
    }
}

int fh_winreg_load(const char *config_dir, struct fh_winreg *out, int *upgraded)
{
    struct fh_config cfg;
    struct fh_state st;
    uint32_t hr;
    int rewritten;

    /* the copy the Configs value points at is read by Windows' readers: in their form */
    rewritten = fh_config_upgrade(config_dir);
    if (upgraded) *upgraded = rewritten > 0;
    hr = fh_config_load(config_dir, &cfg);
    if (fh_state_load(config_dir, &st))
    {
        if (!hr) fh_config_free(&cfg);
        return -1;
    }
    fh_winreg_from(hr, &cfg, &st, out);
    if (!hr) fh_config_free(&cfg);
    return 0;
}

char *fh_winreg_text(const struct fh_winreg *reg, const char *config_dir)
{
    char *out, filetime[17] = "-";

    if (reg->protected_known) snprintf(filetime, sizeof(filetime), "%016" PRIX64, reg->protected_filetime);
    if (asprintf(&out, "%d %s %s", reg->listed ? 1 : 0, filetime, config_dir) < 0) return NULL;
    return out;
}
