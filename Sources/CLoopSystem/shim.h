// The Linux system calls the loop needs that Glibc's Swift module does not export: epoll,
// eventfd, and the credentials of a Unix socket's peer (SO_PEERCRED). Header only: glibc has
// the symbols. Also malloc's own count of the bytes it has handed out (mallinfo2), which the
// bench's memory per task reads. No _GNU_SOURCE here: it would change struct definitions that Glibc's module
// also imports (fd_set), and the two would clash.
#ifndef LOOPVIZ_CLOOPSYSTEM_SHIM_H
#define LOOPVIZ_CLOOPSYSTEM_SHIM_H

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <malloc.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

// epoll's flags are enum constants of type EPOLL_EVENTS in Swift: plain values spare every
// caller the conversions.
static inline unsigned int loopviz_epollin(void) { return EPOLLIN; }
static inline unsigned int loopviz_epollout(void) { return EPOLLOUT; }
static inline unsigned int loopviz_epollerr(void) { return EPOLLERR; }
static inline unsigned int loopviz_epollhup(void) { return EPOLLHUP; }

// struct ucred, as <sys/socket.h> declares it under _GNU_SOURCE.
struct loopviz_ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

// SO_PEERCRED (asm-generic/socket.h), hidden without _GNU_SOURCE.
static inline int loopviz_so_peercred(void) { return 17; }

// Bytes malloc has handed out and not taken back, in every arena and in mmapped chunks: the heap
// a workload holds, without the pages malloc keeps for reuse that RSS counts too.
static inline size_t loopviz_malloc_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

// CPU affinity for the echo bench (client and server on different cores). glibc declares
// sched_setaffinity and the CPU_SET macros only under _GNU_SOURCE (see above), so these are the
// raw system calls on a plain bit mask: bit n of mask[n / 64] is CPU n. pid 0 is the calling
// thread. The set call returns 0 on success; the get call the mask's size in bytes; -1 and
// errno on failure.
static inline int loopviz_sched_setaffinity(pid_t pid, size_t bytes, const unsigned long *mask) {
    return (int)syscall(SYS_sched_setaffinity, pid, bytes, mask);
}
static inline int loopviz_sched_getaffinity(pid_t pid, size_t bytes, unsigned long *mask) {
    return (int)syscall(SYS_sched_getaffinity, pid, bytes, mask);
}

// How far bytes between two of the loop's own sockets have got (see LoopbackSettling.swift).
// Bytes in a connected socket's receive queue not yet read (FIONREAD); -1 on error.
static inline int loopviz_unread_bytes(int fd) {
    int count = 0;
    return ioctl(fd, FIONREAD, &count) == 0 ? count : -1;
}
// Bytes a TCP socket took from send() and has not yet handed to the network (SIOCOUTQNSD, in
// linux/sockios.h, which does not build beside glibc's headers); -1 on error.
static inline int loopviz_unsent_bytes(int fd) {
    int count = 0;
    return ioctl(fd, 0x894B, &count) == 0 ? count : -1;
}
// The kernel's struct tcp_info up to tcpi_snd_wnd (Linux 5.4): glibc's copy stops at
// tcpi_total_retrans, and linux/tcp.h's would clash with it. The fields after glibc's part are
// in linux/tcp.h's order; only snd_wnd is read.
struct loopviz_tcp_info {
    struct tcp_info base;
    unsigned long long pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
    unsigned int segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in, data_segs_out;
    unsigned long long delivery_rate, busy_time, rwnd_limited, sndbuf_limited;
    unsigned int delivered, delivered_ce;
    unsigned long long bytes_sent, bytes_retrans;
    unsigned int dsack_dups, reord_seen, rcv_ooopack, snd_wnd;
};

// A TCP listener's accept queue: the connections it has completed and not yet accepted, and
// its backlog (for a listening socket Linux reports them in tcpi_unacked and tcpi_sacked).
// The kernel drops a new SYN while the queue is longer than the backlog. 0 on success; -1 on
// error or when fd does not listen.
static inline int loopviz_accept_queue(int fd, int *queued, int *backlog) {
    struct tcp_info info;
    socklen_t length = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 || info.tcpi_state != TCP_LISTEN) return -1;
    *queued = (int)info.tcpi_unacked;
    *backlog = (int)info.tcpi_sacked;
    return 0;
}

// Whether a TCP socket's peer has room for one more byte beyond what is in flight, so that a FIN
// sent now goes out at once (else it waits until the peer reads): the peer's window less the
// bytes sent and not yet acknowledged (SIOCOUTQ less SIOCOUTQNSD). 1 or 0; -1 when the kernel
// does not say.
static inline int loopviz_peer_has_room(int fd) {
    struct loopviz_tcp_info info;
    socklen_t length = sizeof(info);
    int queued = 0, unsent = 0;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    if (length < sizeof(info)) return -1;
    if (ioctl(fd, TIOCOUTQ, &queued) != 0 || ioctl(fd, 0x894B, &unsent) != 0) return -1;
    return (long long)info.snd_wnd - (queued - unsent) > 0;
}

// poll()'s POLLRDHUP (the peer shut down its sending side), hidden without _GNU_SOURCE.
static inline short loopviz_pollrdhup(void) { return 0x2000; }

// The CPU's time-stamp counter, for the loop's step clock (see StepClock.swift): about 10 ns a
// read here against 23 ns for the vDSO's clock_gettime, which orders the read with a fence and
// converts it. 0 where there is no such counter (then the step clock is not used).
static inline unsigned long long loopviz_ticks(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}
static inline int loopviz_has_ticks(void) {
#if defined(__x86_64__)
    return 1;
#else
    return 0;
#endif
}

#endif
