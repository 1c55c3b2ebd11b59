import Testing

@testable import NativeRuntime

@Suite struct LineSplitterTests {
    private func split(_ chunks: [String], max: Int = 16) -> [String] {
        split(bytes: chunks.map { Array($0.utf8) }, max: max)
    }

    private func split(bytes chunks: [[UInt8]], max: Int = 16) -> [String] {
        var splitter = LineSplitter(maxLineLength: max)
        var lines: [String] = []
        for chunk in chunks { lines += splitter.append(chunk) }
        if let last = splitter.finish() { lines.append(last) }
        return lines
    }

    @Test func splitsOnNewlinesAcrossChunkBoundaries() {
        let input = "alpha\nbeta\r\n\ngamma\ndelta"
        let expected = ["alpha", "beta", "", "gamma", "delta"]
        #expect(split([input]) == expected)
        // Every two-way split, and byte by byte, give the same lines.
        let bytes = Array(input.utf8)
        for cut in 0...bytes.count {
            #expect(split(bytes: [Array(bytes[..<cut]), Array(bytes[cut...])]) == expected)
        }
        #expect(split(bytes: bytes.map { [$0] }) == expected)
    }

    @Test func finalUnterminatedLineOnlyAtFinish() {
        var splitter = LineSplitter(maxLineLength: 16)
        #expect(splitter.append(Array("one\ntwo".utf8)) == ["one"])
        #expect(splitter.finish() == "two")
        #expect(splitter.finish() == nil)
    }

    @Test func longLinesAreCutAtTheMaximum() {
        let line = String(repeating: "x", count: 40)
        #expect(split([line + "\n"], max: 16) == [String(repeating: "x", count: 16), String(repeating: "x", count: 16), String(repeating: "x", count: 8)])
        // Exactly the maximum is one line, not a line and an empty piece.
        #expect(split([String(repeating: "y", count: 16) + "\nz\n"], max: 16) == [String(repeating: "y", count: 16), "z"])
    }

    @Test func cutsDoNotSplitUTF8Characters() {
        // "é" is two bytes: with a maximum of 5, "aaaé" (5 bytes) fits, "aaaaé" must cut before "é".
        let pieces = split(["aaaaéb\n"], max: 5)
        #expect(pieces == ["aaaa", "éb"])
        #expect(pieces.joined() == "aaaaéb")
    }

    @Test func invalidUTF8IsRepairedNotRejected() {
        var splitter = LineSplitter(maxLineLength: 16)
        let lines = splitter.append([0x61, 0xFF, 0x62, 0x0A])
        #expect(lines == ["a\u{FFFD}b"])
    }

    @Test func procStatParsesNamesWithSpacesAndParentheses() {
        let stat = ProcStat(Array("1234 (a b) c)) S 1 777 777 0 -1".utf8))
        #expect(stat?.state == UInt8(ascii: "S"))
        #expect(stat?.processGroup == 777)
        #expect(ProcStat(Array("garbage".utf8)) == nil)
    }
}
