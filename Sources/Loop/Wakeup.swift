#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem
import Synchronization

/// Wakes the loop thread from its selector wait when another thread gives it work: an eventfd
/// that the loop's epoll instance watches. Only the first signal after the loop announced a
/// wait writes it — it saves a syscall per cross-thread enqueue on a busy loop, which never
/// waits.
public final class Wakeup: Sendable {
    /// The eventfd (non-blocking, close-on-exec).
    let fd: Int32
    private let loopIsIdle = Atomic<Bool>(false)
    /// Guards the fd against a signal racing with ``close()``: a writer that saw the loop idle
    /// must not write into a descriptor number that was closed (and maybe reused) meanwhile.
    private let closed = Mutex<Bool>(false)

    init() throws(SocketError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw SocketError.system(call: "eventfd", errno: errno) }
        self.fd = fd
    }

    deinit { close() }

    /// Called from any thread after it queued work for the loop.
    func signal() {
        guard loopIsIdle.exchange(false, ordering: .sequentiallyConsistent) else { return }
        closed.withLock { closed in
            guard !closed else { return }
            var one: UInt64 = 1
            _ = write(fd, &one, 8)
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

    /// The wait is over (whatever ended it).
    func doneWaiting() {
        loopIsIdle.store(false, ordering: .sequentiallyConsistent)
    }

    /// Empties the eventfd after the selector reported it readable.
    func drain() {
        var value: UInt64 = 0
        _ = read(fd, &value, 8)
    }

    /// Closes the eventfd; later signals do nothing. Idempotent.
    func close() {
        closed.withLock { closed in
            guard !closed else { return }
            closed = true
            _ = Glibc.close(fd)
        }
    }
}
