/*
 * fhsvcctl: client side of the File History service protocol
 * (docs/fh-protocol.md).  One fh_conn is one authenticated TCP connection
 * to the service; the caller serializes requests on a connection.
 */

#ifndef __FHSVCCTL_CLIENT_H
#define __FHSVCCTL_CLIENT_H

#include <winsock2.h>
#include <windows.h>
#include <bcrypt.h>

/* Longest line either side may send, '\n' included (protocol section 3). */
#define FH_LINE_MAX 256
/* The handshake's nonces and proofs, in lowercase hex (protocol section 2). */
#define FH_NONCE_CHARS 32
#define FH_PROOF_CHARS 64
/* Longest string either side passes, in bytes of UTF-8 (protocol section 7.1). */
#define FH_STRING_BYTES_MAX 4096

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Our choices for failures the protocol does not carry (UNVERIFIED against Windows). */
#define FH_E_SERVICE_NOT_ACTIVE  HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE)   /* 0x80070426 */
#define FH_E_CONNECTION_LOST     HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE)   /* 0x800706ba */
#define FH_E_BAD_REPLY           HRESULT_FROM_WIN32(ERROR_INVALID_DATA)         /* 0x8007000d */

struct fh_conn
{
    SOCKET sock;
    BOOL   broken;              /* set once a read/write failed: no further requests */
    size_t pending;             /* bytes of the next line already received */
    char   buf[FH_LINE_MAX + 1];
};

void fh_trace(const char *func, const char *format, ...);
#define TRACE(...) fh_trace(__func__, __VA_ARGS__)

HRESULT fh_conn_open(BOOL start_service, struct fh_conn **conn);
/* Sends one request line (without '\n'); returns the service's HRESULT, or a
 * transport error.  text (may be NULL) receives the reply's text field. */
HRESULT fh_conn_request(struct fh_conn *conn, const char *request, char *text, size_t text_size);
void fh_conn_close(struct fh_conn *conn);
/* A string the service returns in parts ("<command> <offset>" until
 * complete, protocol section 7.1): malloc'ed UTF-8. */
HRESULT fh_conn_fetch_string(struct fh_conn *conn, const char *command, char **value);

/* registry.c: the registry entries Windows' readers use (Configs, ProtectedUpToTime) */
/* Writes what the service says they hold (CFG_REGISTRY); S_FALSE outside Wine. */
HRESULT fh_registry_refresh(struct fh_conn *conn);
/* The values under ...\fhsvc\Parameters\Configs, as Windows' FhQueryConfiguredUsersCount counts them. */
HRESULT fh_registry_count_configs(DWORD *count);

/* Exposed for the protocol parser's own checks. */
BOOL fh_parse_endpoint(const char *data, size_t len, unsigned short *port, char secret[33]);

#endif /* __FHSVCCTL_CLIENT_H */
