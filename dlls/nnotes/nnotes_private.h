/*
 * nnotes.dll: what main.c (exports, Wine platform) and nnotes_nt.c (NT
 * platform) share.
 */
#ifndef __WINE_NNOTES_PRIVATE_H
#define __WINE_NNOTES_PRIVATE_H

#include "../../libs/nsf/nsf.h"

/* A database or copy opened by path: the handle and its full path. */
struct pe_file
{
    HANDLE handle;
    WCHAR path[MAX_PATH * 2];
};

nsf_status pe_open_file( const char *lmbcs_path, DWORD access, struct pe_file **file );
nsf_status pe_file_path( struct pe_file *file, char *lmbcs, size_t size );
void pe_close_file( struct pe_file *file );
nsf_status status_from_win32( DWORD error );

extern const struct nsf_platform_ops nnotes_nt_platform;

/* TRACE for the out-of-tree DLL: on stderr when WINEDEBUG names +nnotes or +all. */
void nnotes_trace( const char *func, const char *format, ... ) __attribute__((format(printf, 2, 3)));
#define TRACE(...) nnotes_trace( __func__, __VA_ARGS__ )

#endif
