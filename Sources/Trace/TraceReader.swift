import Foundation
import Synchronization

/// The consumer side of a ``TraceRing`` on a thread of its own: it drains the ring every
/// `pollInterval` and hands the records to `sink` in batches, so the loop never waits for
/// whoever consumes the trace (a printer, the live UI's history, a recording).
/// `@unchecked Sendable`: its fields are `let`s of thread-safe types (the ring, an atomic, a
/// semaphore); only `start`/`stop` are called from the owning thread.
public final class TraceReader: @unchecked Sendable {
    private let ring: TraceRing
    private let sink: @Sendable ([TraceRecord]) -> Void
    private let pollInterval: Duration
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?

    /// - Parameter sink: called on the reader thread with each non-empty batch, in record order.
    public init(ring: TraceRing, pollInterval: Duration = .milliseconds(1), sink: @escaping @Sendable ([TraceRecord]) -> Void) {
        self.ring = ring
        self.pollInterval = pollInterval
        self.sink = sink
    }

    /// `interval` as `nanosleep` takes it: whole seconds and the nanoseconds left (not the
    /// attoseconds alone, which dropped the seconds of an interval of a second or more).
    static func pauseSpec(_ interval: Duration) -> timespec {
        let (seconds, attoseconds) = interval.components
        return timespec(tv_sec: Int(max(0, seconds)), tv_nsec: Int(max(0, attoseconds) / 1_000_000_000))
    }

    public func start() {
        let thread = Thread { [self] in
            let pause = Self.pauseSpec(pollInterval)
            var batch: [TraceRecord] = []
            func drainBatch() -> Int {
                batch.removeAll(keepingCapacity: true)
                ring.drain(into: &batch)
                if !batch.isEmpty { sink(batch) }
                return batch.count
            }
            // Pause after every drain, not only after an empty one, unless the ring was a
            // quarter full: a reader that drains again at once chases the loop record by record,
            // reading the write index the loop stores after each record, and each such store
            // then waits for the cache line to come back from this core (a traced task switch
            // cost a fifth more). A pause of `pollInterval` lets records pile up a little and
            // be read a cache line at a time, and still shows them within that interval.
            let busy = max(1, ring.capacity / 4)
            while !stopRequested.load(ordering: .acquiring) {
                if drainBatch() < busy {
                    var pause = pause
                    nanosleep(&pause, nil)
                }
            }
            // The producer has stopped before stop() was called: one last drain gets the rest.
            _ = drainBatch()
            finished.signal()
        }
        thread.name = "loopviz-trace-reader"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread after it has handed over every record written so far. Call it once the
    /// producer is done; it returns when the sink has seen the last record.
    public func stop() {
        guard thread != nil else { return }
        stopRequested.store(true, ordering: .releasing)
        finished.wait()
        thread = nil
    }
}
