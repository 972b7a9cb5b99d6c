import Trace

/// A lane's place in the spawn tree: which lane, and how many spawners are above it.
public struct TreeRow: Sendable, Equatable {
    /// An index into ``LaneModel/lanes``.
    public var lane: Int
    /// 0 for a root (a task nobody on the loop spawned, or a callback).
    public var depth: Int
}

extension LaneModel {
    /// The lanes as the spawn tree (`--tree`, `T`): every task right below its spawner and its
    /// spawner's earlier children, depth first, siblings in creation order. A task whose spawner
    /// has no task lane (the root, or a task a callback spawned) is a root. Callbacks come after
    /// all tasks, in creation order, as in the default order. O(lanes).
    public var spawnTree: [TreeRow] {
        var indexOf: [EntityID: Int] = [:]
        for (index, lane) in lanes.enumerated() where lane.kind == .task { indexOf[lane.id] = index }
        var children: [Int: [Int]] = [:]
        var roots: [Int] = []
        for (index, lane) in lanes.enumerated() where lane.kind == .task {
            // A spawner is always created before what it spawns, so `parent < index` rules out
            // cycles even in a damaged recording.
            if let parent = indexOf[lane.parent], parent < index {
                children[parent, default: []].append(index)
            } else {
                roots.append(index)
            }
        }
        var rows: [TreeRow] = []
        rows.reserveCapacity(lanes.count)
        // Depth first with an explicit stack: a long chain of spawns must not exhaust the stack.
        var stack: [TreeRow] = roots.reversed().map { TreeRow(lane: $0, depth: 0) }
        while let row = stack.popLast() {
            rows.append(row)
            for child in (children[row.lane] ?? []).reversed() { stack.append(TreeRow(lane: child, depth: row.depth + 1)) }
        }
        for (index, lane) in lanes.enumerated() where lane.kind == .callback { rows.append(TreeRow(lane: index, depth: 0)) }
        return rows
    }
}
