#ifndef DRILL_CSYSTEM_SHIM_H
#define DRILL_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>

/// pipe2(O_CLOEXEC): glibc declares it only under _GNU_SOURCE, which Swift's Glibc module does not set.
static inline int drill_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
#endif

#include <spawn.h>
#include <signal.h>

/// GNU extensions of posix_spawn, declared only under _GNU_SOURCE.
static inline int drill_spawn_addchdir(posix_spawn_file_actions_t *fa, const char *dir) {
    return posix_spawn_file_actions_addchdir_np(fa, dir);
}
static inline int drill_spawn_addclosefrom(posix_spawn_file_actions_t *fa, int from) {
    return posix_spawn_file_actions_addclosefrom_np(fa, from);
}
/// wait status decoding (macros are not imported into Swift).
static inline int drill_wifexited(int s) { return WIFEXITED(s); }
static inline int drill_wexitstatus(int s) { return WEXITSTATUS(s); }
static inline int drill_wifsignaled(int s) { return WIFSIGNALED(s); }
static inline int drill_wtermsig(int s) { return WTERMSIG(s); }
