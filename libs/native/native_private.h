/*
 * Shared between the whole-file operations of libs/native (not installed):
 * the restore job of restore.c, which wb_restore_path and wb_copy_path
 * both drive.
 */
#ifndef WINBACKUP_NATIVE_PRIVATE_H
#define WINBACKUP_NATIVE_PRIVATE_H

#include <stdint.h>
#include <sys/stat.h>
#include "winbackup/winbackup.h"

enum restore_mode { RESTORE_REPLACE, RESTORE_IN_PLACE };

/* One restore onto one path; see restore.c for the modes. */
struct restore_job
{
    unsigned int flags;
    enum restore_mode mode;
    char *final_path;
    char *link_root;
    char *temp_path;            /* what the stream is decoded into first */
    int temp_is_dir;
    int temp_elsewhere;         /* in the scratch directory: the destination's refused it */
    int fd;                     /* the temporary copy */
    int target_fd;              /* IN_PLACE: the destination */
    int target_is_dir;
    int raw_fd;                 /* IN_PLACE: an unnamed copy of the stream's bytes */
    int carry;                  /* REPLACE over a regular file: keep its security */
    struct stat target_st;      /* the regular file at the destination */
    struct wb_posix_sink *sink;
    struct wb_decoder *decoder;
};

uint32_t restore_job_open(struct restore_job *job, const char *path, unsigned int flags, const char *link_root);
uint32_t restore_job_write(struct restore_job *job, const uint8_t *buffer, size_t size);
/* Applies what is left and publishes the result; frees the job either way. */
uint32_t restore_job_commit(struct restore_job *job);
/* Undoes everything (temporary copy, staged links); frees the job. */
void restore_job_abort(struct restore_job *job);

/* The directory part of a path ("." when it has none); malloc()ed. */
char *wbn_parent_dir(const char *path);

#endif
