
/// What a key press asks for. The session applies actions; the mapping itself is pure.
enum UIAction: Equatable {
    case quit, interrupt, togglePause, stepForward, stepBack, runOn, enterStepMode, toggleAxis
    case zoomIn, zoomOut, panBack, panForward, scrollUp, scrollDown, pageUp, pageDown
    case first, last, toggleHelp, toggleStats, toggleLoopState, resize
    /// A key of the lane filter: `/` opens its prompt, then keys are text until Enter or Escape.
    case filter(FilterEdit)
    /// `f`: hide / show the lanes that have finished.
    case toggleFinished
    /// `T`: spawn-tree order / creation order.
    case toggleTree
    /// `.` `,` `]` `[`: move the cursor to a step worth seeing (the session owns the cursor).
    case jump(StepJump)
}

extension ViewState {
    /// Applies an action that only changes how the picture is drawn (axis, zoom, pan, lane
    /// selection, overlays), the same in every session. Returns false for the others (stepping,
    /// pausing, quitting), which are the session's own.
    mutating func applyViewAction(_ action: UIAction, model: LaneModel) -> Bool {
        // Selection moves among the lanes shown, in the order shown (filtered, maybe a tree).
        func select(by offset: Int) { moveSelection(by: offset, among: shownLanes(in: model)) }
        switch action {
        case .toggleAxis: axis = axis == .time ? .step : .time
        case .zoomIn: zoom = min(zoom + 1, 30)
        case .zoomOut:
            zoom = max(zoom - 1, 0)
            if zoom == 0 { pan = 0 }
        case .panBack: pan += 1
        case .panForward: pan = max(0, pan - 1)
        case .scrollUp: select(by: -1)
        case .scrollDown: select(by: 1)
        case .pageUp: select(by: -10)
        case .pageDown: select(by: 10)
        case .toggleHelp: showHelp.toggle()
        case .toggleStats: showStats.toggle()
        case .toggleLoopState: showLoopState.toggle()
        case .filter(let edit):
            editFilter(edit)
            keepSelectionShown(shownLanes(in: model))
        case .toggleFinished:
            hideFinished.toggle()
            keepSelectionShown(shownLanes(in: model))
        case .toggleTree:
            treeOrder.toggle()
            keepSelectionShown(shownLanes(in: model))
        case .resize: break
        default: return false
        }
        return true
    }
}

/// A key as the terminal reported it, in the renderer's terms: the key map never sees
/// ncurses' codes (the renderer translates them), so it is pure and tested without a terminal.
enum Key: Equatable {
    /// A character key (ASCII; control keys such as Ctrl-C as their control character).
    case character(Unicode.Scalar)
    case left, right, up, down, home, end, pageUp, pageDown, resize, escape, enter, backspace
}

/// Keys in the spirit of htop, less and tokio-console (the help overlay lists them).
enum KeyMap {
    /// The action of `key`; `typing`: the `/` prompt is open, so keys are text (Ctrl-C still quits).
    static func action(for key: Key, typing: Bool = false) -> UIAction? {
        if typing { return textAction(for: key) }
        let scalar: Unicode.Scalar
        switch key {
        case .resize: return .resize
        case .right: return .stepForward
        case .left: return .stepBack
        case .up: return .scrollUp
        case .down: return .scrollDown
        case .pageUp: return .pageUp
        case .pageDown: return .pageDown
        case .home: return .first
        case .end: return .last
        case .escape: return .filter(.clear)
        case .enter: return .toggleStats
        case .backspace: return nil
        case .character(let character): scalar = character
        }
        switch Character(scalar) {
        case "q", "Q": return .quit
        case "\u{3}": return .interrupt  // Ctrl-C, which raw mode delivers as a key
        case " ": return .togglePause
        case "s", "n": return .stepForward
        case "b": return .stepBack
        case "c": return .runOn
        case "p": return .enterStepMode
        case "t": return .toggleAxis
        case "+", "=": return .zoomIn
        case "-", "_": return .zoomOut
        case "h": return .panBack
        case "l": return .panForward
        case "k": return .scrollUp
        case "j": return .scrollDown
        case "g": return .first
        case "G": return .last
        case "?": return .toggleHelp
        case "i", "\n", "\r": return .toggleStats
        case "w": return .toggleLoopState
        case "/": return .filter(.open)
        case "f": return .toggleFinished
        case "T": return .toggleTree
        case ".": return .jump(.nextLaneEvent)
        case ",": return .jump(.previousLaneEvent)
        case "]": return .jump(.nextWarning)
        case "[": return .jump(.previousWarning)
        default: return nil
        }
    }

    /// Keys while the `/` prompt is open: printable ASCII is text (lane names are ASCII), Enter
    /// keeps the filter, Escape clears it, Backspace edits.
    static func textAction(for key: Key) -> UIAction? {
        switch key {
        case .resize: return .resize
        case .escape: return .filter(.clear)
        case .enter: return .filter(.apply)
        case .backspace: return .filter(.deleteBackward)
        case .character(let scalar):
            switch scalar.value {
            case 3: return .interrupt
            case 10, 13: return .filter(.apply)
            case 8, 127: return .filter(.deleteBackward)  // ^H and DEL: what terminals send for Backspace
            case 32...126: return .filter(.insert(Character(scalar)))
            default: return nil
            }
        default: return nil
        }
    }
}
