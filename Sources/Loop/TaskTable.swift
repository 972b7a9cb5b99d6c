/// The loop's tasks that have not finished, found by the pointer their runtime jobs carry (a job
/// is all the runtime hands the executor). Loop thread only.
///
/// An open-addressing hash set of boxes, keyed by ``TaskBox/pointer``, with linear probing: one
/// 8-byte slot per entry, where a `Dictionary<UnsafeRawPointer, TaskBox>` took 16 (key and
/// value) and stayed at most 3/4 full — 42 bytes a task at 100,000 tasks, 10.5 here. A lookup
/// compares the pointer kept in the box; boxes are looked up by pointer only for jobs the
/// runtime enqueues (first slices, resumptions the loop did not make itself), not on the
/// loop's own resume path.
struct TaskTable {
    /// Empty, or a power of two in count. nil: a free slot (deletion shifts entries back, so
    /// there are no tombstones).
    private var slots: [TaskBox?] = []
    private(set) var count = 0
    /// `64 - log2(slots.count)`: the hash's top bits pick the home slot.
    private var shift = 64

    /// At most 4/5 full: probes stay short (about 3 for a hit at the fullest), and the table
    /// grows by doubling, so it is 2/5 to 4/5 full as the number of tasks grows.
    private static func fits(_ count: Int, in capacity: Int) -> Bool { count * 5 <= capacity * 4 }

    var isEmpty: Bool { count == 0 }

    /// Every task in the table, in no particular order. O(capacity).
    var boxes: [TaskBox] { slots.compactMap { $0 } }

    /// The task whose Swift task is `pointer`, if it is one of ours and not finished.
    func box(for pointer: UnsafeRawPointer) -> TaskBox? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var index = home(pointer)
        while let box = slots[index] {
            if box.pointer == pointer { return box }
            index = (index + 1) & mask
        }
        return nil
    }

    /// Adds a task whose ``TaskBox/pointer`` is set and is not in the table yet. O(1) amortized.
    mutating func insert(_ box: TaskBox) {
        guard let pointer = box.pointer else { preconditionFailure("a task enters the table with its pointer") }
        if !Self.fits(count + 1, in: slots.count) { grow() }
        let mask = slots.count - 1
        var index = home(pointer)
        while slots[index] != nil { index = (index + 1) & mask }
        slots[index] = box
        count += 1
    }

    /// Removes `box` if it is in the table. Later entries of its run move back into the gap
    /// (backward-shift deletion), so lookups never need tombstones.
    /// Returns the table's reference to it, which may be the last one.
    @discardableResult
    mutating func remove(_ box: TaskBox) -> TaskBox? {
        guard let pointer = box.pointer, !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var hole = home(pointer)
        while let entry = slots[hole], entry !== box { hole = (hole + 1) & mask }
        guard let removed = slots[hole] else { return nil }
        var next = (hole + 1) & mask
        while let entry = slots[next] {
            // The entry may fill the hole when the hole lies between its home and where it is.
            let entryHome = home(entry.pointer!)
            if (next &- entryHome) & mask >= (next &- hole) & mask {
                slots[hole] = entry
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = nil
        count -= 1
        return removed
    }

    /// Fibonacci hashing of the address: boxes of tasks made one after another have pointers a
    /// few hundred bytes apart, which the multiplication spreads over the whole table.
    @inline(__always)
    private func home(_ pointer: UnsafeRawPointer) -> Int {
        Int(truncatingIfNeeded: (UInt(bitPattern: pointer) &* 0x9E37_79B9_7F4A_7C15) >> UInt(shift))
    }

    private mutating func grow() {
        let old = slots
        let capacity = max(8, old.count * 2)
        slots = Array(repeating: nil, count: capacity)
        shift = 64 - capacity.trailingZeroBitCount
        count = 0
        for case let box? in old { insert(box) }
    }
}
