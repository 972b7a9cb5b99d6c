#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem
import Trace

/// How long the selector may block, computed from the loop's state by ``compute(hasReadyWork:stopping:nextDeadline:now:clock:)``.
enum PollTimeout: Equatable {
    /// Look and return at once (something is ready, or the loop is stopping).
    case now
    /// Wait at most this many milliseconds (the next deadline, rounded up).
    case milliseconds(Int32)
    /// Wait until a socket or another thread wakes the loop: no timer is pending.
    case block

    /// `BaseEventLoop._run_once`'s rule: 0 when anything is ready or the loop is stopping; else
    /// up to the next deadline; else block. Milliseconds are rounded up as `EpollSelector`
    /// rounds, so a timer is never found not yet due after the wait (and schedules keep
    /// matching CPython's). `clock` scales loop time to wall time (`--speed`). Pure.
    static func compute(hasReadyWork: Bool, stopping: Bool, nextDeadline: Int64?, now: Int64, clock: any LoopClock) -> PollTimeout {
        if hasReadyWork || stopping { return .now }
        guard let nextDeadline else { return .block }
        let wall = clock.wallNanoseconds(max(0, nextDeadline - now))
        if wall <= 0 { return .now }
        return .milliseconds(Int32(clamping: (wall + 999_999) / 1_000_000))
    }

    /// The argument `epoll_wait` takes.
    var epollMilliseconds: Int32 {
        switch self {
        case .now: 0
        case .milliseconds(let millis): millis
        case .block: -1
        }
    }
}

/// The loop's epoll instance (level-triggered, as SwiftNIO's `SelectorEpoll` and asyncio's
/// `EpollSelector`) and the eventfd that other threads use to wake it.
///
/// Deliberately not thread-safe: only the loop thread uses it, except `wakeup.signal()`.
final class Selector {
    /// What a registration waits for.
    struct Interest: OptionSet, Hashable {
        let rawValue: UInt8
        static let read = Interest(rawValue: 1)
        static let write = Interest(rawValue: 2)
    }

    /// One ready fd from a poll.
    struct Event: Equatable {
        var fd: Int32
        var readiness: IOReadiness
    }

    let wakeup: Wakeup
    private var epollFD: Int32
    /// What each watched fd is registered for (the eventfd is not in here).
    private var interests: [Int32: Interest] = [:]
    /// Room for as many events as fds are watched (asyncio's `max_ev`), so that every ready fd
    /// is handled in the pass that found it ready.
    private var capacity = 64
    private var buffer: UnsafeMutablePointer<epoll_event>

    init() throws(SocketError) {
        wakeup = try Wakeup()
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SocketError.system(call: "epoll_create1", errno: errno) }
        buffer = .allocate(capacity: capacity)
        var event = epoll_event()
        event.events = loopviz_epollin()
        event.data.fd = wakeup.fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeup.fd, &event) == 0 else {
            throw SocketError.system(call: "epoll_ctl", errno: errno)
        }
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// The selector's own descriptors (the epoll fd, the eventfd), read before a run: tests
    /// check that closing the loop released them. The epoll fd reads -1 once closed.
    var ownDescriptors: [Int32] { [epollFD, wakeup.fd] }

    /// How many fds are watched (the eventfd aside).
    var watchedCount: Int { interests.count }

    /// Sets what `fd` is watched for: adds, modifies or (for an empty interest) removes it.
    /// - Throws: the `epoll_ctl` failure (a closed fd, say).
    func setInterest(_ fd: Int32, _ interest: Interest) throws(SocketError) {
        let old = interests[fd] ?? []
        guard old != interest, epollFD >= 0 else { return }
        var event = epoll_event()
        if interest.contains(.read) { event.events |= loopviz_epollin() }
        if interest.contains(.write) { event.events |= loopviz_epollout() }
        event.data.fd = fd
        let operation = old.isEmpty ? EPOLL_CTL_ADD : (interest.isEmpty ? EPOLL_CTL_DEL : EPOLL_CTL_MOD)
        if epoll_ctl(epollFD, operation, fd, &event) != 0 {
            var code = errno
            // Our table and epoll's disagree when an fd was closed behind the loop's back (epoll
            // forgot it) and its number reused: add what we meant to modify, or the reverse.
            if operation == EPOLL_CTL_MOD && code == ENOENT && epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0
                || operation == EPOLL_CTL_ADD && code == EEXIST && epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0
                || operation == EPOLL_CTL_DEL && (code == ENOENT || code == EBADF) {
                interests[fd] = interest.isEmpty ? nil : interest
                return
            }
            code = errno
            interests[fd] = nil
            throw SocketError.system(call: "epoll_ctl", errno: code)
        }
        interests[fd] = interest.isEmpty ? nil : interest
    }

    /// The interest registered for `fd`.
    func interest(_ fd: Int32) -> Interest { interests[fd] ?? [] }

    /// Waits as long as `timeout` says; returns the ready fds in the kernel's order and whether
    /// another thread signalled the wake-up. EINTR counts as an empty wake.
    func poll(_ timeout: PollTimeout) -> (events: [Event], woken: Bool) {
        guard epollFD >= 0 else { return ([], false) }
        if interests.count + 1 > capacity {
            buffer.deallocate()
            while interests.count + 1 > capacity { capacity *= 2 }
            buffer = .allocate(capacity: capacity)
        }
        let count = epoll_wait(epollFD, buffer, Int32(capacity), timeout.epollMilliseconds)
        guard count > 0 else { return ([], false) }
        var events: [Event] = []
        events.reserveCapacity(Int(count))
        var woken = false
        for index in 0..<Int(count) {
            let event = buffer[index]
            let fd = event.data.fd
            if fd == wakeup.fd {
                wakeup.drain()
                woken = true
                continue
            }
            var readiness: IOReadiness = []
            if event.events & loopviz_epollin() != 0 { readiness.insert(.readable) }
            if event.events & loopviz_epollout() != 0 { readiness.insert(.writable) }
            if event.events & (loopviz_epollerr() | loopviz_epollhup()) != 0 { readiness.insert(.error) }
            events.append(Event(fd: fd, readiness: readiness))
        }
        return (events, woken)
    }

    /// Closes the epoll instance and the eventfd. Idempotent.
    func close() {
        guard epollFD >= 0 else { return }
        _ = Glibc.close(epollFD)
        epollFD = -1
        interests.removeAll()
        wakeup.close()
    }
}
