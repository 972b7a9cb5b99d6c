import Synchronization

/// What an ``EntityID`` names.
/// At most 8 kinds: ``NameTable`` keeps an entry's kind in 3 bits.
public enum EntityKind: UInt8, Sendable, CaseIterable {
    case task, callback, event, primitive, text
    /// A socket the loop watches (`fd 9`).
    case socket
}

/// Interned names and output text for one run: records carry ids, readers look the strings up.
///
/// Written by the loop thread when something is created or printed (not per record), read by
/// the reader thread. A mutex is fine here: interning is rare next to record writes, and a
/// record is only published after the entry it names exists.
public final class NameTable: Sendable {
    public struct Entry: Sendable, Equatable {
        public var kind: EntityKind
        public var name: String
        public init(kind: EntityKind, name: String) {
            self.kind = kind
            self.name = name
        }
    }

    /// How an entry is kept: its kind, the index of its text and the number after `#` (0: none).
    /// 8 bytes where an ``Entry`` takes 24: a program that spawns many tasks keeps one per task,
    /// and numbered names (`worker#1`, `worker#2`, …) share their text, so spawning builds no
    /// string; the name is put together when someone reads it. The kind rides in the top 3 bits
    /// of the text's index (a separate byte made the entry 12 bytes): 2^29 texts would be half a
    /// billion printed lines, each still holding a `String` in `texts`.
    private struct Stored {
        private var kindAndText: UInt32
        var number: UInt32

        init(text: UInt32, number: UInt32, kind: EntityKind) {
            precondition(text < 1 << 29, "the name table holds at most 2^29 texts")
            kindAndText = UInt32(kind.rawValue) << 29 | text
            self.number = number
        }

        var text: UInt32 { kindAndText & (1 << 29 - 1) }
        var kind: EntityKind { EntityKind(rawValue: UInt8(kindAndText >> 29))! }
    }

    private struct Storage {
        var entries = [Stored(text: 0, number: 0, kind: .primitive)]
        var texts = ["-"]
        /// The text of each base of numbered names.
        var bases: [String: UInt32] = [:]

        func entry(_ index: Int) -> Entry {
            let stored = entries[index]
            let text = texts[Int(stored.text)]
            return Entry(kind: stored.kind, name: stored.number == 0 ? text : "\(text)#\(stored.number)")
        }

        mutating func append(text: UInt32, number: UInt32, kind: EntityKind) -> EntityID {
            entries.append(Stored(text: text, number: number, kind: kind))
            return EntityID(rawValue: UInt32(entries.count - 1))
        }
    }

    private let storage = Mutex(Storage())

    public init() {}

    /// Adds an entry and returns its id. O(1) amortized.
    public func intern(_ name: String, kind: EntityKind) -> EntityID {
        storage.withLock { storage in
            storage.texts.append(name)
            return storage.append(text: UInt32(storage.texts.count - 1), number: 0, kind: kind)
        }
    }

    /// Adds an entry named `base#number` (`base` alone when `number` is 0) and returns its id,
    /// without building the name: entries with the same base share its text. O(1) amortized.
    public func intern(_ base: String, number: Int, kind: EntityKind) -> EntityID {
        storage.withLock { storage in
            let text: UInt32
            if let known = storage.bases[base] {
                text = known
            } else {
                storage.texts.append(base)
                text = UInt32(storage.texts.count - 1)
                storage.bases[base] = text
            }
            return storage.append(text: text, number: UInt32(truncatingIfNeeded: number), kind: kind)
        }
    }

    /// The entry for `id`, or nil for an id this table never handed out. O(1).
    public func entry(_ id: EntityID) -> Entry? {
        storage.withLock { storage in
            Int(id.rawValue) < storage.entries.count ? storage.entry(Int(id.rawValue)) : nil
        }
    }

    /// The name for `id`, or `?N` for an unknown id (a reader never crashes on a bad id).
    public func name(_ id: EntityID) -> String {
        entry(id)?.name ?? "?\(id.rawValue)"
    }

    /// The entries from id `first` on (the ones a reader has not seen yet). O(new entries): a
    /// recording writer asks for these on every batch, never for the whole table.
    public func entries(from first: Int) -> ArraySlice<Entry> {
        storage.withLock { storage in
            first < storage.entries.count ? ArraySlice((first..<storage.entries.count).map { storage.entry($0) }) : []
        }
    }

    /// Releases the text of printed lines nobody will show again (a viewer's history moved past
    /// them): their ids stay valid and read as an empty line, so the table keeps one small entry
    /// per line, not the line. Names of tasks, primitives and sockets are never forgotten.
    /// O(ids).
    public func forget(_ ids: [EntityID]) {
        guard !ids.isEmpty else { return }
        storage.withLock { storage in
            for id in ids where Int(id.rawValue) < storage.entries.count {
                let stored = storage.entries[Int(id.rawValue)]
                // A printed line has a text of its own (never a base shared by numbered names).
                if stored.kind == .text && stored.number == 0 { storage.texts[Int(stored.text)] = "" }
            }
        }
    }

    /// A copy of every entry, index = id.
    public func snapshot() -> [Entry] {
        storage.withLock { storage in (0..<storage.entries.count).map { storage.entry($0) } }
    }

    public var count: Int { storage.withLock { $0.entries.count } }
}
