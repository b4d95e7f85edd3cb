/*
 * `winbackup wine`: run Windows programs under stock Wine with real
 * BackupRead / BackupWrite / BackupSeek (see wine.c).
 */
#ifndef WINBACKUP_TOOLS_WINE_H
#define WINBACKUP_TOOLS_WINE_H

#include <stddef.h>

/* `winbackup wine [--prefix DIR] [--setup-only] -- PROG.exe [ARGS...]`; argv holds
 * what follows "wine" (argv[0] is the first option or "--").
 * Once the prefix is ready the process becomes Wine running PROG (execvp), so
 * the caller sees PROG's exit status; returns 125 when the launcher itself
 * failed, 0 after --setup-only or --help. */
int wb_cli_wine(int argc, char **argv);

/* Copy the PE32+ DLL in_path to out_path with the named exports turned into
 * forwarders "<target_module>.<name>" and the Wine builtin marker cleared.
 * 0 on success; -1 with a message in err otherwise (pe_patch.c). */
int wb_pe_forward_exports(const char *in_path, const char *out_path, const char *target_module,
                          const char *const *names, size_t count, char *err, size_t errsize);

/* File History's registry entries in the prefix (wine_fh.c): when they
 * must change, writes the .reg file to import (reg_path, C:-relative
 * win_path) and returns 1; 0 when they are right already (or there is no
 * File History in this build), -1 on failure.  After a successful import,
 * commit records what the registry now holds. */
int wb_wine_fh_registry_prepare(const char *prefix, char *reg_path, size_t reg_size, char *win_path,
                                size_t win_size);
int wb_wine_fh_registry_commit(const char *prefix);

#endif
