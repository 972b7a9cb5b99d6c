#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Wakes the loop thread from its idle wait when another thread gives it work, through a
/// self-pipe (Glibc's module does not export eventfd). Only the first signal after the loop went idle writes the fd: it saves a syscall
/// per cross-thread enqueue on a busy loop.
public final class Wakeup: Sendable {
    private let readFD: Int32
    private let writeFD: Int32
    private let loopIsIdle = Atomic<Bool>(false)

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed: errno \(errno)")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Called from any thread after it queued work for the loop.
    func signal() {
        if loopIsIdle.exchange(false, ordering: .sequentiallyConsistent) {
            var one: UInt8 = 1
            _ = write(writeFD, &one, 1)
        }
    }

    /// Announces that the loop is about to wait; `hasWork` is checked after the announcement,
    /// so a signal racing with it is never lost. Returns false (do not wait) when work came in.
    func prepareToWait(hasWork: () -> Bool) -> Bool {
        loopIsIdle.store(true, ordering: .sequentiallyConsistent)
        if hasWork() {
            loopIsIdle.store(false, ordering: .sequentiallyConsistent)
            return false
        }
        return true
    }

    /// The loop decided not to wait after all (the virtual clock jumped instead).
    func cancelWait() {
        loopIsIdle.store(false, ordering: .sequentiallyConsistent)
    }

    /// Blocks until signalled or until the timeout passes (nil: no timeout). poll() counts in
    /// milliseconds: the timeout is rounded up, so a timer is never reported due early.
    func wait(timeoutNanoseconds: Int64?) {
        var pollFD = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        let millis = timeoutNanoseconds.map { Int32(clamping: ($0 + 999_999) / 1_000_000) } ?? -1
        _ = poll(&pollFD, 1, millis)
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buffer, buffer.count) > 0 {}
        loopIsIdle.store(false, ordering: .sequentiallyConsistent)
    }
}
