/// How a key edits the lane filter (`/`): the prompt is a small text field on the status line.
public enum FilterEdit: Sendable, Equatable {
    /// `/`: opens the prompt on the filter in force, so it can be edited.
    case open
    /// A character typed into the prompt.
    case insert(Character)
    /// Backspace: removes the last character typed.
    case deleteBackward
    /// Enter: what was typed becomes the filter (nothing: no filter) and the prompt closes.
    case apply
    /// Escape: no filter, and the prompt (if open) closes.
    case clear
}

/// The lanes a frame shows, top to bottom: in creation order or as the spawn tree, less those
/// the filter and `f` hide.
struct ShownLanes: Equatable {
    var rows: [TreeRow]
    /// How many lanes the filter and `f` hide.
    var hidden: Int

    /// Where lane `lane` (an index into the model's lanes) is shown, if it is.
    func position(ofLane lane: Int) -> Int? {
        rows.firstIndex { $0.lane == lane }
    }
}

extension ViewState {
    /// The filter the lanes follow: what is being typed, while the prompt is open.
    var activeFilter: String { filterDraft ?? laneFilter }

    /// Which lanes to show and in what order, for the step shown. O(lanes).
    func shownLanes(in model: LaneModel) -> ShownLanes {
        let all = treeOrder ? model.spawnTree : model.lanes.indices.map { TreeRow(lane: $0, depth: 0) }
        let filter = activeFilter.lowercased()
        // A lane that finishes later is still going at an earlier step: stepping back shows it again.
        let shownStep = model.shownStep(cursor)
        let rows = all.filter { row in
            let lane = model.lanes[row.lane]
            if !filter.isEmpty && !lane.name.lowercased().contains(filter) { return false }
            if hideFinished, let finished = model.finishedStep(of: lane), finished <= shownStep { return false }
            return true
        }
        return ShownLanes(rows: rows, hidden: all.count - rows.count)
    }

    /// The label a lane row shows: its name, indented two spaces per level in the spawn tree.
    static func label(_ row: TreeRow, in model: LaneModel) -> String {
        String(repeating: " ", count: 2 * row.depth) + model.lanes[row.lane].name
    }

    /// What the header says while lanes are hidden (`/cou, finished: 190 of 201 lanes hidden`);
    /// nil when nothing hides lanes. Short and the count early: a narrow header is cut.
    func hiddenLanesSummary(_ shown: ShownLanes) -> String? {
        var causes: [String] = []
        if !activeFilter.isEmpty { causes.append("/\(activeFilter)") }
        if hideFinished { causes.append("finished") }
        guard !causes.isEmpty else { return nil }
        return "\(causes.joined(separator: ", ")): \(shown.hidden) of \(shown.rows.count + shown.hidden) lanes hidden"
    }

    /// Applies a key of the `/` prompt. Pure; the lanes follow the draft as it is typed.
    mutating func editFilter(_ edit: FilterEdit) {
        switch edit {
        case .open: filterDraft = laneFilter
        case .insert(let character): if filterDraft != nil { filterDraft?.append(character) }
        case .deleteBackward: if filterDraft?.isEmpty == false { filterDraft?.removeLast() }
        case .apply:
            laneFilter = filterDraft ?? laneFilter
            filterDraft = nil
        case .clear:
            laneFilter = ""
            filterDraft = nil
        }
    }

    /// Moves the selection `offset` rows among the shown lanes (j/k), clamped to the list. A
    /// selection that is hidden starts from the first shown lane after it.
    mutating func moveSelection(by offset: Int, among shown: ShownLanes) {
        guard !shown.rows.isEmpty else { return }
        let position = shown.position(ofLane: selectedLane)
            ?? (shown.rows.firstIndex { $0.lane > selectedLane } ?? shown.rows.count) - (offset > 0 ? 1 : 0)
        let target = min(max(0, position + offset), shown.rows.count - 1)
        selectedLane = shown.rows[target].lane
        laneScroll = min(laneScroll, target)
    }

    /// After the filter, `f` or the order changed: the selection stays on its lane if that is
    /// still shown, else goes to the first shown lane; the list scrolls from the top again.
    mutating func keepSelectionShown(_ shown: ShownLanes) {
        laneScroll = 0
        if shown.position(ofLane: selectedLane) == nil, let first = shown.rows.first { selectedLane = first.lane }
    }
}
