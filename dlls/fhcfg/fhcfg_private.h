/*
 * fhcfg.dll: File History configuration manager, private declarations.
 *
 * The COM objects keep no configuration of their own: each holds one
 * connection to the File History service (client.c, shared with
 * fhsvcctl.dll through PARENTSRC) and the service keeps that connection's
 * configuration state (docs/fh-protocol.md, section 7), so COM, the
 * filehistory CLI and the service read and write one configuration through
 * one engine (libs/fh).
 */
#ifndef __FHCFG_PRIVATE_H
#define __FHCFG_PRIVATE_H

#define COBJMACROS
#define CONST_VTABLE
#include "client.h"
#include <objbase.h>
#include <oleauto.h>
#include "fhcfg.h"

/* Longest string either side passes (bytes of UTF-8), as the service. */
#define FH_STRING_MAX 4096

/* One object's link to the service: opened on first use, then reused. */
struct service_link
{
    CRITICAL_SECTION cs;
    struct fh_conn *conn;
};

void link_init(struct service_link *link);
void link_free(struct service_link *link);
/* One request (printf-style), its HRESULT; text (may be NULL) gets the reply text. */
HRESULT link_request(struct service_link *link, char *text, size_t text_size, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
/* A request whose last field is a string: "<command> =<value>", sent in parts when long. */
HRESULT link_request_string(struct service_link *link, const char *command, const char *value,
                            char *text, size_t text_size);
/* A string the service returns in parts: "<prefix> <offset>" until complete (malloc'ed UTF-8). */
HRESULT link_fetch_string(struct service_link *link, const char *prefix, char **value);

/* Path conversions through Wine (wine_get_unix_file_name / wine_get_dos_file_name). */
HRESULT unix_path_from_dos(const WCHAR *dos, char **unix_path);
HRESULT bstr_from_unix_path(const char *unix_path, BOOL trailing_backslash, BSTR *out);
HRESULT bstr_from_utf8(const char *utf8, BSTR *out);

HRESULT config_mgr_create(REFIID riid, void **ppv);
HRESULT reassociation_create(REFIID riid, void **ppv);
HRESULT scope_iterator_create(BSTR *items, DWORD count, IFhScopeIterator **out);

/* Wine's debug helpers, for TRACE: the string lives until a few calls later. */
const char *debugstr_guid(const GUID *guid);
const char *debugstr_w(const WCHAR *str);

void fhcfg_lock_module(void);
void fhcfg_unlock_module(void);

#endif
