import Synchronization

/// What an ``EntityID`` names.
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

    private let entries = Mutex<[Entry]>([Entry(kind: .primitive, name: "-")])

    public init() {}

    /// Adds an entry and returns its id. O(1) amortized.
    public func intern(_ name: String, kind: EntityKind) -> EntityID {
        entries.withLock { entries in
            entries.append(Entry(kind: kind, name: name))
            return EntityID(rawValue: UInt32(entries.count - 1))
        }
    }

    /// The entry for `id`, or nil for an id this table never handed out. O(1).
    public func entry(_ id: EntityID) -> Entry? {
        entries.withLock { entries in
            Int(id.rawValue) < entries.count ? entries[Int(id.rawValue)] : nil
        }
    }

    /// The name for `id`, or `?N` for an unknown id (a reader never crashes on a bad id).
    public func name(_ id: EntityID) -> String {
        entry(id)?.name ?? "?\(id.rawValue)"
    }

    /// The entries from id `first` on (the ones a reader has not seen yet). O(new entries): a
    /// recording writer asks for these on every batch, never for the whole table.
    public func entries(from first: Int) -> ArraySlice<Entry> {
        entries.withLock { entries in
            first < entries.count ? ArraySlice(Array(entries[first...])) : []
        }
    }

    /// Releases the text of printed lines nobody will show again (a viewer's history moved past
    /// them): their ids stay valid and read as an empty line, so the table keeps one small entry
    /// per line, not the line. Names of tasks, primitives and sockets are never forgotten.
    /// O(ids).
    public func forget(_ ids: [EntityID]) {
        guard !ids.isEmpty else { return }
        entries.withLock { entries in
            for id in ids where Int(id.rawValue) < entries.count && entries[Int(id.rawValue)].kind == .text {
                entries[Int(id.rawValue)].name = ""
            }
        }
    }

    /// A copy of every entry, index = id.
    public func snapshot() -> [Entry] {
        entries.withLock { $0 }
    }

    public var count: Int { entries.withLock { $0.count } }
}
