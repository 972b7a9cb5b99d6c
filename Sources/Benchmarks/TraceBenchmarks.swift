import Foundation
import Loop
import Trace

/// Workloads on the trace ring.
enum TraceBenchmarks {
    /// Single-thread push cost, timestamp included, the way the loop writes: one clock read per
    /// step shared by the (about four) records the step writes. Nanoseconds per record.
    static func pushCost(records: Int) -> Double {
        let ring = TraceRing(capacity: 1 << 16)
        let recordsPerStep = 4
        var pushed = 0
        var nanoseconds = 0.0
        var sink = 0
        while pushed < records {
            let batch = min(ring.capacity, records - pushed)
            let start = Stopwatch()
            var index = 0
            while index < batch {
                var spec = timespec()
                clock_gettime(CLOCK_MONOTONIC, &spec)
                let time = Int64(spec.tv_sec) &* 1_000_000_000 &+ Int64(spec.tv_nsec)
                for offset in 0..<recordsPerStep where index + offset < batch {
                    ring.push(TraceRecord(time: time, kind: .taskResumed, subject: EntityID(rawValue: UInt32(truncatingIfNeeded: index)),
                                          value: Int64(offset), state: .running))
                }
                index += recordsPerStep
            }
            nanoseconds += start.seconds * 1e9
            ring.drain { sink &+= Int($0.value) }
            pushed += batch
        }
        precondition(ring.dropped == 0 && sink >= 0)
        return nanoseconds / Double(records)
    }

    /// Producer and consumer on two threads; the producer waits for room instead of dropping.
    /// Records per second. Each thread on a core of its own when there are two, so that the
    /// figure is a cross-core one. (On the 2-vCPU VM of the README it still moves several-fold
    /// between runs, 60–350 M/s: how far apart the host puts the two vCPUs, cache-wise.)
    static func crossThread(records: Int) -> Double {
        let ring = TraceRing(capacity: 1 << 16)
        let done = DispatchSemaphore(value: 0)
        let received = Counter()
        let checksum = Counter()
        let allowed = CPUAffinity.current()
        let pinned = allowed.count >= 2 && CPUAffinity.set([allowed[0]])
        defer { if pinned { _ = CPUAffinity.set(allowed) } }
        let consumer = Thread {
            if pinned { _ = CPUAffinity.set([allowed[1]]) }
            // The consumer reads every record (a checksum of the values), as a real reader does.
            var count = 0, sum = 0
            while count < records { count += ring.drain { sum &+= Int($0.value) } }
            received.value = count
            checksum.value = sum
            done.signal()
        }
        let start = Stopwatch()
        consumer.start()
        for index in 0..<records {
            let record = TraceRecord(time: Int64(index), kind: .taskResumed, subject: .none, value: Int64(index))
            while !ring.pushIfRoom(record) {}
        }
        done.wait()
        precondition(ring.dropped == 0 && received.value == records && checksum.value == records * (records - 1) / 2)
        return Double(records) / start.seconds
    }
}
