@testable import Benchmarks
import Testing

/// The echo bench's tracing overhead: a ratio taken round by round, over the rounds that
/// measured both loopviz servers, leaving out those in which the client's core was the bottleneck.
struct EchoOverheadTests {
    private func round(_ requests: Int, clientBusy: Double = 0.5, serverBusy: Double = 1) -> EchoClient.Round {
        // A client busier than the server means the client limited the round.
        EchoClient.Round(requests: requests, seconds: 1, clientCPUSeconds: clientBusy, serverCPUSeconds: clientBusy > 0.9 ? 0.6 : serverBusy,
                         p50Microseconds: 50, p99Microseconds: 90, bytesSent: 0, bytesReceived: 0)
    }

    @Test func overheadIsTheMedianOfTheRoundsOwnRatios() throws {
        // Round 0: 10 % slower traced; 1: 2 %; 2: the client was the bottleneck (left out);
        // 3: traced only (its untraced server failed): not a pair; 4: 4 % faster traced.
        #expect(round(50_000, clientBusy: 0.99).clientBound && !round(50_000).clientBound)
        let traced = [0: round(90_000), 1: round(98_000), 2: round(50_000, clientBusy: 0.99), 3: round(70_000), 4: round(104_000)]
        let untraced = [0: round(100_000), 1: round(100_000), 2: round(100_000), 4: round(100_000)]
        let figure = try #require(EchoReport.pairedOverhead(traced: traced, untraced: untraced))
        #expect(abs(figure.median - 2) < 1e-9)
        #expect(abs(figure.min - -4) < 1e-9 && abs(figure.max - 10) < 1e-9)

        // The report gives that median, not the ratio of the medians (which would be 10 %).
        let setup = EchoBench.setups[0]
        var report = EchoReport()
        report.cells[setup] = [.traced: EchoReport.Cell([round(90_000)]), .untraced: EchoReport.Cell([round(100_000)])]
        #expect(abs((report.tracingOverheadPercent(setup) ?? 0) - 10) < 1e-9)
        report.overheadRounds[setup] = figure
        #expect(abs((report.tracingOverheadPercent(setup) ?? 0) - 2) < 1e-9)
        #expect(EchoReport.pairedOverhead(traced: [0: round(1)], untraced: [1: round(1)]) == nil)
    }

    @Test func onlySetupsWhereTheServerSetsTheRateAreJudged() {
        // 1 KiB × 10: servers busy all the time, 3 % overhead. 1 KiB × 1: servers idle more than
        // half the time (the round trip sets the rate), 8 % "overhead": shown, not the target's.
        let busy = EchoBench.setups[0], roundTrip = EchoBench.setups[3]
        var report = EchoReport()
        report.cells[busy] = [.traced: EchoReport.Cell([round(97_000)]), .untraced: EchoReport.Cell([round(100_000)])]
        report.cells[roundTrip] = [.traced: EchoReport.Cell([round(9_200, serverBusy: 0.4)]),
                                   .untraced: EchoReport.Cell([round(10_000, serverBusy: 0.45)])]
        #expect(report.isServerBound(busy) && !report.isServerBound(roundTrip))
        let worst = report.worstTracingOverhead
        #expect(worst?.setup == busy && abs((worst?.percent ?? 0) - 3) < 1e-9)
        #expect(report.tableLines.contains { $0.contains("tracing overhead 8.0 %") && $0.contains("not judged") })
    }

    @Test func aMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        #expect(FreshProcessPing.Figure([4, 1, 3, 2]).median == 2.5)
        #expect(FreshProcessPing.Figure([3, 1, 2]).median == 2)
        let one = FreshProcessPing.Figure([7])
        #expect(one.median == 7 && one.min == 7 && one.max == 7)
    }
}
