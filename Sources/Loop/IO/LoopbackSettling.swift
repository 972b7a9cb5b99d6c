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
/// time; `SlowLoopbackTests` run the echo program and `LoopbackSettlingTests` that way. On a
/// flowing clock time is real and nothing here runs.
///
/// Covered: a send through a transport whose other end is this loop's (linked once both exist),
/// a close or half-close after which the end can go out at once, a connect to one of the
/// loop's listeners that has room in its accept queue. Not covered: bytes the kernel sends by
/// itself once a full window reopens, and writes before the other end's transport exists.
///
/// Each wait reads a count the kernel keeps, so it ends as soon as the data is there; what
/// will not come without the peer reading is not waited for. Each wait also gives up after
/// ``limitNanoseconds``: a case the counts get wrong costs time, never a hang.
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
        waitUntil { (bytesQueued(from: sender, to: receiver) ?? count) >= count }
    }

    /// Whether an end of stream (a FIN) that `sender` sends now goes out at once: everything
    /// before it has been handed to the network and the peer's window has room for it.
    static func endGoesOutAtOnce(from sender: Socket) -> Bool {
        loopviz_unsent_bytes(sender.fd) == 0 && loopviz_peer_has_room(sender.fd) != 0
    }

    /// Waits until `receiver` sees its peer's end of stream, or a reset.
    static func waitForEnd(at receiver: Socket) {
        let start = RealClock.monotonicNanoseconds()
        var entry = pollfd(fd: receiver.fd, events: loopviz_pollrdhup(), revents: 0)
        while true {
            // POLLHUP and POLLERR (a reset) are reported without being asked for.
            let result = poll(&entry, 1, 1)
            if result > 0 || (result < 0 && errno != EINTR) { return }
            if RealClock.monotonicNanoseconds() - start > limitNanoseconds { return }
        }
    }

    /// The accept queue of `listener`, one of the loop's, when a connect to it will be queued:
    /// how many wait in it now. Nil when the queue is over its backlog (the kernel drops the
    /// SYN and the client retries a second later: nothing to wait for) or unknown.
    static func acceptQueueBeforeConnect(_ listener: Socket) -> Int? {
        var queued: Int32 = 0, backlog: Int32 = 0
        guard loopviz_accept_queue(listener.fd, &queued, &backlog) == 0, queued <= backlog else { return nil }
        return Int(queued)
    }

    /// Waits until `listener`'s accept queue holds `count` connections: the client's handshake
    /// is through (the listener queues a connection on the client's last ACK).
    static func waitForAccept(on listener: Socket, queued count: Int) {
        waitUntil {
            var queued: Int32 = 0, backlog: Int32 = 0
            return loopviz_accept_queue(listener.fd, &queued, &backlog) != 0 || Int(queued) >= count
        }
    }

    /// The loop's listener that takes connections sent to `address`, if it has one.
    static func listener(for address: SocketAddress, among sockets: some Sequence<Socket>) -> Socket? {
        let address = address.canonical
        return sockets.first { socket in
            guard socket.isListening, let local = socket.localAddress, local.port == address.port else { return false }
            switch (local, address) {
            case (.ipv4(let host, _), .ipv4(let target, _)): return host == target || host == "0.0.0.0"
            case (.ipv6(let host, _), .ipv6(let target, _)): return host == target || host == "::"
            default: return false
            }
        }
    }

    /// Until `done()` holds, checking every 20 µs, for at most ``limitNanoseconds``. The sleep
    /// lets the softirq thread run when it shares this core.
    private static func waitUntil(_ done: () -> Bool) {
        let start = RealClock.monotonicNanoseconds()
        while !done() {
            if RealClock.monotonicNanoseconds() - start > limitNanoseconds { return }
            usleep(20)
        }
    }
}

extension Transport {
    /// The other end's socket when it is this loop's own and the clock does not flow: what this
    /// transport sends must reach it before the loop goes on. Nil otherwise.
    var settlingPeer: Socket? {
        // The peer first: a live clock's `flows` takes a lock, and most peers are not the loop's.
        guard let peer, !peer.socket.isClosed, !loop.clock.flows else { return nil }
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

    /// `ending`, a close or a half-close of the sending side, then, on a settling clock, a wait
    /// until the peer sees the end of the stream, when the end can go out at once.
    func endSettled(_ ending: () -> Void) {
        let receiver = settlingPeer.flatMap { LoopbackSettling.endGoesOutAtOnce(from: socket) ? $0 : nil }
        ending()
        if let receiver { LoopbackSettling.waitForEnd(at: receiver) }
    }
}

extension EventLoop {
    /// `socket.connect(address)`, then, on a clock that does not flow and when one of the loop's
    /// own listeners will queue the connection, a wait until it has. Returns whether the
    /// connection is up at once, as `Socket.connect` does.
    func connectSettled(_ socket: Socket, to address: SocketAddress) throws(SocketError) -> Bool {
        guard !clock.flows, let listener = LoopbackSettling.listener(for: address, among: openSockets.values),
              let queued = LoopbackSettling.acceptQueueBeforeConnect(listener) else {
            return try socket.connect(address)
        }
        let connected = try socket.connect(address)
        LoopbackSettling.waitForAccept(on: listener, queued: queued + 1)
        return connected
    }
}
