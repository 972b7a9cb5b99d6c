import CNcurses

/// What a key press asks for. The session applies actions; the mapping itself is pure.
enum UIAction: Equatable {
    case quit, interrupt, togglePause, stepForward, stepBack, runOn, enterStepMode, toggleAxis
    case zoomIn, zoomOut, panBack, panForward, scrollUp, scrollDown, pageUp, pageDown
    case first, last, toggleHelp, toggleStats, resize
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
        default: return nil
        }
    }
}
