/*
 * The client side and the shared pieces of the service control protocol
 * (docs/fh-protocol.md): where the endpoint file is, line I/O, the peer-uid
 * check through /proc/net/tcp, and connect + HELLO for the CLI.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fh.h"

char *fh_endpoint_path(void)
{
    const char *env = getenv("FILEHISTORY_ENDPOINT"), *run = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");

    if (env && *env) return strdup(env);
    if (run && *run) return fh_join(run, "filehistory/endpoint");
    if (home && *home) return fh_join(home, ".cache/filehistory/endpoint");
    /* No HOME (a service started from a bare environment): the home directory
     * from the password database, which is also where Wine's WINEHOMEDIR
     * points then, so fhsvcctl.dll looks in the same place. */
    {
        struct passwd *pw = getpwuid(getuid());
        if (pw && pw->pw_dir && pw->pw_dir[0] == '/') return fh_join(pw->pw_dir, ".cache/filehistory/endpoint");
    }
    return NULL;
}

int fh_read_line(int fd, char *buf, size_t size)
{
    size_t len = 0;

    /* byte by byte: the protocol is strictly request/reply, lines are short */
    for (;;)
    {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        if (n == 0) return len ? -1 : 0;
        if (c == '\n') break;
        if (len + 1 >= size) return -1;
        buf[len++] = c;
    }
    if (len && buf[len - 1] == '\r') len--;
    buf[len] = 0;
    return 1;
}

/* The uid column of the /proc/net/tcp line for local 127.0.0.1:lport -> remote 127.0.0.1:rport. */
static int proc_net_tcp_uid(unsigned int lport, unsigned int rport, uid_t *uid)
{
    FILE *f = fopen("/proc/net/tcp", "re");
    char line[512];
    int found = 0;

    if (!f) return -1;
    while (fgets(line, sizeof(line), f))
    {
        unsigned int sl, laddr, lp, raddr, rp, st;
        unsigned long u;
        if (sscanf(line, " %u: %8X:%4X %8X:%4X %2X %*8X:%*8X %*2X:%*8X %*8X %lu",
                   &sl, &laddr, &lp, &raddr, &rp, &st, &u) != 7)
            continue;
        if (laddr == 0x0100007F && lp == lport && raddr == 0x0100007F && rp == rport)
        {
            *uid = (uid_t)u;
            found = 1;
            break;
        }
    }
    fclose(f);
    return found ? 0 : -1;
}

int fh_peer_uid_matches(int sock, uid_t uid)
{
    struct sockaddr_in self, peer;
    socklen_t len = sizeof(self);
    uid_t owner;

    if (getsockname(sock, (struct sockaddr *)&self, &len)) return 0;
    len = sizeof(peer);
    if (getpeername(sock, (struct sockaddr *)&peer, &len)) return 0;
    if (peer.sin_family != AF_INET || peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) return 0;
    /* the client's socket: its local end is the peer port, its remote end is us */
    if (proc_net_tcp_uid(ntohs(peer.sin_port), ntohs(self.sin_port), &owner)) return 0;
    return owner == uid;
}

static int read_endpoint(unsigned int *port, char *secret, size_t size)
{
    char *path = fh_endpoint_path(), line[128];
    FILE *f;
    int ok;

    if (!path) { errno = ENOENT; return -1; }
    f = fopen(path, "re");
    free(path);
    if (!f) return -1;
    ok = fgets(line, sizeof(line), f) && sscanf(line, "%u %64s", port, secret) == 2 && *port && *port < 65536 &&
         strlen(secret) == 32;
    fclose(f);
    (void)size;
    if (!ok) { errno = ENOENT; return -1; }
    return 0;
}

int fh_client_connect(void)
{
    struct sockaddr_in addr;
    unsigned int port;
    char secret[65], line[FH_PROTO_MAX_LINE];
    int sock;

    if (read_endpoint(&port, secret, sizeof(secret))) return -1;
    if ((sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) return -1;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&addr, sizeof(addr))) { int e = errno; close(sock); errno = e; return -1; }
    snprintf(line, sizeof(line), "HELLO %s 1\n", secret);
    if (fh_write_all(sock, line, strlen(line)) || fh_read_line(sock, line, sizeof(line)) != 1 ||
        strcmp(line, "OK 00000000"))
    {
        close(sock);
        errno = EACCES;
        return -1;
    }
    return sock;
}

int fh_client_request(int sock, const char *request, uint32_t *hr, char *text, size_t textsize)
{
    char line[FH_PROTO_MAX_LINE + 2];
    char *end;
    unsigned long v;

    snprintf(line, sizeof(line), "%s\n", request);
    if (fh_write_all(sock, line, strlen(line)) || fh_read_line(sock, line, sizeof(line)) != 1) return -1;
    if (strncmp(line, "OK ", 3) || strlen(line) < 11) { errno = EPROTO; return -1; }
    v = strtoul(line + 3, &end, 16);
    if (end != line + 11 || (*end && *end != ' ')) { errno = EPROTO; return -1; }
    *hr = (uint32_t)v;
    if (text && textsize) snprintf(text, textsize, "%s", *end ? end + 1 : "");
    return 0;
}
