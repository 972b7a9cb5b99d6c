import CNcurses

/// What a key press asks for. The session applies actions; the mapping itself is pure.
enum UIAction: Equatable {
    case quit, interrupt, togglePause, stepForward, stepBack, runOn, enterStepMode, toggleAxis
    case zoomIn, zoomOut, panBack, panForward, scrollUp, scrollDown, pageUp, pageDown
    case first, last, toggleHelp, toggleStats, toggleLoopState, resize
}

extension ViewState {
    /// Applies an action that only changes how the picture is drawn (axis, zoom, pan, lane
    /// selection, overlays), the same in every session. Returns false for the others (stepping,
    /// pausing, quitting), which are the session's own.
    mutating func applyViewAction(_ action: UIAction, laneCount: Int) -> Bool {
        func select(by offset: Int) {
            selectedLane = min(max(0, selectedLane + offset), max(0, laneCount - 1))
            laneScroll = min(laneScroll, selectedLane)
        }
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
        case .resize: break
        default: return false
        }
        return true
    }
}

/// Keys in the spirit of htop, less and tokio-console (the help overlay lists them).
enum KeyMap {
    static func action(for key: Int32) -> UIAction? {
        switch key {
        case KeyCode.resize: return .resize
        case KeyCode.right: return .stepForward
        case KeyCode.left: return .stepBack
        case KeyCode.up: return .scrollUp
        case KeyCode.down: return .scrollDown
        case KeyCode.pageUp: return .pageUp
        case KeyCode.pageDown: return .pageDown
        case KeyCode.home: return .first
        case KeyCode.end: return .last
        default: break
        }
        guard key > 0, key < 128, let scalar = Unicode.Scalar(UInt32(key)) else { return nil }
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
        default: return nil
        }
    }
}
