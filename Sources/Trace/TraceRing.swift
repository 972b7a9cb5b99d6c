import Synchronization

/// A lock-free single-producer / single-consumer ring of ``TraceRecord``s.
///
/// The loop thread is the only producer and never blocks: when the ring is full the record is
/// counted as dropped, and the next record that fits is preceded by a ``TraceKind/gap`` record
/// carrying the count, so the reader sees exactly where and how much it lost.
/// One reader thread is the only consumer.
///
/// Two monotonic indices, each written by one side only (no compare-and-swap):
/// `writeIndex` by the producer, `readIndex` by the consumer. Slot `i & mask` holds record `i`.
/// `@unchecked Sendable` is sound for that reason: a slot is written only before the producer
/// publishes it (release) and read only after the consumer sees it published (acquire).
public final class TraceRing: @unchecked Sendable {
    public let capacity: Int
    // Internal but usable from inlinable code: push is inlined into the loop's emit, so that
    // writing a record costs a few instructions and no call.
    @usableFromInline let mask: Int
    @usableFromInline let slots: UnsafeMutablePointer<TraceRecord>

    // The producer's and the consumer's indices live on cache lines of their own (the padding
    // keeps them 64 bytes apart): sharing one line, every push and every drain would steal it
    // from the other core. Stored properties are laid out in declaration order.
    private let padding0 = CacheLinePadding()
    @usableFromInline let writeIndex = Atomic<Int>(0)
    // Producer-only state (touched by the producer thread alone, so plain stored properties).
    // Unchecked exclusivity: one thread, no overlapping accesses; the checks cost more than the push.
    @exclusivity(unchecked) @usableFromInline var cachedReadIndex = 0
    @exclusivity(unchecked) @usableFromInline var pendingDrops = 0
    /// `push`'s whole test: records below this index go straight in. `cachedReadIndex + capacity`
    /// while no drops are pending, else 0 (every push goes the slow way, which writes the gap
    /// record first). `refreshWriteLimit` sets it whenever the drops change, and after the slow
    /// path reads the consumer's index; `hasRoom` alone (through `pushIfRoom`) may leave it lower
    /// than it could be, never higher: a record then takes the slow path once.
    @exclusivity(unchecked) @usableFromInline var writeLimit = 0
    @usableFromInline let droppedTotal = Atomic<Int>(0)
    private let padding1 = CacheLinePadding()
    @usableFromInline let readIndex = Atomic<Int>(0)
    private let padding2 = CacheLinePadding()

    /// - Parameter capacity: rounded up to a power of two (at least 2).
    public init(capacity: Int) {
        var size = 2
        while size < capacity { size <<= 1 }
        self.capacity = size
        self.mask = size - 1
        // On cache-line boundaries: two 32-byte records to a line, none straddling two (malloc
        // aligns to 16 only), so that a record is written and read as one line.
        self.slots = UnsafeMutableRawPointer.allocate(byteCount: size * MemoryLayout<TraceRecord>.stride, alignment: 64)
            .bindMemory(to: TraceRecord.self, capacity: size)
        self.slots.initialize(repeating: TraceRecord(time: 0, kind: .gap, subject: .none), count: size)
        refreshWriteLimit()
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    // MARK: - Producer side

    /// Writes `record`, or counts it as dropped when the ring is full. Never blocks or allocates.
    /// Returns whether the record was written. O(1).
    ///
    /// Inlined into the loop's `emit`: the common case (no drops pending, the cached read index
    /// says there is room) is a load, a compare, a 32-byte store and a release store; everything
    /// else is out of line in ``pushSlowly(_:at:)``, so that each inlined copy stays small.
    @inlinable @inline(__always)
    @discardableResult
    public func push(_ record: TraceRecord) -> Bool {
        // Relaxed: only this thread writes writeIndex.
        let write = writeIndex.load(ordering: .relaxed)
        guard write < writeLimit else { return pushSlowly(record, at: write) }
        slots[write & mask] = record
        // Releasing: publishes the slot contents before the consumer can see the new index.
        writeIndex.store(write &+ 1, ordering: .releasing)
        return true
    }

    /// `push` when the cached read index says the ring may be full, or drops are pending (a gap
    /// record goes first).
    @usableFromInline
    @inline(never)
    func pushSlowly(_ record: TraceRecord, at write: Int) -> Bool {
        defer { refreshWriteLimit() }
        guard hasRoom(at: write) else {
            pendingDrops += 1
            droppedTotal.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        var next = write
        if pendingDrops > 0 {
            slots[next & mask] = TraceRecord(time: record.time, kind: .gap, subject: .none, value: Int64(pendingDrops))
            next += 1
            pendingDrops = 0
        }
        slots[next & mask] = record
        writeIndex.store(next + 1, ordering: .releasing)
        return true
    }

    private func refreshWriteLimit() {
        writeLimit = pendingDrops == 0 ? cachedReadIndex + capacity : 0
    }

    /// Writes `record` only if there is room, without counting a drop: for a producer that would
    /// rather retry (a benchmark, a replay). Never blocks. O(1).
    @inlinable
    public func pushIfRoom(_ record: TraceRecord) -> Bool {
        guard hasRoom(at: writeIndex.load(ordering: .relaxed)) else { return false }
        return push(record)
    }

    /// Whether the next record (and a pending gap record) fit. Reads the consumer's index only
    /// when the cached copy says the ring may be full.
    @inlinable
    func hasRoom(at write: Int) -> Bool {
        let needed = pendingDrops == 0 ? 1 : 2
        if write + needed - cachedReadIndex <= capacity { return true }
        // Acquiring: the consumer's release store of readIndex means it is done reading those
        // slots, so they may be overwritten.
        cachedReadIndex = readIndex.load(ordering: .acquiring)
        return write + needed - cachedReadIndex <= capacity
    }

    // MARK: - Consumer side

    /// Hands every record written so far to `body`, oldest first, then frees their slots.
    /// Returns how many it read. O(records read).
    @discardableResult
    public func drain(_ body: (TraceRecord) -> Void) -> Int {
        // Relaxed: only this thread writes readIndex.
        let read = readIndex.load(ordering: .relaxed)
        // Acquiring: pairs with the producer's releasing store, so the slots are complete.
        let write = writeIndex.load(ordering: .acquiring)
        if write == read { return 0 }
        for index in read..<write {
            body(slots[index & mask])
        }
        // Releasing: the slots' reads happen before the producer may reuse them.
        readIndex.store(write, ordering: .releasing)
        return write - read
    }

    /// Appends every record written so far to `batch`, oldest first, as at most two block
    /// copies (the ring wraps once at most), then frees their slots. Returns how many it took.
    /// A consumer that keeps its records: an `append` per record cost a reader ~30 instructions
    /// each (a uniqueness check and a capacity check every time). O(records read).
    @discardableResult
    public func drain(into batch: inout [TraceRecord]) -> Int {
        // Relaxed: only this thread writes readIndex.
        let read = readIndex.load(ordering: .relaxed)
        // Acquiring: pairs with the producer's releasing store, so the slots are complete.
        let write = writeIndex.load(ordering: .acquiring)
        let count = write - read
        if count == 0 { return 0 }
        let start = read & mask
        let first = min(count, capacity - start)
        batch.append(contentsOf: UnsafeBufferPointer(start: slots + start, count: first))
        if first < count { batch.append(contentsOf: UnsafeBufferPointer(start: slots, count: count - first)) }
        // Releasing: the slots' reads happen before the producer may reuse them.
        readIndex.store(write, ordering: .releasing)
        return count
    }

    // MARK: - Either side

    /// Records lost to a full ring since the start (each also appears in a `gap` record).
    public var dropped: Int { droppedTotal.load(ordering: .relaxed) }

    /// Records written and not yet read (approximate while the other side is running).
    public var backlog: Int { writeIndex.load(ordering: .relaxed) - readIndex.load(ordering: .relaxed) }
}

/// 64 bytes of nothing, to keep fields written by different threads on different cache lines.
struct CacheLinePadding {
    private var words: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
}
