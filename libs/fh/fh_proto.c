/*
 * The client side and the shared pieces of the service control protocol
 * (docs/fh-protocol.md): where the endpoint file and the service's log are,
 * line I/O, the peer-uid check, and connect + HELLO for the CLI.
 *
 * The peer's uid is asked from the kernel for exactly the peer's socket
 * (NETLINK_SOCK_DIAG, an inet_diag request by the connection's four-tuple),
 * which costs the same however many sockets the machine has: another user
 * opening connections as fast as it can must not make each check slower.
 * Where sock_diag is missing (no tcp_diag in a container), /proc/net/tcp is
 * read instead.
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
#include <sys/time.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "fh.h"
#include "fh_hmac.h"

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

char *fh_log_path(void)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

    if (state && state[0] == '/') return fh_join(state, "filehistory/filehistory.log");
    if (home && *home) return fh_join(home, ".local/state/filehistory/filehistory.log");
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

/* The uid owning the TCP socket local -> remote, by sock_diag; -1 if that cannot be asked. */
static int sock_diag_uid(const struct sockaddr_in *local, const struct sockaddr_in *remote, uid_t *uid)
{
    struct
    {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } msg;
    union { struct nlmsghdr nlh; char buf[1024]; } reply;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    struct timeval tv = { 1, 0 };
    ssize_t n;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), ret = -1;

    if (nl < 0) return -1;
    setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&msg, 0, sizeof(msg));
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST;
    msg.req.sdiag_family = AF_INET;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ~0u;
    msg.req.id.idiag_sport = local->sin_port;
    msg.req.id.idiag_dport = remote->sin_port;
    msg.req.id.idiag_src[0] = local->sin_addr.s_addr;
    msg.req.id.idiag_dst[0] = remote->sin_addr.s_addr;
    msg.req.id.idiag_cookie[0] = msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    if (sendto(nl, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) == (ssize_t)sizeof(msg) &&
        (n = recv(nl, &reply, sizeof(reply), 0)) > 0 && NLMSG_OK(&reply.nlh, (size_t)n))
    {
        if (reply.nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
            reply.nlh.nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
        {
            const struct inet_diag_msg *d = NLMSG_DATA(&reply.nlh);
            /* the answer must be that very socket */
            if (d->id.idiag_sport == local->sin_port && d->id.idiag_dport == remote->sin_port &&
                d->id.idiag_src[0] == local->sin_addr.s_addr && d->id.idiag_dst[0] == remote->sin_addr.s_addr)
            {
                *uid = d->idiag_uid;
                ret = 0;
            }
        }
        else if (reply.nlh.nlmsg_type == NLMSG_ERROR)
        {
            const struct nlmsgerr *e = NLMSG_DATA(&reply.nlh);
            /* ENOENT: no such socket (the peer went): an answer; anything else: ask /proc */
            if (e->error == -ENOENT) ret = -2;
        }
    }
    close(nl);
    return ret;
}

int fh_peer_uid(int sock, uid_t *uid)
{
    struct sockaddr_in self, peer;
    socklen_t len = sizeof(self);
    int r;

    if (getsockname(sock, (struct sockaddr *)&self, &len)) return -1;
    len = sizeof(peer);
    if (getpeername(sock, (struct sockaddr *)&peer, &len)) return -1;
    if (peer.sin_family != AF_INET || peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) return -1;
    /* the client's socket: its local end is the peer port, its remote end is us */
    if ((r = sock_diag_uid(&peer, &self, uid)) != -1) return r ? -1 : 0;
    return proc_net_tcp_uid(ntohs(peer.sin_port), ntohs(self.sin_port), uid);
}

int fh_peer_uid_matches(int sock, uid_t uid)
{
    uid_t owner;
    return !fh_peer_uid(sock, &owner) && owner == uid;
}

static int read_endpoint(unsigned int *port, char *secret, size_t size)
{
    char *path = fh_endpoint_path(), line[128];
    FILE *f;
    int ok, fd;

    if (!path) { errno = ENOENT; return -1; }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free(path);
    if (fd < 0 || !(f = fdopen(fd, "r"))) { if (fd >= 0) close(fd); return -1; }
    ok = fgets(line, sizeof(line), f) && sscanf(line, "%u %64s", port, secret) == 2 && *port && *port < 65536 &&
         strlen(secret) == 32;
    fclose(f);
    (void)size;
    if (!ok) { errno = ENOENT; return -1; }
    return 0;
}

/* The handshake (docs/fh-protocol.md section 2): the service proves it knows
 * the secret before we prove it in turn; the secret itself is never sent.
 * Whoever else holds the port of a service that died gets nothing it can use,
 * and is taken for no service at all (ECONNREFUSED). */
static int client_handshake(int sock, const char *secret)
{
    char cn[FH_NONCE_CHARS + 1], sn[48], proof[80];     /* room for the %40s and %70s below */
    char mine[2 * FH_SHA256_SIZE + 1], line[FH_PROTO_MAX_LINE];
    int n = 0;

    if (fh_random_hex(cn, FH_NONCE_CHARS / 2)) return -1;
    snprintf(line, sizeof(line), "HELLO %s 2\n", cn);
    /* until the peer has proved it knows the secret, whatever goes wrong says
     * that our service is not there (the CLI then starts one) */
    if (fh_write_all(sock, line, strlen(line)) || fh_read_line(sock, line, sizeof(line)) != 1 ||
        sscanf(line, "CHALLENGE %40s %70s%n", sn, proof, &n) != 2 || line[n] || strncmp(line, "CHALLENGE ", 10) ||
        !fh_is_nonce(sn))
    {
        errno = ECONNREFUSED;
        return -1;
    }
    fh_handshake_proof(secret, 'S', cn, sn, mine);
    if (!fh_proof_equal(proof, mine)) { errno = ECONNREFUSED; return -1; }
    fh_handshake_proof(secret, 'C', cn, sn, mine);
    snprintf(line, sizeof(line), "PROOF %s\n", mine);
    if (fh_write_all(sock, line, strlen(line)) || fh_read_line(sock, line, sizeof(line)) != 1 ||
        strcmp(line, "OK 00000000"))
    {
        errno = EACCES;
        return -1;
    }
    return 0;
}

int fh_client_connect(void)
{
    struct sockaddr_in addr;
    unsigned int port;
    char secret[65];
    int sock;

    if (read_endpoint(&port, secret, sizeof(secret))) return -1;
    if ((sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) return -1;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&addr, sizeof(addr))) { int e = errno; close(sock); errno = e; return -1; }
    {
        /* a service that stops answering must not hang the CLI */
        struct timeval tv = { FH_CLIENT_TIMEOUT_S, 0 };
        setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (client_handshake(sock, secret))
    {
        int e = errno;
        close(sock);
        errno = e;
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
