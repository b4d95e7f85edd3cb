/*
 * Per-file overhead driver for bench/run.sh, case 2: wb_backup_path over
 * every path listed in LISTFILE (one per line), all streams appended to
 * OUTFILE, in one process so that no fork is timed.
 *
 *   perfile LISTFILE OUTFILE
 *
 * Prints "files=N seconds=S bytes=B".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <winbackup/winbackup.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long files = 0;
    struct stat st;
    double t0, t1;
    FILE *list;
    int out;

    if (argc != 3)
    {
        fprintf(stderr, "usage: perfile LISTFILE OUTFILE\n");
        return 2;
    }
    if (!(list = fopen(argv[1], "r")))
    {
        perror(argv[1]);
        return 1;
    }
    if ((out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
    {
        perror(argv[2]);
        return 1;
    }
    /* the list is read inside the timed loop, as tar reads its arguments */
    t0 = now();
    while ((len = getline(&line, &cap, list)) > 0)
    {
        uint32_t status;
        if (line[len - 1] == '\n') line[--len] = 0;
        if (!len) continue;
        if ((status = wb_backup_path(line, 0, out)))
        {
            fprintf(stderr, "perfile: %s: error %u\n", line, status);
            return 1;
        }
        files++;
    }
    t1 = now();
    if (fstat(out, &st)) return 1;
    printf("files=%ld seconds=%.6f bytes=%lld\n", files, t1 - t0, (long long)st.st_size);
    fsync(out);   /* untimed, as for tar below */
    close(out);
    free(line);
    fclose(list);
    return 0;
}
