/*
 * Conformance test harness with the API of Wine's include/wine/test.h.
 *
 * This is the project's own implementation, written from the documented
 * behaviour of Wine's harness so that the conformance tests are drop-in Wine tests:
 * ok(), todo_wine, broken(), skip(), win_skip(), trace(), contexts,
 * START_TEST().  The output lines and the per-test summary line match Wine's
 * spelling exactly, because Wine's tools (winetest, make test, the test bot)
 * parse them with sscanf:
 *
 *   file.c:LINE:ELAPSED Test failed: message
 *   file.c:LINE:ELAPSED Test succeeded inside todo block: message
 *   file.c:LINE:ELAPSED Test marked todo: message
 *   file.c:LINE:ELAPSED Tests skipped: message
 *   PID:name:ELAPSED N tests executed (T marked as todo, F as flaky, E failures), S skipped.
 *
 * ELAPSED is empty unless WINETEST_TIME=1 (then seconds since start, "%.3f").
 * The exit status is the number of failures (a todo check that succeeds is a
 * failure too), capped at 255.
 *
 * Differences from Wine's build: there is no generated testlist.c.  The whole
 * harness is in this header, which must be included by exactly one source
 * file per executable; every START_TEST(name) in that file registers itself
 * (GCC constructor), and main() runs the test named by argv[1], or every
 * registered test in source order when there is no argument.
 *
 * Environment, as in Wine: WINETEST_PLATFORM, WINETEST_DEBUG,
 * WINETEST_INTERACTIVE, WINETEST_REPORT_SUCCESS, WINETEST_REPORT_FLAKY,
 * WINETEST_MUTE_THRESHOLD, WINETEST_TIME.
 *
 * Only <windows.h> and the C library are used.
 */

#ifndef __WINE_WINE_TEST_H
#define __WINE_WINE_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#ifndef INVALID_FILE_ATTRIBUTES
#define INVALID_FILE_ATTRIBUTES  (~0u)
#endif
#ifndef INVALID_SET_FILE_POINTER
#define INVALID_SET_FILE_POINTER (~0u)
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif

#ifdef __GNUC__
#define WINETEST_PRINTF_ATTR(fmt, args) __attribute__((format(printf, fmt, args)))
#define WINETEST_UNUSED __attribute__((unused))
#else
#define WINETEST_PRINTF_ATTR(fmt, args)
#define WINETEST_UNUSED
#endif

/* Settings, read from the environment by main(). */
static int winetest_debug = 1;
static int winetest_interactive = 0;
static int winetest_report_success = 0;
static int winetest_report_flaky = 0;
static int winetest_mute_threshold = 42;
static int winetest_time = 0;
static DWORD winetest_start_time, winetest_last_time;
static const char *winetest_platform = "windows";
static int winetest_platform_is_wine = 0;

/* Counters of the test being run; main() resets them between tests. */
static LONG winetest_successes;
static LONG winetest_failures;
static LONG winetest_flaky_failures;
static LONG winetest_skipped;
static LONG winetest_todo_successes;   /* checks that failed inside a todo block, as expected */
static LONG winetest_todo_failures;    /* checks that succeeded inside a todo block */
static LONG winetest_muted_traces;
static LONG winetest_muted_skipped;
static LONG winetest_muted_todo_successes;

/* Per-thread state: tests may call ok() from threads they create. */
struct winetest_thread_data
{
    const char *current_file;
    int current_line;
    unsigned int todo_level;      /* one bit per nested todo_if(), innermost lowest */
    int todo_do_loop;
    unsigned int flaky_level;
    int flaky_do_loop;
    char context[8][128];
    unsigned int context_count;   /* may exceed ARRAY_SIZE(context); extra levels print nothing */
    char strings[2000];           /* ring of scratch space for wine_dbgstr_*() */
    size_t strings_pos;
};

static DWORD winetest_tls_index = TLS_OUT_OF_INDEXES;
static HANDLE winetest_mutex;     /* serialises output with child processes of the same test */

struct winetest_test
{
    const char *name;
    void (*func)(void);
    int line;
};
static struct winetest_test winetest_tests[64];
static unsigned int winetest_test_count;
static const struct winetest_test *winetest_current_test;
static int winetest_argc;
static char **winetest_argv;

static inline struct winetest_thread_data *winetest_get_thread_data(void)
{
    struct winetest_thread_data *data;
    DWORD saved_error = GetLastError();   /* tests check GetLastError() after ok() */

    if (winetest_tls_index == TLS_OUT_OF_INDEXES) winetest_tls_index = TlsAlloc();
    data = TlsGetValue( winetest_tls_index );
    if (!data)
    {
        data = HeapAlloc( GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*data) );
        TlsSetValue( winetest_tls_index, data );
    }
    SetLastError( saved_error );
    return data;
}

static inline void winetest_print_lock(void)
{
    DWORD ret;
    if (!winetest_mutex) return;
    ret = WaitForSingleObject( winetest_mutex, 30000 );
    if (ret != WAIT_OBJECT_0 && ret != WAIT_ABANDONED) winetest_mutex = NULL;
}

static inline void winetest_print_unlock(void)
{
    if (winetest_mutex) ReleaseMutex( winetest_mutex );
}

static inline const char *winetest_elapsed( char *buffer, size_t size )
{
    DWORD now;

    if (!winetest_time) return "";
    winetest_last_time = now = GetTickCount();
    snprintf( buffer, size, "%.3f", (now - winetest_start_time) / 1000.0 );
    return buffer;
}

static inline void winetest_set_location( const char *file, int line )
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    const char *base = file, *p;

    for (p = file; *p; p++) if (*p == '/' || *p == '\\') base = p + 1;
    data->current_file = base;
    data->current_line = line;
}

/* "file.c:LINE:ELAPSED " followed by the message type and the pushed contexts */
static inline void winetest_print_prefix( const char *type, int with_context )
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    char elapsed[64];
    unsigned int i;

    printf( "%s:%d:%s %s", data->current_file, data->current_line,
            winetest_elapsed( elapsed, sizeof(elapsed) ), type );
    if (!with_context) return;
    for (i = 0; i < data->context_count && i < ARRAY_SIZE(data->context); i++)
        printf( "%s: ", data->context[i] );
}

/* How many times the current line already printed; Wine silences a line after
 * winetest_mute_threshold messages so that a failing loop cannot flood the log. */
static inline LONG winetest_add_line(void)
{
    static LONG line_counters[16384];
    struct winetest_thread_data *data;
    LONG count;

    if (winetest_debug > 1) return 0;
    data = winetest_get_thread_data();
    count = InterlockedIncrement( &line_counters[data->current_line % ARRAY_SIZE(line_counters)] ) - 1;
    if (count == winetest_mute_threshold)
    {
        winetest_print_lock();
        winetest_print_prefix( "", 0 );
        printf( "Line has been silenced after %d occurrences\n", winetest_mute_threshold );
        winetest_print_unlock();
    }
    return count;
}

static inline int broken( int condition )
{
    return !winetest_platform_is_wine && condition;
}

static inline int winetest_vok( int condition, const char *msg, va_list args )
{
    struct winetest_thread_data *data = winetest_get_thread_data();

    if (data->todo_level)
    {
        if (condition)
        {
            winetest_print_lock();
            if (data->flaky_level)
            {
                winetest_print_prefix( "Test succeeded inside flaky todo block: ", 1 );
                InterlockedIncrement( &winetest_flaky_failures );
            }
            else
            {
                winetest_print_prefix( "Test succeeded inside todo block: ", 1 );
                InterlockedIncrement( &winetest_todo_failures );
            }
            vprintf( msg, args );
            winetest_print_unlock();
            return 0;
        }
        if (winetest_debug && winetest_add_line() >= winetest_mute_threshold)
        {
            InterlockedIncrement( &winetest_muted_todo_successes );
            return 1;
        }
        if (winetest_debug > 0)
        {
            winetest_print_lock();
            winetest_print_prefix( "Test marked todo: ", 1 );
            vprintf( msg, args );
            winetest_print_unlock();
        }
        InterlockedIncrement( &winetest_todo_successes );
        return 1;
    }

    if (!condition)
    {
        winetest_print_lock();
        if (data->flaky_level)
        {
            winetest_print_prefix( "Test marked flaky: ", 1 );
            InterlockedIncrement( &winetest_flaky_failures );
        }
        else
        {
            winetest_print_prefix( "Test failed: ", 1 );
            InterlockedIncrement( &winetest_failures );
        }
        vprintf( msg, args );
        winetest_print_unlock();
        return 0;
    }

    if (winetest_report_success || (winetest_time && GetTickCount() >= winetest_last_time + 1000))
    {
        winetest_print_lock();
        winetest_print_prefix( "Test succeeded\n", 0 );
        winetest_print_unlock();
    }
    InterlockedIncrement( &winetest_successes );
    return 1;
}

static inline void winetest_ok( int condition, const char *msg, ... ) WINETEST_PRINTF_ATTR(2, 3);
static inline void winetest_ok( int condition, const char *msg, ... )
{
    va_list args;
    va_start( args, msg );
    winetest_vok( condition, msg, args );
    va_end( args );
}

static inline void winetest_trace( const char *msg, ... ) WINETEST_PRINTF_ATTR(1, 2);
static inline void winetest_trace( const char *msg, ... )
{
    va_list args;

    if (!winetest_debug) return;
    if (winetest_add_line() >= winetest_mute_threshold)
    {
        InterlockedIncrement( &winetest_muted_traces );
        return;
    }
    winetest_print_lock();
    winetest_print_prefix( "", 1 );
    va_start( args, msg );
    vprintf( msg, args );
    va_end( args );
    winetest_print_unlock();
}

static inline void winetest_vskip( const char *msg, va_list args )
{
    if (winetest_add_line() >= winetest_mute_threshold)
    {
        InterlockedIncrement( &winetest_muted_skipped );
        return;
    }
    winetest_print_lock();
    winetest_print_prefix( "Tests skipped: ", 1 );
    vprintf( msg, args );
    winetest_print_unlock();
    InterlockedIncrement( &winetest_skipped );
}

static inline void winetest_skip( const char *msg, ... ) WINETEST_PRINTF_ATTR(1, 2);
static inline void winetest_skip( const char *msg, ... )
{
    va_list args;
    va_start( args, msg );
    winetest_vskip( msg, args );
    va_end( args );
}

/* A skip that is only acceptable on Windows (old versions lacking a feature);
 * on Wine the missing feature is a failure. */
static inline void winetest_win_skip( const char *msg, ... ) WINETEST_PRINTF_ATTR(1, 2);
static inline void winetest_win_skip( const char *msg, ... )
{
    va_list args;
    va_start( args, msg );
    if (!winetest_platform_is_wine) winetest_vskip( msg, args );
    else winetest_vok( 0, msg, args );
    va_end( args );
}

static inline void winetest_subtest( const char *name )
{
    winetest_print_lock();
    winetest_print_prefix( "Subtest ", 0 );
    printf( "%s\n", name );
    winetest_print_unlock();
}

static inline void winetest_start_todo( int is_todo )
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    data->todo_level = (data->todo_level << 1) | (is_todo != 0);
    data->todo_do_loop = 1;
}

static inline int winetest_loop_todo(void)
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    int do_loop = data->todo_do_loop;
    data->todo_do_loop = 0;
    return do_loop;
}

static inline void winetest_end_todo(void)
{
    winetest_get_thread_data()->todo_level >>= 1;
}

static inline void winetest_start_flaky( int is_flaky )
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    data->flaky_level = (data->flaky_level << 1) | (is_flaky != 0);
    data->flaky_do_loop = 1;
}

static inline int winetest_loop_flaky(void)
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    int do_loop = data->flaky_do_loop;
    data->flaky_do_loop = 0;
    return do_loop;
}

static inline void winetest_end_flaky(void)
{
    winetest_get_thread_data()->flaky_level >>= 1;
}

/* Text printed before every message until the matching pop, e.g. the loop
 * index of a table-driven test. */
static inline void winetest_push_context( const char *fmt, ... ) WINETEST_PRINTF_ATTR(1, 2);
static inline void winetest_push_context( const char *fmt, ... )
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    va_list args;

    if (data->context_count < ARRAY_SIZE(data->context))
    {
        char *slot = data->context[data->context_count];
        va_start( args, fmt );
        vsnprintf( slot, sizeof(data->context[0]), fmt, args );
        va_end( args );
        slot[sizeof(data->context[0]) - 1] = 0;
    }
    data->context_count++;
}

static inline void winetest_pop_context(void)
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    if (data->context_count) data->context_count--;
}

static inline LONG winetest_get_failures(void)
{
    return winetest_failures;
}

static inline void winetest_add_failures( LONG new_failures )
{
    while (new_failures-- > 0) InterlockedIncrement( &winetest_failures );
}

static inline int winetest_get_mainargs( char ***pargv )
{
    *pargv = winetest_argv;
    return winetest_argc;
}

/* Waits for a child started by the test (e.g. the same .exe with other
 * arguments) and adds its failures, which are its exit code, to ours. */
static inline void winetest_wait_child_process( const PROCESS_INFORMATION *info )
{
    DWORD ret, exit_code = 0;

    winetest_ok( info->hProcess != NULL, "No child process handle (CreateProcess failed?)\n" );
    if (!info->hProcess) return;

    ret = WaitForSingleObject( info->hProcess, 30000 );
    if (ret == WAIT_TIMEOUT)
        winetest_ok( 0, "Timed out waiting for the child process\n" );
    else if (ret != WAIT_OBJECT_0)
        winetest_ok( 0, "Could not wait for the child process: %u le=%u\n",
                     (UINT)ret, (UINT)GetLastError() );
    else
    {
        GetExitCodeProcess( info->hProcess, &exit_code );
        winetest_print_lock();
        if (exit_code > 255)
        {
            winetest_print_prefix( "", 0 );
            printf( "unhandled exception %08x in child process %04x\n",
                    (UINT)exit_code, (UINT)info->dwProcessId );
            InterlockedIncrement( &winetest_failures );
        }
        else if (exit_code)
        {
            winetest_print_prefix( "", 0 );
            printf( "%u failures in child process\n", (UINT)exit_code );
            winetest_add_failures( exit_code );
        }
        winetest_print_unlock();
    }
    CloseHandle( info->hProcess );
    CloseHandle( info->hThread );
}

/* Scratch space for the wine_dbgstr_*() helpers: a per-thread ring, so a few
 * results can be used in one ok() message. */
static inline char *winetest_get_temp_buffer( size_t size )
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    char *res;

    if (data->strings_pos + size > sizeof(data->strings)) data->strings_pos = 0;
    res = data->strings + data->strings_pos;
    data->strings_pos += size;
    return res;
}

/* Append the escaped form of one character for the wine_dbgstr_* helpers:
 * C escapes for the usual controls, printable ASCII as is, anything else
 * as \NNNN (wide strings) or \xNN (narrow ones).  At most 5 bytes. */
static inline char *winetest_escape( char *dst, unsigned int c, BOOL wide )
{
    switch (c)
    {
    case '\n': *dst++ = '\\'; *dst++ = 'n'; break;
    case '\r': *dst++ = '\\'; *dst++ = 'r'; break;
    case '\t': *dst++ = '\\'; *dst++ = 't'; break;
    case '"':  *dst++ = '\\'; *dst++ = '"'; break;
    case '\\': *dst++ = '\\'; *dst++ = '\\'; break;
    default:
        if (c >= ' ' && c <= 126) *dst++ = (char)c;
        else if (wide) dst += snprintf( dst, 6, "\\%04x", c );
        else dst += snprintf( dst, 5, "\\x%02x", c );
    }
    return dst;
}

static inline const char *wine_dbgstr_wn( const WCHAR *str, int n )
{
    char *res, *dst;
    size_t size;

    if (!((ULONG_PTR)str >> 16))
    {
        if (!str) return "(null)";
        res = winetest_get_temp_buffer( 6 );
        snprintf( res, 6, "#%04x", LOWORD(str) );
        return res;
    }
    if (n == -1) for (n = 0; str[n]; n++) ;
    if (n < 0) n = 0;
    size = 12 + (n * 6 < 300 ? n * 6 : 300);
    dst = res = winetest_get_temp_buffer( size );
    *dst++ = 'L';
    *dst++ = '"';
    for (; n > 0 && dst <= res + size - 11; n--, str++)
    {
        dst = winetest_escape( dst, *str, TRUE );
    }
    *dst++ = '"';
    if (n > 0) { *dst++ = '.'; *dst++ = '.'; *dst++ = '.'; }
    *dst = 0;
    return res;
}

static inline const char *wine_dbgstr_w( const WCHAR *str ) { return wine_dbgstr_wn( str, -1 ); }
static inline const char *debugstr_w( const WCHAR *str ) { return wine_dbgstr_wn( str, -1 ); }
static inline const char *debugstr_wn( const WCHAR *str, int n ) { return wine_dbgstr_wn( str, n ); }

static inline const char *wine_dbgstr_an( const char *str, int n )
{
    char *res, *dst;
    size_t size;

    if (!((ULONG_PTR)str >> 16))
    {
        if (!str) return "(null)";
        res = winetest_get_temp_buffer( 6 );
        snprintf( res, 6, "#%04x", LOWORD(str) );
        return res;
    }
    if (n == -1) n = strlen( str );
    if (n < 0) n = 0;
    size = 12 + (n * 4 < 300 ? n * 4 : 300);
    dst = res = winetest_get_temp_buffer( size );
    *dst++ = '"';
    for (; n > 0 && dst <= res + size - 9; n--, str++)
    {
        dst = winetest_escape( dst, (unsigned char)*str, FALSE );
    }
    *dst++ = '"';
    if (n > 0) { *dst++ = '.'; *dst++ = '.'; *dst++ = '.'; }
    *dst = 0;
    return res;
}

static inline const char *wine_dbgstr_a( const char *str ) { return wine_dbgstr_an( str, -1 ); }
static inline const char *debugstr_a( const char *str ) { return wine_dbgstr_an( str, -1 ); }
static inline const char *debugstr_an( const char *str, int n ) { return wine_dbgstr_an( str, n ); }

static inline const char *wine_dbgstr_longlong( ULONGLONG value )
{
    char *res = winetest_get_temp_buffer( 20 );
    if (value >> 32) snprintf( res, 20, "%lx%08lx", (unsigned long)(value >> 32), (unsigned long)value );
    else snprintf( res, 20, "%lx", (unsigned long)value );
    return res;
}

static inline const char *wine_dbgstr_guid( const GUID *id )
{
    char *res;

    if (!id) return "(null)";
    if (!((ULONG_PTR)id >> 16))
    {
        res = winetest_get_temp_buffer( 12 );
        snprintf( res, 12, "<guid-0x%04hx>", (WORD)(ULONG_PTR)id );
        return res;
    }
    res = winetest_get_temp_buffer( 39 );
    snprintf( res, 39, "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
              (unsigned long)id->Data1, id->Data2, id->Data3,
              id->Data4[0], id->Data4[1], id->Data4[2], id->Data4[3],
              id->Data4[4], id->Data4[5], id->Data4[6], id->Data4[7] );
    return res;
}

/* Checks and messages.  ok_(file, line)(cond, fmt, ...) records the location
 * first, so helpers can report their caller's line. */
#define subtest_(file, line)  (winetest_set_location(file, line), 0) ? (void)0 : winetest_subtest
#define ok_(file, line)       (winetest_set_location(file, line), 0) ? (void)0 : winetest_ok
#define skip_(file, line)     (winetest_set_location(file, line), 0) ? (void)0 : winetest_skip
#define win_skip_(file, line) (winetest_set_location(file, line), 0) ? (void)0 : winetest_win_skip
#define trace_(file, line)    (winetest_set_location(file, line), 0) ? (void)0 : winetest_trace
#define wait_child_process_(file, line) (winetest_set_location(file, line), 0) ? (void)0 : winetest_wait_child_process

#define subtest  subtest_(__FILE__, __LINE__)
#define ok       ok_(__FILE__, __LINE__)
#define skip     skip_(__FILE__, __LINE__)
#define win_skip win_skip_(__FILE__, __LINE__)
#define trace    trace_(__FILE__, __LINE__)
#define wait_child_process wait_child_process_(__FILE__, __LINE__)

/* todo_wine marks the next statement as expected to fail, on Wine only; a
 * check inside it that succeeds is reported and counted as a failure. */
#define todo_if(is_todo) for (winetest_start_todo(is_todo); \
                              winetest_loop_todo(); \
                              winetest_end_todo())
#define todo_wine               todo_if(winetest_platform_is_wine)
#define todo_wine_if(is_todo)   todo_if((is_todo) && winetest_platform_is_wine)

#define flaky_if(is_flaky) for (winetest_start_flaky(is_flaky); \
                                winetest_loop_flaky(); \
                                winetest_end_flaky())
#define flaky                   flaky_if(TRUE)
#define flaky_wine              flaky_if(winetest_platform_is_wine)
#define flaky_wine_if(is_flaky) flaky_if((is_flaky) && winetest_platform_is_wine)

/* The test list: START_TEST(name) defines func_name and registers it before
 * main() runs.  Constructors may run in any order (PE .ctors run backwards),
 * so the line number keeps "run all" in source order. */
static inline void winetest_register( const char *name, void (*func)(void), int line )
{
    struct winetest_test *test;

    if (winetest_test_count >= ARRAY_SIZE(winetest_tests)) abort();
    test = &winetest_tests[winetest_test_count++];
    test->name = name;
    test->func = func;
    test->line = line;
}

#define START_TEST(name) \
    static void func_##name(void); \
    static void __attribute__((constructor)) winetest_register_##name(void) \
    { winetest_register( #name, func_##name, __LINE__ ); } \
    static void func_##name(void)

static inline BOOL winetest_running_under_wine(void)
{
    HMODULE ntdll = GetModuleHandleA( "ntdll.dll" );
    return ntdll && (GetProcAddress( ntdll, "wine_get_version" ) || GetProcAddress( ntdll, "wine_server_call" ));
}

static LONG CALLBACK winetest_exception_filter( EXCEPTION_POINTERS *ptrs )
{
    struct winetest_thread_data *data = winetest_get_thread_data();
    char elapsed[64];

    winetest_print_lock();
    if (data->current_file)
        printf( "%s:%d: this is the last test seen before the exception\n",
                data->current_file, data->current_line );
    printf( "%04x:%s:%s unhandled exception %08x at %p\n", (UINT)GetCurrentProcessId(),
            winetest_current_test ? winetest_current_test->name : "?",
            winetest_elapsed( elapsed, sizeof(elapsed) ),
            (UINT)ptrs->ExceptionRecord->ExceptionCode, ptrs->ExceptionRecord->ExceptionAddress );
    fflush( stdout );
    winetest_print_unlock();
    return EXCEPTION_EXECUTE_HANDLER;
}

static const struct winetest_test *winetest_find_test( const char *name )
{
    const char *p;
    size_t len;
    unsigned int i;

    /* accept "backup", "backup.c" or a path to the source, as Wine does */
    if ((p = strrchr( name, '/' ))) name = p + 1;
    if ((p = strrchr( name, '\\' ))) name = p + 1;
    len = strlen( name );
    if (len > 2 && !strcmp( name + len - 2, ".c" )) len -= 2;
    for (i = 0; i < winetest_test_count; i++)
        if (!strncmp( winetest_tests[i].name, name, len ) && !winetest_tests[i].name[len])
            return &winetest_tests[i];
    return NULL;
}

static int winetest_run_test( const struct winetest_test *test )
{
    LONG status;

    winetest_successes = winetest_failures = winetest_flaky_failures = winetest_skipped = 0;
    winetest_todo_successes = winetest_todo_failures = 0;
    winetest_muted_traces = winetest_muted_skipped = winetest_muted_todo_successes = 0;
    winetest_current_test = test;

    test->func();

    if (winetest_debug)
    {
        char elapsed[64];
        LONG failed = winetest_failures + winetest_todo_failures;

        winetest_print_lock();
        if (winetest_muted_todo_successes || winetest_muted_skipped || winetest_muted_traces)
            printf( "%04x:%s:%s Silenced %d todos, %d skips and %d traces.\n",
                    (UINT)GetCurrentProcessId(), test->name, winetest_elapsed( elapsed, sizeof(elapsed) ),
                    (int)winetest_muted_todo_successes, (int)winetest_muted_skipped,
                    (int)winetest_muted_traces );
        printf( "%04x:%s:%s %d tests executed (%d marked as todo, %d as flaky, %d %s), %d skipped.\n",
                (UINT)GetCurrentProcessId(), test->name, winetest_elapsed( elapsed, sizeof(elapsed) ),
                (int)(winetest_successes + winetest_failures + winetest_flaky_failures +
                      winetest_todo_successes + winetest_todo_failures),
                (int)winetest_todo_successes, (int)winetest_flaky_failures, (int)failed,
                failed != 1 ? "failures" : "failure", (int)winetest_skipped );
        winetest_print_unlock();
    }
    status = winetest_failures + winetest_todo_failures;
    if (winetest_report_flaky) status += winetest_flaky_failures;
    return status > 255 ? 255 : (int)status;
}

static int winetest_compare_tests( const void *a, const void *b )
{
    return ((const struct winetest_test *)a)->line - ((const struct winetest_test *)b)->line;
}

static int winetest_env_int( const char *name, int *value )
{
    char buffer[32];
    DWORD len = GetEnvironmentVariableA( name, buffer, sizeof(buffer) );
    if (!len || len >= sizeof(buffer)) return 0;
    *value = atoi( buffer );
    return 1;
}

int main( int argc, char **argv )
{
    static char platform[64];
    const struct winetest_test *test;
    unsigned int i;
    int status = 0;

    setvbuf( stdout, NULL, _IONBF, 0 );
    winetest_mutex = CreateMutexA( NULL, FALSE, "winetest_print_mutex" );
    winetest_argc = argc;
    winetest_argv = argv;

    if (GetEnvironmentVariableA( "WINETEST_PLATFORM", platform, sizeof(platform) ))
        winetest_platform = platform;
    else if (winetest_running_under_wine())
        winetest_platform = "wine";
    winetest_platform_is_wine = !strcmp( winetest_platform, "wine" );

    winetest_env_int( "WINETEST_DEBUG", &winetest_debug );
    winetest_env_int( "WINETEST_INTERACTIVE", &winetest_interactive );
    winetest_env_int( "WINETEST_MUTE_THRESHOLD", &winetest_mute_threshold );
    winetest_env_int( "WINETEST_REPORT_FLAKY", &winetest_report_flaky );
    winetest_env_int( "WINETEST_REPORT_SUCCESS", &winetest_report_success );
    winetest_env_int( "WINETEST_TIME", &winetest_time );
    winetest_last_time = winetest_start_time = GetTickCount();

    if (!winetest_platform_is_wine) SetUnhandledExceptionFilter( winetest_exception_filter );
    if (!winetest_interactive) SetErrorMode( SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX );

    qsort( winetest_tests, winetest_test_count, sizeof(winetest_tests[0]), winetest_compare_tests );

    if (argc > 1 && !strcmp( argv[1], "--list" ))
    {
        printf( "Valid test names:\n" );
        for (i = 0; i < winetest_test_count; i++) printf( "    %s\n", winetest_tests[i].name );
        return 0;
    }
    if (argc > 1)
    {
        if (!(test = winetest_find_test( argv[1] )))
        {
            printf( "Fatal: test '%s' does not exist.\n", argv[1] );
            return 1;
        }
        return winetest_run_test( test );
    }
    for (i = 0; i < winetest_test_count; i++)
    {
        status += winetest_run_test( &winetest_tests[i] );
        if (status > 255) status = 255;
    }
    return status;
}

#endif  /* __WINE_WINE_TEST_H */
