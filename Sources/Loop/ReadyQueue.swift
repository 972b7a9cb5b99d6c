/// The loop's ready queue (asyncio's `_ready` deque): items join at the back and leave from the
/// front, in order. Loop thread only.
///
/// A ring buffer of its own, not `Deque`: every task switch appends one item and takes one, and
/// `Deque`'s append (a uniqueness check and a closure over its storage handle) and `popFirst`
/// cost about 75 instructions of a switch's 2,080, against about 20 here. Non-copyable, so that
/// the storage has one owner and is freed once.
struct ReadyQueue: ~Copyable {
    /// `capacity` slots, of which `count` from `head` on (wrapping) are initialized.
    private var storage: UnsafeMutablePointer<ReadyItem>
    /// A power of two, so that a slot's index is masked, not divided.
    private(set) var capacity: Int
    private var head = 0
    private(set) var count = 0

    /// The capacity a new queue starts with, and the least it shrinks to.
    static let initialCapacity = 16

    init() {
        capacity = Self.initialCapacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        for offset in 0..<count { slot(offset).deinitialize(count: 1) }
        storage.deallocate()
    }

    var isEmpty: Bool {
        @inline(__always) get { count == 0 }
    }

    /// The slot `offset` places behind the head.
    @inline(__always)
    private func slot(_ offset: Int) -> UnsafeMutablePointer<ReadyItem> {
        storage + ((head &+ offset) & (capacity &- 1))
    }

    /// Adds `item` at the back. O(1) amortized.
    @inline(__always)
    mutating func append(_ item: consuming ReadyItem) {
        if count == capacity { resize(to: capacity * 2) }
        slot(count).initialize(to: item)
        count &+= 1
    }

    /// Takes the item at the front, if any. O(1).
    @inline(__always)
    mutating func popFirst() -> ReadyItem? {
        guard count > 0 else { return nil }
        let item = (storage + head).move()
        head = (head &+ 1) & (capacity &- 1)
        count &-= 1
        return item
    }

    /// Calls `body` with each item, front to back.
    func forEach(_ body: (ReadyItem) -> Void) {
        for offset in 0..<count { body(slot(offset).pointee) }
    }

    /// Moves the items into storage of `newCapacity` slots (a power of two, at least `count`),
    /// the front item first.
    @inline(never)
    mutating func resize(to newCapacity: Int) {
        precondition(newCapacity > 0 && newCapacity >= count && newCapacity & (newCapacity - 1) == 0, "a ready queue's capacity is a power of two that holds its items")
        let newStorage = UnsafeMutablePointer<ReadyItem>.allocate(capacity: newCapacity)
        // The items run from head to the end of the storage, then wrap to its start.
        let firstRun = min(count, capacity - head)
        newStorage.moveInitialize(from: storage + head, count: firstRun)
        (newStorage + firstRun).moveInitialize(from: storage, count: count - firstRun)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
        head = 0
    }

    /// The least power of two, at least ``initialCapacity``, that holds `count` items.
    static func fittingCapacity(_ count: Int) -> Int {
        var capacity = initialCapacity
        while capacity < count { capacity *= 2 }
        return capacity
    }
}
