/*
 * Whole-file restores (libs/native/fileops.c) on real files: what a failed
 * restore leaves behind, names at the NAME_MAX limit, what happens to an
 * existing file's owner, mode, ACL and hard links, and how BACKUP_LINK is
 * confined.  Streams are built by hand from the format (header, name,
 * payload), not taken from the code under test.  Runs in $TMPDIR, else
 * /var/tmp (user xattrs needed).  The cases that need another owner run as
 * root only; the EACCES case forks and drops to an unprivileged uid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include "testutil.h"
#include "winbackup/winbackup.h"
#include "winbackup/metadata.h"
#include "winbackup/posix.h"
#include "winbackup/stream.h"

struct blob { uint8_t *data; size_t size; };

static void append(struct blob *b, uint32_t id, uint32_t attributes, const char *name,
                   const void *payload, size_t size)
{
    struct wb_stream_header header = { id, attributes, size, 0 };
    size_t name_len = name ? strlen(name) : 0, i, pos = b->size;

    header.name_size = name_len * 2;
    b->size += WB_STREAM_HEADER_SIZE + name_len * 2 + size;
    assert_non_null(b->data = realloc(b->data, b->size));
    wb_stream_header_pack(&header, b->data + pos);
    pos += WB_STREAM_HEADER_SIZE;
    for (i = 0; i < name_len; i++)
    {
        b->data[pos++] = name[i];
        b->data[pos++] = 0;
    }
    if (size) memcpy(b->data + pos, payload, size);
}

static void blob_clear(struct blob *b)
{
    free(b->data);
    b->data = NULL;
    b->size = 0;
}

/* BACKUP_LINK payload: the path as NUL-terminated UTF-16LE */
static void append_link(struct blob *b, const char *path)
{
    uint8_t payload[8192];
    size_t len = strlen(path), i;

    assert_true((len + 1) * 2 <= sizeof(payload));
    for (i = 0; i <= len; i++)
    {
        payload[2 * i] = i < len ? path[i] : 0;
        payload[2 * i + 1] = 0;
    }
    append(b, WB_BACKUP_LINK, 0, NULL, payload, (len + 1) * 2);
}

/* A FILE_FULL_EA_INFORMATION chain of one EA. */
static void append_ea(struct blob *b, const char *name, const char *value)
{
    uint8_t chain[256];
    size_t name_len = strlen(name), value_len = strlen(value);

    memset(chain, 0, sizeof(chain));
    chain[5] = (uint8_t)name_len;
    chain[6] = (uint8_t)value_len;
    memcpy(chain + 8, name, name_len + 1);
    memcpy(chain + 8 + name_len + 1, value, value_len);
    append(b, WB_BACKUP_EA_DATA, 0, NULL, chain, 8 + name_len + 1 + value_len);
}

/* wb_restore_path with the stream on a pipe-like fd (a memfd) */
static uint32_t restore(const char *path, const struct blob *b, unsigned int flags, const char *link_root)
{
    int fd = memfd_create("stream", MFD_CLOEXEC);
    uint32_t ret;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, b->data, b->size), (ssize_t)b->size);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    ret = wb_restore_path(path, flags, link_root, fd);
    close(fd);
    return ret;
}

/* restore() as uid/gid 65534 in a forked child; the child's Win32 status
 * comes back through a shared page. */
static uint32_t restore_as_nobody(const char *path, const struct blob *b, unsigned int flags)
{
    uint32_t *result = mmap(NULL, sizeof(*result), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint32_t ret;
    int status;
    pid_t pid;

    assert_true(result != MAP_FAILED);
    pid = fork();
    assert_true(pid >= 0);
    if (!pid)
    {
        if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) _exit(1);
        *result = restore(path, b, flags, NULL);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    ret = *result;
    munmap(result, sizeof(*result));
    return ret;
}

/* A 4 MiB tmpfs at mnt (created), or the test is skipped (not root).  It is
 * mounted in a mount namespace of this test process's own, so a test that
 * fails half-way (or a mutant run killed by its time-out) leaves no mount
 * behind on the host: the namespace, and the mount, end with the process. */
static void mount_small_tmpfs(char *dir, const char *mnt)
{
    static int own_namespace;

    assert_int_equal(mkdir(mnt, 0755), 0);
    if (geteuid() == 0 && !own_namespace && !unshare(CLONE_NEWNS))
        own_namespace = !mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (geteuid() != 0 || mount("wbtest", mnt, "tmpfs", 0, "size=4m,mode=0755"))
    {
        print_message("cannot mount a tmpfs here (not root?)\n");
        testutil_rmtree(dir);
        skip();
    }
}

static char *temp_dir(void)
{
    char *dir = testutil_mkdtemp(), probe[4200];
    int fd;

    snprintf(probe, sizeof(probe), "%s/probe", dir);
    assert_true((fd = open(probe, O_CREAT | O_RDWR, 0644)) >= 0);
    if (fsetxattr(fd, "user.probe", "1", 1, 0))
    {
        close(fd);
        print_message("no user xattrs in %s (errno %d); set TMPDIR to a disk file system\n", dir, errno);
        testutil_rmtree(dir);
        skip();
    }
    close(fd);
    unlink(probe);
    return dir;
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void assert_file_is(const char *path, const char *text)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got;

    assert_true(fd >= 0);
    got = read(fd, buf, sizeof(buf));
    close(fd);
    assert_int_equal(got, (ssize_t)strlen(text));
    assert_memory_equal(buf, text, got);
}

/* Entries of dir other than the ones named (NULL-terminated list). */
static int other_entries(const char *dir, const char **expected)
{
    char cmd[4300];
    FILE *ls;
    int others = 0;

    snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
    assert_non_null(ls = popen(cmd, "r"));
    while (fgets(cmd, sizeof(cmd), ls))
    {
        const char **e;
        cmd[strcspn(cmd, "\n")] = 0;
        for (e = expected; *e; e++) if (!strcmp(*e, cmd)) break;
        if (!*e)
        {
            print_message("unexpected entry %s\n", cmd);
            others++;
        }
    }
    pclose(ls);
    return others;
}

/* A restore that fails after a BACKUP_LINK leaves no link, and the target
 * untouched; one that succeeds makes the link (replacing an existing name)
 * to the restored file. */
static void test_failed_restore_leaves_no_link(void **state)
{
    char *dir = temp_dir(), target[4200], link[4200], root_path[4200];
    const char *expected[] = { "target", "root", NULL }, *in_root[] = { "existing", NULL };
    const char *in_root_after[] = { "existing", "link", NULL };
    struct blob b = { NULL, 0 };
    struct stat st_target, st_link;

    snprintf(target, sizeof(target), "%s/target", dir);
    snprintf(root_path, sizeof(root_path), "%s/root", dir);
    snprintf(link, sizeof(link), "%s/root/link", dir);
    assert_int_equal(mkdir(root_path, 0755), 0);
    write_file(target, "old contents");
    snprintf(link, sizeof(link), "%s/root/existing", dir);
    write_file(link, "someone else's file");

    /* DATA, LINK, then a stream cut short */
    append(&b, WB_BACKUP_DATA, 0, NULL, "new contents", 12);
    append_link(&b, "C:\\link");
    append(&b, WB_BACKUP_DATA, 0, NULL, "x", 1);
    b.size -= 1;
    assert_int_equal(restore(target, &b, 0, root_path), WB_ERROR_HANDLE_EOF);
    assert_file_is(target, "old contents");
    assert_int_equal(other_entries(root_path, in_root), 0);
    assert_int_equal(other_entries(dir, expected), 0);

    /* ... and with an invalid stream after the link */
    blob_clear(&b);
    append(&b, WB_BACKUP_DATA, 0, NULL, "new contents", 12);
    append_link(&b, "C:\\link");
    append(&b, WB_BACKUP_INVALID, 0, NULL, "x", 1);
    assert_int_equal(restore(target, &b, 0, root_path), WB_ERROR_INVALID_DATA);
    assert_file_is(target, "old contents");
    assert_int_equal(other_entries(root_path, in_root), 0);

    /* a complete stream: the link is made, to the restored file */
    b.size -= WB_STREAM_HEADER_SIZE + 1;
    assert_int_equal(restore(target, &b, 0, root_path), WB_OK);
    assert_file_is(target, "new contents");
    snprintf(link, sizeof(link), "%s/root/link", dir);
    assert_file_is(link, "new contents");
    assert_int_equal(stat(target, &st_target), 0);
    assert_int_equal(stat(link, &st_link), 0);
    assert_int_equal(st_target.st_ino, st_link.st_ino);
    assert_int_equal(other_entries(root_path, in_root_after), 0);

    /* a link name that is a directory cannot be replaced: refused before the
     * restore commits, so the target keeps its contents and the directory
     * stays */
    {
        char sub[4300];
        snprintf(sub, sizeof(sub), "%s/root/adir", dir);
        assert_int_equal(mkdir(sub, 0755), 0);
        blob_clear(&b);
        append(&b, WB_BACKUP_DATA, 0, NULL, "fourth", 6);
        append_link(&b, "C:\\adir");
        assert_int_not_equal(restore(target, &b, 0, root_path), WB_OK);
        assert_file_is(target, "new contents");
        assert_int_equal(stat(sub, &st_link), 0);
        assert_true(S_ISDIR(st_link.st_mode));
        assert_int_equal(rmdir(sub), 0);
    }

    /* an existing name is replaced (the KB CreateHardLink sample's promise) */
    blob_clear(&b);
    append(&b, WB_BACKUP_DATA, 0, NULL, "third", 5);
    append_link(&b, "C:\\existing");
    assert_int_equal(restore(target, &b, 0, root_path), WB_OK);
    snprintf(link, sizeof(link), "%s/root/existing", dir);
    assert_file_is(link, "third");
    assert_int_equal(other_entries(root_path, in_root_after), 0);

    /* without a link root a stream may not place names: refused, nothing changes */
    assert_int_equal(restore(target, &b, 0, NULL), WB_ERROR_PRIVILEGE_NOT_HELD);
    assert_file_is(target, "third");
    assert_int_equal(other_entries(dir, expected), 0);

    free(b.data);
    testutil_rmtree(dir);
}

/* Names up to NAME_MAX restore: the temporary name must fit too. */
static void test_long_names(void **state)
{
    char *dir = temp_dir(), path[4500], name[300];
    struct blob b = { NULL, 0 };
    size_t len;

    append(&b, WB_BACKUP_DATA, 0, NULL, "data", 4);
    for (len = 240; len <= 256; len++)
    {
        memset(name, 'n', len);
        name[len] = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (len <= 255)
        {
            assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
            assert_file_is(path, "data");
            /* and over the existing file */
            assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
            assert_int_equal(unlink(path), 0);
        }
        else assert_int_equal(restore(path, &b, 0, NULL), WB_ERROR_FILENAME_EXCED_RANGE);
    }
    /* a multi-byte name of 255 bytes: the kept prefix is cut on a character */
    {
        static const char e_acute[] = "\xc3\xa9";
        for (len = 0; len + 2 <= 254; len += 2) memcpy(name + len, e_acute, 2);
        name[len++] = 'x';
        name[len] = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
        assert_file_is(path, "data");
    }
    free(b.data);
    testutil_rmtree(dir);
}

/* Over an existing file with one name: replaced atomically (a new inode),
 * keeping its owner, group, mode and ACL unless the stream's descriptor
 * replaces them; xattrs the stream does not carry go. */
static void test_replace_keeps_security(void **state)
{
    char *dir = temp_dir(), path[4200], acl[256];
    struct blob b = { NULL, 0 };
    struct stat before, after;
    int root = geteuid() == 0;
    ssize_t acl_size;
    char cmd[4400];

    snprintf(path, sizeof(path), "%s/file", dir);
    write_file(path, "old");
    snprintf(cmd, sizeof(cmd), "setfacl -m u:12346:r '%s' 2>/dev/null", path);
    if (system(cmd)) print_message("no setfacl or no ACL support; the ACL part is not checked\n");
    if (root) assert_int_equal(chown(path, 12345, 12345), 0);
    assert_int_equal(chmod(path, 0640), 0);    /* also sets the ACL's mask entry */
    acl_size = lgetxattr(path, "system.posix_acl_access", acl, sizeof(acl));
    assert_int_equal(setxattr(path, "user.stale", "1", 1, 0), 0);
    assert_int_equal(stat(path, &before), 0);

    append(&b, WB_BACKUP_DATA, 0, NULL, "new", 3);
    append_ea(&b, "kept", "yes");
    assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
    assert_file_is(path, "new");
    assert_int_equal(stat(path, &after), 0);
    assert_int_not_equal(after.st_ino, before.st_ino);     /* replaced, not rewritten */
    assert_int_equal(after.st_uid, before.st_uid);
    assert_int_equal(after.st_gid, before.st_gid);
    assert_int_equal(after.st_mode & 07777, 0640);
    if (acl_size > 0)
    {
        char got[256];
        assert_int_equal(lgetxattr(path, "system.posix_acl_access", got, sizeof(got)), acl_size);
        assert_memory_equal(got, acl, acl_size);
    }
    assert_int_equal(lgetxattr(path, "user.stale", NULL, 0), -1);
    assert_int_equal(lgetxattr(path, "user.kept", NULL, 0), 3);

    /* a read-only file is replaced too, and stays read-only */
    assert_int_equal(chmod(path, 0444), 0);
    assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_mode & 07777, 0444);
    assert_int_equal(lgetxattr(path, "user.kept", NULL, 0), 3);

    free(b.data);
    testutil_rmtree(dir);
}

/* Over a file with a second hard link: rewritten in place, so both names
 * see the new contents and keep owner and mode; a malformed stream leaves
 * it untouched. */
static void test_hard_linked_target_in_place(void **state)
{
    char *dir = temp_dir(), path[4200], other[4200];
    struct blob b = { NULL, 0 };
    struct stat before, after;
    int root = geteuid() == 0;

    snprintf(path, sizeof(path), "%s/file", dir);
    snprintf(other, sizeof(other), "%s/other-name", dir);
    write_file(path, "old contents, longer than the new ones");
    assert_int_equal(link(path, other), 0);
    if (root) assert_int_equal(chown(path, 12345, 12345), 0);
    assert_int_equal(chmod(path, 0660), 0);
    assert_int_equal(setxattr(path, "user.stale", "1", 1, 0), 0);
    assert_int_equal(stat(path, &before), 0);

    /* malformed: nothing changes */
    append(&b, WB_BACKUP_DATA, 0, NULL, "new", 3);
    append(&b, WB_BACKUP_INVALID, 0, NULL, NULL, 0);
    assert_int_equal(restore(path, &b, 0, NULL), WB_ERROR_INVALID_DATA);
    assert_file_is(other, "old contents, longer than the new ones");
    assert_int_equal(lgetxattr(path, "user.stale", NULL, 0), 1);

    b.size -= WB_STREAM_HEADER_SIZE;
    append_ea(&b, "kept", "yes");
    assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_ino, before.st_ino);
    assert_int_equal(after.st_nlink, 2);
    assert_int_equal(after.st_uid, before.st_uid);
    assert_int_equal(after.st_mode & 07777, 0660);
    assert_file_is(other, "new");
    assert_int_equal(lgetxattr(other, "user.stale", NULL, 0), -1);
    assert_int_equal(lgetxattr(other, "user.kept", NULL, 0), 3);

    /* an empty stream: the file becomes empty, still one file */
    blob_clear(&b);
    assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
    assert_int_equal(stat(other, &after), 0);
    assert_int_equal(after.st_size, 0);
    assert_int_equal(after.st_ino, before.st_ino);
    assert_int_equal(lgetxattr(other, "user.kept", NULL, 0), -1);

    testutil_rmtree(dir);
}

/* As an unprivileged user, restoring into a directory it may not write is
 * EACCES, which is ERROR_ACCESS_DENIED (5): CI runs as root, so the mapping
 * is only seen from a child that dropped its privileges. */
static void test_eacces_as_unprivileged_user(void **state)
{
    char *dir = temp_dir(), path[4200];
    struct blob b = { NULL, 0 };

    if (geteuid() != 0)
    {
        print_message("not root: cannot switch to another user\n");
        testutil_rmtree(dir);
        skip();
    }
    assert_int_equal(chmod(dir, 0755), 0);     /* others may enter, not write */
    snprintf(path, sizeof(path), "%s/file", dir);
    append(&b, WB_BACKUP_DATA, 0, NULL, "data", 4);
    assert_int_equal(restore_as_nobody(path, &b, 0), WB_ERROR_ACCESS_DENIED);
    assert_int_equal(access(path, F_OK), -1);

    /* Another user's file it may write, in a directory it may write: a new
     * file would be its own, so the file is rewritten in place and keeps
     * its owner. */
    assert_int_equal(chmod(dir, 0777), 0);
    write_file(path, "someone else's");
    assert_int_equal(chown(path, 12345, 12345), 0);
    assert_int_equal(chmod(path, 0666), 0);
    assert_int_equal(restore_as_nobody(path, &b, 0), WB_OK);
    assert_file_is(path, "data");
    {
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 12345);
        assert_int_equal(st.st_mode & 07777, 0666);
    }
    free(b.data);
    testutil_rmtree(dir);
}

struct slow_restore
{
    const char *path;
    int fd;
    uint32_t status;
};

static void *restore_thread(void *arg)
{
    struct slow_restore *r = arg;
    r->status = wb_restore_path(r->path, 0, NULL, r->fd);
    return NULL;
}

/* While a restore runs, its temporary file holds the new contents: nobody
 * else may read it (0600), whatever the final mode; at the end a new file
 * gets 0666 less the umask, an existing one its old mode, and its DOS
 * attributes (which the stream does not carry) stay. */
static void test_temporary_file_is_private(void **state)
{
    char *dir = temp_dir(), path[4200], temp[4300];
    struct blob b = { NULL, 0 };
    struct slow_restore r;
    pthread_t thread;
    struct stat st;
    int pipefd[2], found = 0, tries;
    mode_t old_umask;

    snprintf(path, sizeof(path), "%s/secret", dir);
    append(&b, WB_BACKUP_DATA, 0, NULL, "new secret contents", 19);
    assert_int_equal(pipe(pipefd), 0);
    assert_int_equal(write(pipefd[1], b.data, WB_STREAM_HEADER_SIZE + 5), WB_STREAM_HEADER_SIZE + 5);
    r.path = path;
    r.fd = pipefd[0];
    assert_int_equal(pthread_create(&thread, NULL, restore_thread, &r), 0);
    for (tries = 0; tries < 500 && !found; tries++)
    {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (!strncmp(e->d_name, ".secret.wb", 10))
            {
                snprintf(temp, sizeof(temp), "%s/%s", dir, e->d_name);
                found = !stat(temp, &st);
            }
        if (d) closedir(d);
        if (!found) usleep(10000);
    }
    assert_true(found);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(write(pipefd[1], b.data + WB_STREAM_HEADER_SIZE + 5, b.size - WB_STREAM_HEADER_SIZE - 5),
                     (ssize_t)(b.size - WB_STREAM_HEADER_SIZE - 5));
    close(pipefd[1]);
    assert_int_equal(pthread_join(thread, NULL), 0);
    close(pipefd[0]);
    assert_int_equal(r.status, WB_OK);
    old_umask = umask(022);
    umask(old_umask);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0666 & ~old_umask);

    /* over the existing file: its mode and DOS attributes stay */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(setxattr(path, "user.DOSATTRIB", "0x22", 4, 0), 0);
    assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(lgetxattr(path, "user.DOSATTRIB", temp, sizeof(temp)), 4);
    assert_memory_equal(temp, "0x22", 4);
    free(b.data);
    testutil_rmtree(dir);
}

/* An ordinary user restores, with its security descriptor, a file that
 * belonged to root with mode 0600, over its own 0644 copy: the owner cannot
 * be given, so the descriptor is stored, and the mode is the descriptor's,
 * not the old file's. */
static void test_security_mode_without_chown(void **state)
{
    char *dir = temp_dir(), path[4200];
    struct blob b = { NULL, 0 };
    uint8_t *sd;
    size_t sd_size;
    struct stat st;

    if (geteuid() != 0)
    {
        print_message("not root: cannot switch to another user\n");
        testutil_rmtree(dir);
        skip();
    }
    assert_int_equal(wb_sd_from_posix(0, 0, 0600, 0, NULL, 0, &sd, &sd_size), WB_OK);
    append(&b, WB_BACKUP_SECURITY_DATA, WB_STREAM_CONTAINS_SECURITY, NULL, sd, sd_size);
    append(&b, WB_BACKUP_DATA, 0, NULL, "root's", 6);
    assert_int_equal(chmod(dir, 0777), 0);
    snprintf(path, sizeof(path), "%s/file", dir);
    write_file(path, "mine");
    assert_int_equal(chown(path, 65534, 65534), 0);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(restore_as_nobody(path, &b, WB_SECURITY), WB_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, 65534);
    assert_true(lgetxattr(path, "user.wine.sd", NULL, 0) == (ssize_t)sd_size + 2);
    free(sd);
    free(b.data);
    testutil_rmtree(dir);
}

/* A BACKUP_LINK onto an existing directory fails before the destination
 * changes (the check comes when the link is staged, before the rename). */
static void test_link_onto_directory_changes_nothing(void **state)
{
    char *dir = temp_dir(), target[4200], root[4200];
    struct blob b = { NULL, 0 };

    snprintf(target, sizeof(target), "%s/target", dir);
    snprintf(root, sizeof(root), "%s/root", dir);
    write_file(target, "old");
    assert_int_equal(mkdir(root, 0755), 0);
    snprintf(root, sizeof(root), "%s/root/adir", dir);
    assert_int_equal(mkdir(root, 0755), 0);
    snprintf(root, sizeof(root), "%s/root", dir);
    append(&b, WB_BACKUP_DATA, 0, NULL, "new", 3);
    append_link(&b, "C:\\adir");
    assert_int_equal(restore(target, &b, 0, root), WB_ERROR_ACCESS_DENIED);
    assert_file_is(target, "old");
    free(b.data);
    testutil_rmtree(dir);
}

/* The name a BACKUP_LINK stream gave may become a directory after the
 * stream was read and before the restore commits (another process made
 * it): staging checks the name again and refuses, leaving no temporary
 * link behind, so the rename onto a directory is never tried after the
 * file itself changed. */
static void test_link_name_becomes_directory_before_staging(void **state)
{
    char *dir = temp_dir(), file[4200], root[4200], adir[4300];
    struct wb_posix_sink_options options;
    struct wb_posix_sink *sink = NULL;
    struct wb_decoder *decoder;
    struct blob b = { NULL, 0 };
    int fd;

    snprintf(file, sizeof(file), "%s/file", dir);
    snprintf(root, sizeof(root), "%s/root", dir);
    snprintf(adir, sizeof(adir), "%s/root/adir", dir);
    assert_int_equal(mkdir(root, 0755), 0);
    assert_true((fd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0644)) >= 0);
    memset(&options, 0, sizeof(options));
    options.link_root = root;
    options.link_mode = WB_POSIX_LINK_DEFERRED;
    assert_int_equal(wb_posix_sink_open(fd, 0, &options, &sink), WB_OK);
    assert_non_null(decoder = wb_decoder_new(&wb_posix_sink_ops, sink, 0));
    append_link(&b, "C:\\adir");
    /* the name is free while the stream is read: recorded */
    assert_int_equal(wb_decoder_write(decoder, b.data, b.size), WB_OK);
    assert_int_equal(wb_posix_sink_finish(sink), WB_OK);
    assert_int_equal(mkdir(adir, 0755), 0);
    assert_int_equal(wb_posix_sink_stage_links(sink, fd), WB_ERROR_ACCESS_DENIED);
    assert_int_equal(other_entries(root, (const char *[]){ "adir", NULL }), 0);
    wb_decoder_free(decoder);
    wb_posix_sink_close(sink);
    close(fd);
    free(b.data);
    testutil_rmtree(dir);
}

/* A directory is restored in place, but only after the whole stream was
 * checked: a stream cut short changes none of its xattrs. */
static void test_directory_restore_is_checked_first(void **state)
{
    char *dir = temp_dir(), path[4200], value[16];
    struct blob b = { NULL, 0 };

    snprintf(path, sizeof(path), "%s/adir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(setxattr(path, "user.keep", "orig", 4, 0), 0);
    append_ea(&b, "keep", "CHANGED");
    append(&b, WB_BACKUP_ALTERNATE_DATA, 0, ":s:$DATA", "xyz", 3);
    b.size -= 1;
    assert_int_equal(restore(path, &b, 0, NULL), WB_ERROR_HANDLE_EOF);
    assert_int_equal(lgetxattr(path, "user.keep", value, sizeof(value)), 4);
    assert_memory_equal(value, "orig", 4);
    assert_int_equal(lgetxattr(path, "user.DosStream.s:$DATA", NULL, 0), -1);
    /* complete: applied */
    b.size += 1;
    assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
    assert_int_equal(lgetxattr(path, "user.keep", value, sizeof(value)), 7);
    assert_memory_equal(value, "CHANGED", 7);
    assert_int_equal(other_entries(dir, (const char *[]){ "adir", NULL }), 0);
    free(b.data);
    testutil_rmtree(dir);
}

/* Restoring over a hard-linked file on a nearly full file system: the
 * checked copy's space goes back first and the growth is reserved before
 * the first byte changes, so what fits is restored and what does not leaves
 * the file as it was.  Needs root (a 4 MiB tmpfs). */
static void test_in_place_on_a_full_disk(void **state)
{
    char *dir = temp_dir(), mnt[4200], path[4300], other[4300];
    struct blob b = { NULL, 0 };
    static uint8_t big[3 << 20];
    struct stat st;

    snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
    mount_small_tmpfs(dir, mnt);
    snprintf(path, sizeof(path), "%s/file", mnt);
    snprintf(other, sizeof(other), "%s/other", mnt);
    memset(big, 'o', 1 << 20);
    {
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, big, 1 << 20), 1 << 20);
        close(fd);
    }
    assert_int_equal(link(path, other), 0);

    /* 1.4 MiB: the copy (1.4) and the stream's bytes (1.4) fit beside the
     * 1 MiB file, and after the copy's space goes back so does the growth */
    memset(big, 'n', sizeof(big));
    append(&b, WB_BACKUP_DATA, 0, NULL, big, 1400 << 10);
    assert_int_equal(restore(path, &b, 0, NULL), WB_OK);
    assert_int_equal(stat(other, &st), 0);
    assert_int_equal(st.st_size, 1400 << 10);
    assert_int_equal(st.st_nlink, 2);

    /* 2.5 MiB: the stream's bytes and the copy do not both fit, so the
     * file stays as it was */
    blob_clear(&b);
    append(&b, WB_BACKUP_DATA, 0, NULL, big, 2560 << 10);
    assert_int_equal(restore(path, &b, 0, NULL), WB_ERROR_DISK_FULL);
    assert_int_equal(stat(other, &st), 0);
    assert_int_equal(st.st_size, 1400 << 10);
    {
        char first;
        int fd = open(other, O_RDONLY | O_CLOEXEC);
        assert_int_equal(read(fd, &first, 1), 1);
        assert_int_equal(first, 'n');
        close(fd);
    }
    assert_int_equal(umount(mnt), 0);
    free(b.data);
    testutil_rmtree(dir);
}

/* A user may restore over its own file in a directory it may not write
 * (where no temporary file can go): in place, the check made in $TMPDIR. */
static void test_own_file_in_a_read_only_directory(void **state)
{
    char *dir = temp_dir(), sub[4200], path[4300];
    struct blob b = { NULL, 0 };

    if (geteuid() != 0)
    {
        print_message("not root: cannot switch to another user\n");
        testutil_rmtree(dir);
        skip();
    }
    assert_int_equal(chmod(dir, 0755), 0);
    snprintf(sub, sizeof(sub), "%s/ro", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof(path), "%s/file", sub);
    write_file(path, "old contents");
    assert_int_equal(chown(path, 65534, 65534), 0);
    append(&b, WB_BACKUP_DATA, 0, NULL, "new", 3);
    assert_int_equal(restore_as_nobody(path, &b, 0), WB_OK);
    assert_file_is(path, "new");
    free(b.data);
    testutil_rmtree(dir);
}

/* The restorer may not write the destination's directory, so the checked
 * copy and the stream's bytes go to $TMPDIR, another file system: the
 * destination's own disk was never asked for room.  The in-place pass
 * reserves the growth before the first byte changes, so a restore that does
 * not fit fails with ERROR_DISK_FULL and leaves the file as it was instead
 * of half overwritten.  Needs root (a 4 MiB tmpfs, another uid). */
static void test_in_place_from_elsewhere_on_a_full_disk(void **state)
{
    char *dir = temp_dir(), mnt[4200], path[4300], scratch[4200], *old_tmpdir;
    struct blob b = { NULL, 0 };
    size_t big_size = 5 << 20, i;
    uint8_t *big, *back;
    struct stat st;
    int fd;

    snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
    snprintf(scratch, sizeof(scratch), "%s/scratch", dir);
    mount_small_tmpfs(dir, mnt);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(mkdir(scratch, 0700), 0);
    assert_int_equal(chown(scratch, 65534, 65534), 0);
    snprintf(path, sizeof(path), "%s/file", mnt);
    assert_non_null(big = malloc(big_size));
    assert_non_null(back = malloc(big_size));
    memset(big, 'o', 1 << 20);
    assert_true((fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) >= 0);
    assert_int_equal(write(fd, big, 1 << 20), 1 << 20);
    assert_int_equal(fchown(fd, 65534, 65534), 0);
    close(fd);

    /* 5 MiB onto a 4 MiB file system: cannot fit */
    memset(big, 'n', big_size);
    append(&b, WB_BACKUP_DATA, 0, NULL, big, big_size);
    assert_non_null(old_tmpdir = strdup(getenv("TMPDIR")));
    setenv("TMPDIR", scratch, 1);
    assert_int_equal(restore_as_nobody(path, &b, 0), WB_ERROR_DISK_FULL);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 1 << 20);
    assert_true((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
    assert_int_equal(read(fd, back, 1 << 20), 1 << 20);
    close(fd);
    for (i = 0; i < (1 << 20) && back[i] == 'o'; i++) ;
    assert_int_equal(i, 1 << 20);

    /* 2 MiB fits: restored in place, same inode */
    b.size = 0;
    append(&b, WB_BACKUP_DATA, 0, NULL, big, 2 << 20);
    assert_int_equal(restore_as_nobody(path, &b, 0), WB_OK);
    {
        struct stat after;
        assert_int_equal(stat(path, &after), 0);
        assert_int_equal(after.st_ino, st.st_ino);
        assert_int_equal(after.st_size, 2 << 20);
    }
    setenv("TMPDIR", old_tmpdir, 1);
    free(old_tmpdir);
    assert_int_equal(umount(mnt), 0);
    free(big);
    free(back);
    free(b.data);
    testutil_rmtree(dir);
}

/* wb_copy_path: data (moved in the kernel), holes, named streams and EAs
 * arrive as they are; a sparse file stays sparse. */
static void test_copy_path(void **state)
{
    char *dir = temp_dir(), src[4200], dst[4200], a[65536], b[65536];
    static char chunk[65536];
    struct stat st;
    unsigned int skipped = 99;
    int in, out;
    off_t pos;

    snprintf(src, sizeof(src), "%s/src", dir);
    snprintf(dst, sizeof(dst), "%s/dst", dir);
    memset(chunk, 'c', sizeof(chunk));
    assert_true((in = open(src, O_CREAT | O_RDWR | O_CLOEXEC, 0644)) >= 0);
    assert_int_equal(pwrite(in, chunk, sizeof(chunk), 0), sizeof(chunk));
    assert_int_equal(pwrite(in, chunk, 1000, 4 << 20), 1000);
    assert_int_equal(fsetxattr(in, "user.DosStream.s:$DATA", "stream\0", 7, 0), 0);
    assert_int_equal(fsetxattr(in, "user.note", "ea", 2, 0), 0);
    assert_int_equal(fsync(in), 0);
    assert_int_equal(wb_copy_path_report(src, dst, 0, &skipped), WB_OK);
    assert_int_equal(skipped, 0);
    assert_true((out = open(dst, O_RDONLY | O_CLOEXEC)) >= 0);
    assert_int_equal(fstat(out, &st), 0);
    assert_int_equal(st.st_size, (4 << 20) + 1000);
    for (pos = 0; pos < st.st_size; pos += sizeof(a))
    {
        ssize_t ra = pread(in, a, sizeof(a), pos), rb = pread(out, b, sizeof(b), pos);
        assert_int_equal(ra, rb);
        assert_memory_equal(a, b, ra);
    }
    if (lseek(in, 0, SEEK_HOLE) == sizeof(chunk))
    {
        assert_int_equal(lseek(out, 0, SEEK_HOLE), sizeof(chunk));
        assert_true(st.st_blocks * 512 < 1 << 20);
    }
    assert_int_equal(fgetxattr(out, "user.note", a, sizeof(a)), 2);
    assert_int_equal(fgetxattr(out, "user.DosStream.s:$DATA", a, sizeof(a)), 7);
    close(in);
    close(out);
    testutil_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_failed_restore_leaves_no_link),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_replace_keeps_security),
        cmocka_unit_test(test_hard_linked_target_in_place),
        cmocka_unit_test(test_eacces_as_unprivileged_user),
        cmocka_unit_test(test_temporary_file_is_private),
        cmocka_unit_test(test_security_mode_without_chown),
        cmocka_unit_test(test_link_onto_directory_changes_nothing),
        cmocka_unit_test(test_link_name_becomes_directory_before_staging),
        cmocka_unit_test(test_directory_restore_is_checked_first),
        cmocka_unit_test(test_in_place_on_a_full_disk),
        cmocka_unit_test(test_own_file_in_a_read_only_directory),
        cmocka_unit_test(test_in_place_from_elsewhere_on_a_full_disk),
        cmocka_unit_test(test_copy_path),
    };
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) setenv("TMPDIR", "/var/tmp", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
