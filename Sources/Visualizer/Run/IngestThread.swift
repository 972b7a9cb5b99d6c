import Foundation
import Synchronization
import Trace

/// A ``TraceIngest`` fed from a ``TraceSource`` on a thread of its own, while the caller's
/// thread runs the program (plain output: the loop runs on the caller's thread, and the model
/// is built as the records arrive, so that a long run's history stays within `--history`).
/// `@unchecked Sendable`: the ingest and the source are touched only by the thread between
/// ``start()`` and ``stop()``, and by the caller after ``stop()`` joined it.
public final class IngestThread<Source: TraceSource>: @unchecked Sendable {
    private var ingest: TraceIngest
    private var source: Source
    private var failure: (any Error)?
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private var started = false

    public init(ingest: TraceIngest, source: Source) {
        self.ingest = ingest
        self.source = source
    }

    public func start() {
        started = true
        let thread = Thread { [self] in
            defer { finished.signal() }
            do {
                while !stopRequested.load(ordering: .acquiring) {
                    if try !ingest.take(from: &source) { usleep(1_000) }  // nothing now: the loop never waits for us
                }
                // The producer stopped before stop() was called: what is left comes in now.
                while try ingest.take(from: &source) {}
            } catch {
                failure = error
            }
        }
        thread.name = "loopviz-ingest"
        thread.start()
    }

    /// Joins the thread once it has taken every record the source had, and returns the ingest.
    /// - Throws: what the source threw (the records before it are in the model).
    public func stop() throws -> TraceIngest {
        if started {
            stopRequested.store(true, ordering: .releasing)
            finished.wait()
            started = false
        }
        if let failure { throw failure }
        return ingest
    }
}
