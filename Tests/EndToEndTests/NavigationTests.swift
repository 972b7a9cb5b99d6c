import Foundation
import Testing

/// Finding one's way in a large run in a real terminal (tmux): the `/` lane filter typed as a
/// user types it, read back from the screen.
@Suite("navigation in tmux", .serialized)
struct NavigationTests {
    /// The names of the lanes on screen: the rows between the ruler and the log.
    private func laneNames(_ screen: String) -> [String] {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst(2).prefix { !$0.hasPrefix("──") && !$0.isEmpty }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    @Test func slashFiltersTheLanesByNameAndEscapeBringsThemBack() throws {
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("count --tasks 50 --clock virtual"))
        var screen = try tmux.waitFor("finished (ok)")
        // 51 lanes, more than fit: the list starts with main, count#1, count#2...
        #expect(laneNames(screen).prefix(3) == ["main", "count#1", "count#2"])

        // The prompt opens on the status line; the keys are text now (no `c`ontinue, no `q`uit).
        try tmux.send("/")
        try tmux.send("count#4")
        screen = try tmux.waitFor(" /count#4_")
        try tmux.send("Enter")
        screen = try tmux.waitFor("the filtered screen") { $0.contains("/count#4: 40 of 51 lanes hidden") && !$0.contains(" /count#4_") }
        #expect(laneNames(screen) == ["count#4"] + (40...49).map { "count#\($0)" })
        #expect(screen.contains("step 152/152"))  // the status line is the step again

        // j/k move among the shown lanes only; the figures panel follows.
        try tmux.send("j", "i")
        screen = try tmux.waitFor("count#40's figures") { $0.contains("  count#40") && $0.contains("latency p50") }
        try tmux.send("i")

        // Escape clears the filter: every lane is back.
        try tmux.send("Escape")
        screen = try tmux.waitFor("the whole list") { !$0.contains("lanes hidden") && $0.contains("+") }
        #expect(laneNames(screen).contains("count#40"))  // the selection stays on its lane, on screen
        try tmux.send("g")
        screen = try tmux.waitFor("step 1/152")

        try tmux.send("q")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
        #expect(screen.contains("MODES: icanon echo"))
    }
}
