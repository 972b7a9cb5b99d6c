#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem

/// On a clock that does not flow (virtual time, or a frozen live clock), what one of the loop's
/// own sockets sends to another over loopback has landed before the loop goes on.
///
/// Why: on loopback the kernel usually delivers a send, an end of stream or a handshake inside
/// the system call that makes it, so the loop's next poll sees it, as CPython's does. A machine
/// busy with other network work defers that delivery to its softirq thread; the next poll then
/// misses it and a task runs a pass later than on CPython. CI saw exactly that: the echo
/// handler read its client's end of stream after `main` resumed instead of before. A loopback
/// device that delays every packet (a `tbf` qdisc in a network namespace) makes it happen every
/// time; `LoopbackSettlingTests` runs the echo program that way. On a flowing clock time is real
/// and nothing here runs.
///
/// Each wait reads a count the kernel keeps, so it ends as soon as the data is there; what the
/// counts cannot see (a peer whose receive window is full) is not waited for. Every wait gives up
/// after ``limitNanoseconds``: a case the counts get wrong costs time, never a hang.
enum LoopbackSettling {
    static let limitNanoseconds: Int64 = 200_000_000

    /// Bytes on their way from `sender` to `receiver`'s reader: not yet handed to the network by
    /// the sender, or in the receiver's queue. Bytes the kernel is still carrying between the two
    /// are in neither, which is what ``waitForBytes(from:to:onTheirWay:)`` waits out.
    static func bytesQueued(from sender: Socket, to receiver: Socket) -> Int? {
        let unsent = Int(loopviz_unsent_bytes(sender.fd))
        let unread = Int(loopviz_unread_bytes(receiver.fd))
        guard unsent >= 0, unread >= 0 else { return nil }
        return unsent + unread
    }

    /// Waits until `count` bytes are queued from `sender` to `receiver` (what was queued before
    /// a send plus what the send took).
    static func waitForBytes(from sender: Socket, to receiver: Socket, onTheirWay count: Int) {
        waitUntil(pollingFor: 0, on: receiver) {
            guard let queued = bytesQueued(from: sender, to: receiver) else { return true }
            return queued >= count
        }
    }

    /// Waits until `receiver` sees its peer's end of stream (or a reset): after a close or a
    /// half-close that sent everything before it.
    static func waitForEnd(at receiver: Socket) {
        waitUntil(pollingFor: loopviz_pollrdhup(), on: receiver) { false }
    }

    /// Waits until a connect to one of the loop's listeners is through: the client is writable
    /// and the listener has `count` connections waiting to be accepted.
    static func waitForConnection(_ client: Socket, listener: Socket, queued count: Int) {
        waitUntil(pollingFor: Int16(POLLOUT), on: client) { false }
        waitUntil(pollingFor: 0, on: listener) {
            loopviz_accept_queue_length(listener.fd) < 0 || loopviz_accept_queue_length(listener.fd) >= count
        }
    }

    /// Whether `socket`, one of the loop's listeners, takes connections sent to `address`.
    static func listens(_ socket: Socket, at address: SocketAddress) -> Bool {
        guard socket.isListening, let local = socket.localAddress, local.port == address.port else { return false }
        switch (local, address) {
        case (.ipv4(let host, _), .ipv4(let target, _)): return host == target || host == "0.0.0.0"
        case (.ipv6(let host, _), .ipv6(let target, _)): return host == target || host == "::"
        default: return false
        }
    }

    /// Until `done()` holds or `events` show up on `socket` (0: only `done()` counts), for at most
    /// ``limitNanoseconds``. Between checks it sleeps in `poll`, which also lets the softirq
    /// thread run when it shares this core.
    private static func waitUntil(pollingFor events: Int16, on socket: Socket, _ done: () -> Bool) {
        let start = RealClock.monotonicNanoseconds()
        while true {
            if done() { return }
            var entry = pollfd(fd: socket.fd, events: events, revents: 0)
            // Error and hang-up are always reported: with no events asked for, they end the wait.
            let result = poll(&entry, 1, events == 0 ? 0 : 1)
            if result > 0 { return }
            if result < 0 && errno != EINTR { return }
            if RealClock.monotonicNanoseconds() - start > limitNanoseconds { return }
            if events == 0 { usleep(20) }
        }
    }
}

extension Transport {
    /// The other end's socket when it is this loop's own and the clock does not flow: what this
    /// transport sends must reach it before the loop goes on. Nil otherwise.
    var settlingPeer: Socket? {
        guard !loop.clock.flows, let peer, !peer.socket.isClosed else { return nil }
        return peer.socket
    }

    /// `socket.send`, then, on a settling clock, a wait until the bytes are in the peer's queue.
    func sendSettled(_ bytes: UnsafeRawBufferPointer) throws(SocketError) -> Int {
        guard let receiver = settlingPeer, let before = LoopbackSettling.bytesQueued(from: socket, to: receiver) else {
            return try socket.send(bytes)
        }
        let sent = try socket.send(bytes)
        if sent > 0 { LoopbackSettling.waitForBytes(from: socket, to: receiver, onTheirWay: before + sent) }
        return sent
    }

    /// `closing`, a close or a half-close of the sending side, then, on a settling clock, a wait
    /// until the peer sees the end of the stream, unless data the peer has no room for still
    /// stands before that end.
    func endSettled(_ closing: () -> Void) {
        let receiver = settlingPeer
        let flushed = receiver != nil && loopviz_unsent_bytes(socket.fd) == 0
        closing()
        if flushed, let receiver { LoopbackSettling.waitForEnd(at: receiver) }
    }
}
