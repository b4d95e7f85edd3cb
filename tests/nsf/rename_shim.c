/*
 * LD_PRELOAD helper for check-nnotes.sh: the Nth open() of $SHIM_PATH first
 * renames $SHIM_DECOY over it, as a program that saves a file by "write a
 * new file, rename it over the old one" does.  It puts that rename
 * deterministically between two lookups of the same name by the CLI.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static int seen;

static void rename_if_due(const char *path)
{
    const char *target = getenv("SHIM_PATH"), *decoy = getenv("SHIM_DECOY"), *nth = getenv("SHIM_NTH");

    if (target && decoy && path && !strcmp(path, target) && ++seen == atoi(nth ? nth : "2")) rename(decoy, target);
}

#define WRAP(name) \
    int name(const char *path, int flags, ...) \
    { \
        static int (*real)(const char *, int, ...); \
        mode_t mode = 0; \
        va_list args; \
        if (!real) real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name); \
        if (flags & (O_CREAT | O_TMPFILE)) \
        { \
            va_start(args, flags); \
            mode = va_arg(args, mode_t); \
            va_end(args); \
        } \
        rename_if_due(path); \
        return real(path, flags, mode); \
    }

WRAP(open)
WRAP(open64)
