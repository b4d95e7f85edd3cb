/*
 * TRACE/WARN/FIXME for the out-of-tree build of the backup DLL.
 *
 * Inside a Wine tree backup.c uses wine/debug.h.  The standalone DLL must
 * also load on Windows, where ntdll has no __wine_dbg_* exports, so it prints
 * through stderr when WINEDEBUG enables the channel, parsed the way Wine
 * does ("+backup", "warn-all", "-all,+backup"; fixme and warn are on by default).
 */
#ifndef __WINE_KERNEL32_BACKUP_DEBUG_H
#define __WINE_KERNEL32_BACKUP_DEBUG_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

#define WINE_DEFAULT_DEBUG_CHANNEL(ch) static const char backup_debug_channel[] = #ch

enum backup_dbg_class { backup_dbg_fixme, backup_dbg_warn, backup_dbg_trace };

/* WINEDEBUG is a comma-separated list of [class]+channel / [class]-channel
 * items, "all" matching every channel; later items override earlier ones. */
static inline BOOL backup_dbg_enabled( enum backup_dbg_class cls, const char *channel )
{
    static const char *names[] = { "fixme", "warn", "trace" };
    char spec[512], *item, *next;
    BOOL enabled = cls != backup_dbg_trace;
    DWORD len = GetEnvironmentVariableA( "WINEDEBUG", spec, sizeof(spec) );

    if (!len || len >= sizeof(spec)) return enabled;
    for (item = spec; item; item = next)
    {
        char *op = item + strcspn( item, "+-" );
        if ((next = strchr( item, ',' ))) *next++ = 0;
        if (!*op) continue;
        if (op != item && (size_t)(op - item) != strlen( names[cls] )) continue;
        if (op != item && strncmp( item, names[cls], op - item )) continue;
        if (strcmp( op + 1, "all" ) && strcmp( op + 1, channel )) continue;
        enabled = *op == '+';
    }
    return enabled;
}

static inline void __attribute__((format(printf, 4, 5)))
backup_dbg_printf( enum backup_dbg_class cls, const char *channel, const char *func, const char *format, ... )
{
    static const char *names[] = { "fixme", "warn", "trace" };
    va_list args;

    if (!backup_dbg_enabled( cls, channel )) return;
    fprintf( stderr, "%04lx:%s:%s:%s ", GetCurrentThreadId(), names[cls], channel, func );
    va_start( args, format );
    vfprintf( stderr, format, args );
    va_end( args );
}

#define TRACE(...) backup_dbg_printf( backup_dbg_trace, backup_debug_channel, __func__, __VA_ARGS__ )
#define WARN(...)  backup_dbg_printf( backup_dbg_warn, backup_debug_channel, __func__, __VA_ARGS__ )
#define FIXME(...) backup_dbg_printf( backup_dbg_fixme, backup_debug_channel, __func__, __VA_ARGS__ )

#endif
