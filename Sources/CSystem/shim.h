#ifndef DRILL_CSYSTEM_SHIM_H
#define DRILL_CSYSTEM_SHIM_H
// No _GNU_SOURCE here: defining it changes system types (fd_set's field names) for this module only, and clang then
// refuses to merge them with the same types seen through other C modules (libcurl). The three GNU functions used are
// declared by hand instead, with glibc's signatures.
#include <fcntl.h>
#include <unistd.h>
#include <spawn.h>
#include <signal.h>
#include <sys/wait.h>

extern int pipe2(int pipefd[2], int flags);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa, const char *path);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa, int from);

/// pipe2(O_CLOEXEC).
static inline int drill_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/// GNU extensions of posix_spawn.
static inline int drill_spawn_addchdir(posix_spawn_file_actions_t *fa, const char *dir) {
    return posix_spawn_file_actions_addchdir_np(fa, dir);
}
static inline int drill_spawn_addclosefrom(posix_spawn_file_actions_t *fa, int from) {
    return posix_spawn_file_actions_addclosefrom_np(fa, from);
}

/// POSIX_SPAWN_SETSID (a GNU flag of glibc's posix_spawn, 2.26 and later): the child calls setsid().
static inline int drill_spawn_setsid_flag(void) { return 0x80; }

/// wait status decoding (macros are not imported into Swift).
static inline int drill_wifexited(int s) { return WIFEXITED(s); }
static inline int drill_wexitstatus(int s) { return WEXITSTATUS(s); }
static inline int drill_wifsignaled(int s) { return WIFSIGNALED(s); }
static inline int drill_wtermsig(int s) { return WTERMSIG(s); }
#endif
