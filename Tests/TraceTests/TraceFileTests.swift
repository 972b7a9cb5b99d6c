import Foundation
import Testing
import Trace

/// Reading recordings that are damaged in every way we can think of, and in thousands of ways
/// a seeded generator thinks of.
@Suite("Trace file: bad input")
struct TraceFileTests {
    static let good = """
        loopviz-trace 1
        M {"clock":"virtual","scenario":"count"}
        N 1 task "main"
        N 2 task "count#1"
        N 3 text "One"
        R 0 taskSpawned 1 0 0 0 ready
        R 0 taskResumed 1 0 0 0 running
        R 0 taskSpawned 2 1 0 0 ready
        R 0 taskSuspended 1 2 0 4 awaitingChildren
        R 0 taskResumed 2 0 0 0 running
        R 0 output 2 0 3 0 unknown
        R 1000000000 taskDone 2 0 0 0 done
        R 1000000000 runFinished 1 0 0 0 unknown
        E 8 0

        """

    private func read(_ text: String, salvage: Bool = false) throws -> TraceFile.Contents {
        try TraceFile.parse(Data(text.utf8), path: "run.lvt", salvage: salvage)
    }

    private func message(_ text: String) -> String? {
        do {
            _ = try read(text)
            return nil
        } catch let error as TraceFileError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func aGoodFileReadsCompletely() throws {
        let contents = try read(Self.good)
        #expect(contents.records.count == 8)
        #expect(contents.complete)
        #expect(contents.names.name(EntityID(rawValue: 3)) == "One")
    }

    @Test(arguments: [
        ("", "run.lvt: empty file, not a loopviz recording"),
        ("{\"traceEvents\":[]}\n", "run.lvt: line 1: not a loopviz recording (no 'loopviz-trace' header)"),
        ("loopviz-trace 7\nM {}\n", "run.lvt: line 1: written by a newer loopviz (format 7; this one reads format 1)"),
        ("loopviz-trace 1\nM {}\nR 0 taskResumed 1 0", "run.lvt: line 3: truncated in the middle of a line (use --salvage to read what comes before)"),
        ("loopviz-trace 1\nM {}\nN 1 task \"a\"\nR 0 taskExploded 1 0 0 0 ready\n", "run.lvt: line 4: unknown record kind 'taskExploded'"),
        ("loopviz-trace 1\nM {}\nN 1 task \"a\"\nR x taskResumed 1 0 0 0 running\n", "run.lvt: line 4: damaged record (a field is not a number in range)"),
        ("loopviz-trace 1\nM {}\nR 0 taskResumed 9 0 0 0 running\n", "run.lvt: line 3: refers to #9, which no name line declared"),
        ("loopviz-trace 1\nM {}\nN 1 task \"a\"\nR 99999999999999999 taskResumed 1 0 0 0 running\n", "run.lvt: line 4: absurd time 99999999999999999 ns"),
        ("loopviz-trace 1\nM {}\nN 1 task \"a\"\nR 0 taskResumed 1 0 0 300 running\n", "run.lvt: line 4: damaged record (a field is not a number in range)"),
        ("loopviz-trace 1\nM {}\nN 5 task \"a\"\n", "run.lvt: line 3: name #5 out of order (expected #1)"),
        ("loopviz-trace 1\nM {}\nE 40 0\n", "run.lvt: line 3: end line counts 40 records, the file holds 0"),
        ("loopviz-trace 1\nM {}\nZ what\n", "run.lvt: line 3: unknown line type 'Z'"),
        ("loopviz-trace 1\nnot meta\n", "run.lvt: line 2: expected the metadata line (M {...})"),
    ])
    func eachBadFileGivesOneLineNamingTheFileAndWhere(text: String, expected: String) {
        #expect(message(text) == expected)
    }

    @Test func salvageKeepsWhatCameBeforeTheDamage() throws {
        let cut = String(Self.good.prefix(Self.good.count - 40))
        #expect(throws: TraceFileError.self) { try read(cut) }
        let salvaged = try read(cut, salvage: true)
        #expect(!salvaged.complete)
        #expect(salvaged.records.count > 3 && salvaged.records.count < 8)
        #expect(salvaged.records == Array((try read(Self.good)).records.prefix(salvaged.records.count)))
    }

    @Test func truncationAtAnyByteIsACleanResult() throws {
        let bytes = Array(Self.good.utf8)
        for length in 0...bytes.count {
            let data = Data(bytes[0..<length])
            for salvage in [false, true] {
                do {
                    let contents = try TraceFile.parse(data, path: "cut.lvt", salvage: salvage)
                    #expect(contents.records.count <= 8)
                } catch let error as TraceFileError {
                    #expect(error.path == "cut.lvt")
                }
            }
        }
    }

    /// A tiny deterministic generator (SplitMix64), so a failing case reproduces from its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func thousandsOfMutatedCopiesEndInAResultOrAnError() throws {
        var random = SplitMix(state: 20261125)
        let original = Array(Self.good.utf8)
        let interesting: [UInt8] = Array("0123456789 -\n\"\\RNEMx".utf8) + [0, 0xFF, 0xC3]
        let start = Date()
        for _ in 0..<5_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                guard !bytes.isEmpty else { break }
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0: bytes[at] = interesting.randomElement(using: &random)!
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(interesting.randomElement(using: &random)!, at: at)
                case 3: bytes = Array(bytes[0..<at])
                default: bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "9"), count: Int.random(in: 1...30, using: &random)), at: at)
                }
            }
            for salvage in [false, true] {
                do {
                    _ = try TraceFile.parse(Data(bytes), path: "fuzz.lvt", salvage: salvage)
                } catch let error as TraceFileError {
                    #expect(error.path == "fuzz.lvt" && !error.message.isEmpty)
                }
            }
        }
        #expect(Date().timeIntervalSince(start) < 60)  // a bound against hangs, not a speed target
    }
}

@Suite("Recording wire names")
struct WireNameTests {
    @Test func everyKindAndStateHasItsOwnWireName() {
        #expect(Set(TraceKind.allCases.map(\.wireName)).count == TraceKind.allCases.count)
        #expect(Set(TaskState.allCases.map(\.wireName)).count == TaskState.allCases.count)
        #expect(Set(EntityKind.allCases.map(\.wireName)).count == EntityKind.allCases.count)
    }

    @Test func theNamesOfRecordingsMadeBeforeStayReadable() {
        // Recordings written before the names were spelled out used these; they must keep reading.
        let older = ["taskSpawned", "taskReady", "taskResumed", "taskSuspended", "taskDone", "timerScheduled", "timerFired",
                     "callbackStarted", "callbackFinished", "eventSet", "eventCleared", "output", "loopIdle", "gap", "runFinished"]
        for name in older { #expect(TraceKind.byWireName[name] != nil, "\(name)") }
        for name in ["unknown", "ready", "running", "sleeping", "waiting", "awaitingChildren", "yielded", "done"] {
            #expect(TaskState.byWireName[name] != nil, "\(name)")
        }
        for name in ["task", "callback", "event", "primitive", "text"] { #expect(EntityKind.byWireName[name] != nil, "\(name)") }
    }
}
