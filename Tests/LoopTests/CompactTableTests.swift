import Foundation
import Testing
import Trace
@testable import Loop

/// The loop's compact tables: the task table (open addressing, backward-shift deletion) and the
/// timer heap's 32-bit sequence (renumbered before it wraps).
struct CompactTableTests {
    @Test func taskTableFindsEveryTaskThroughInsertsAndRemovals() {
        var table = TaskTable()
        // Pointers spaced like the runtime's task allocations; enough to fill clusters.
        let boxes = (0..<2_000).map { index in
            let box = TaskBox(id: EntityID(rawValue: UInt32(index + 1)))
            box.pointer = UnsafeRawPointer(bitPattern: 0x7f00_0000_0000 + index * 320)
            return box
        }
        for box in boxes { table.insert(box) }
        #expect(table.count == boxes.count)
        var generator = SystemRandomNumberGenerator()
        var removed = Set<ObjectIdentifier>()
        for (step, box) in boxes.shuffled(using: &generator).enumerated() {
            table.remove(box)
            removed.insert(ObjectIdentifier(box))
            // Removing an absent box changes nothing.
            table.remove(box)
            if step % 97 == 0 || step > boxes.count - 20 {
                for other in boxes {
                    let found = table.box(for: other.pointer!)
                    #expect(removed.contains(ObjectIdentifier(other)) ? found == nil : found === other)
                }
                #expect(Set(table.boxes.map(ObjectIdentifier.init)) == Set(boxes.map(ObjectIdentifier.init)).subtracting(removed))
            }
        }
        #expect(table.isEmpty && table.boxes.isEmpty)
        #expect(table.box(for: boxes[0].pointer!) == nil)
    }

    @Test func timersKeepTheirOrderWhenTheSequenceIsRenumbered() throws {
        // The same program with the sequence renumbered every few timers and never: timers with
        // equal deadlines (callbacks and sleeps, pending across renumberings) keep FIFO order.
        let renumbered = try timerProgramOutput(sequenceLimit: 5)
        #expect(renumbered == (try timerProgramOutput(sequenceLimit: .max)))
        #expect(renumbered.count == 14 && renumbered.prefix(3) == ["callback 0", "callback 2", "callback 4"])
    }

    private func timerProgramOutput(sequenceLimit: UInt32) throws -> [String] {
        var run = VirtualRun()
        try run.run { loop in
            loop.timerSequenceLimit = sequenceLimit
            for index in 0..<12 {
                if index == 6 { try await loop.sleep(0) }  // the sleepers arm their timers
                loop.callLater(index % 2 == 0 ? 1 : 2, "t") { loop.print("callback \(index)") }
                if index % 3 == 0 && index < 6 {
                    loop.spawn("sleeper") {
                        try await loop.sleep(1)
                        loop.print("sleeper \(index)")
                    }
                }
            }
            try await loop.sleep(3)
        }
        return run.output
    }
}
