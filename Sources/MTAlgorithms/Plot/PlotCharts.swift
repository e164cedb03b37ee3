import Foundation
import MTCore

/// The pictures `mt-eval --plot` draws, laid out the way matplotlib would: title, labelled axes with
/// ticks and a light grid, a legend placed where it hides the fewest curve points.
public enum PlotCharts {
    /// Accuracy-versus-coverage curves of several runs overlaid. `values[k]` is the accuracy of the k+1
    /// most confident samples (`PseudoLabelMetrics.curve`); each curve spans coverage 0 to 1.
    public static func accuracyCoverage(_ curves: [(label: String, values: [Float])], title: String) -> PlotCanvas {
        let canvas = PlotCanvas(width: 960, height: 640)
        let left = 104, right = canvas.width - 32, top = 64, bottom = canvas.height - 84
        let plotWidth = right - left, plotHeight = bottom - top

        // The y range leaves out the noisy first 2% (one wrong sample there would pull it to 0); the
        // curves are clipped to the frame.
        var lowest = 1.0
        for curve in curves where !curve.values.isEmpty {
            let skipped = Int((0.02 * Double(curve.values.count)).rounded(.up))
            let start: Int = min(curve.values.count - 1, max(0, skipped - 1))
            for value in curve.values[start...] { lowest = min(lowest, Double(value)) }
        }
        let steps: [Double] = [0.01, 0.02, 0.05, 0.1, 0.2]
        let step: Double = steps.first { (step: Double) -> Bool in
            let floor: Double = (lowest / step).rounded(.down) * step
            return (1 - floor) / step <= 8
        } ?? 0.2
        var yMin = max(0, ((lowest - step / 4) / step).rounded(.down) * step)
        if yMin >= 1 { yMin = 1 - step }
        // A little room beyond the outer ticks so that a curve at 100% (or at the lowest tick) is not
        // hidden under the frame.
        let yMax = 1 + step / 5, yLow = yMin - step / 5
        func px(_ coverage: Double) -> Double { Double(left) + coverage * Double(plotWidth) }
        func py(_ accuracy: Double) -> Double { Double(bottom) - (accuracy - yLow) / (yMax - yLow) * Double(plotHeight) }

        // Grid, ticks and tick labels.
        for tick in 0...10 {
            let x = Int(px(Double(tick) / 10).rounded())
            canvas.fill(x: x, y: top, width: 1, height: plotHeight, .grid)
            canvas.fill(x: x, y: bottom, width: 1, height: 6, .axis)
            canvas.text("\(tick * 10)%", x: x, y: bottom + 12, horizontal: .center)
        }
        let tickCount = Int(((1 - yMin) / step).rounded())
        for tick in 0...tickCount {
            let value = yMin + Double(tick) * step
            let y = Int(py(value).rounded())
            canvas.fill(x: left, y: y, width: plotWidth, height: 1, .grid)
            canvas.fill(x: left - 6, y: y, width: 6, height: 1, .axis)
            canvas.text(percent(value, step: step), x: left - 12, y: y, horizontal: .end, vertical: .center)
        }
        canvas.stroke(x: left, y: top, width: plotWidth + 1, height: plotHeight + 1, .axis)

        // Curves, sampled twice per pixel column.
        let samples = plotWidth * 2
        for (index, curve) in curves.enumerated() where !curve.values.isEmpty {
            let n = curve.values.count
            let points = (0...samples).map { i -> (x: Double, y: Double) in
                let coverage = Double(i) / Double(samples)
                let k = min(n, max(1, Int((coverage * Double(n)).rounded(.up))))
                return (px(coverage), py(Double(curve.values[k - 1])))
            }
            canvas.polyline(points, lineWidth: 2.5, PlotColor.cycle[index % PlotColor.cycle.count],
                            clip: (left + 1, top + 1, plotWidth - 1, plotHeight - 1))
        }

        // Legend in the corner that covers the fewest curve points.
        let labels = curves.map(\.label)
        let entryHeight = 24, sample = 32
        let boxWidth = 12 + sample + 10 + (labels.map { PlotCanvas.textWidth($0, scale: 2) }.max() ?? 0) + 14
        let boxHeight = 10 + entryHeight * labels.count + 2
        let inset = 14
        let corners = [(left + inset, bottom - inset - boxHeight), (right - inset - boxWidth, bottom - inset - boxHeight),
                       (right - inset - boxWidth, top + inset), (left + inset, top + inset)]
        let best = corners.min { a, b in
            covered(canvas, a, boxWidth, boxHeight) < covered(canvas, b, boxWidth, boxHeight)
        }!
        if !labels.isEmpty {
            for y in best.1..<(best.1 + boxHeight) {
                for x in best.0..<(best.0 + boxWidth) { canvas.blend(x: x, y: y, .white, alpha: 0.9) }
            }
            canvas.stroke(x: best.0, y: best.1, width: boxWidth, height: boxHeight, PlotColor(200, 200, 200))
            for (index, label) in labels.enumerated() {
                let y = best.1 + 6 + entryHeight * index + entryHeight / 2
                let x = best.0 + 12
                canvas.polyline([(Double(x), Double(y) + 0.5), (Double(x + sample), Double(y) + 0.5)], lineWidth: 2.5,
                                PlotColor.cycle[index % PlotColor.cycle.count])
                canvas.text(label, x: x + sample + 10, y: y, vertical: .center)
            }
        }

        canvas.text(title, x: canvas.width / 2, y: 22, scale: 3, .black, horizontal: .center)
        canvas.text("coverage (samples kept, most confident first)", x: (left + right) / 2, y: canvas.height - 34,
                    horizontal: .center)
        canvas.text("accuracy of kept samples", x: 22, y: (top + bottom) / 2, horizontal: .center, rotated: true)
        return canvas
    }

    /// How many curve pixels (anything but background and grid) a legend box at `corner` would cover.
    private static func covered(_ canvas: PlotCanvas, _ corner: (Int, Int), _ width: Int, _ height: Int) -> Int {
        var count = 0
        for y in max(0, corner.1)..<min(canvas.height, corner.1 + height) {
            for x in max(0, corner.0)..<min(canvas.width, corner.0 + width) {
                let base = (y * canvas.width + x) * 3
                let pixel = PlotColor(canvas.pixels[base], canvas.pixels[base + 1], canvas.pixels[base + 2])
                if pixel != .white && pixel != .grid { count += 1 }
            }
        }
        return count
    }

    static func percent(_ value: Double, step: Double) -> String {
        step < 0.01 ? String(format: "%.1f%%", 100 * value) : String(format: "%.0f%%", 100 * value)
    }

    /// The confusion matrix of `run` as a heat map: rows true classes, columns predicted, colour the share
    /// of the true class (row-normalised, so rare classes are as visible as common ones), counts written in
    /// cells large enough to hold them, class names on both axes (every few when there are many classes),
    /// and a colour bar.
    public static func confusion(_ run: MetricsRun, title: String) -> PlotCanvas {
        let classes = run.classCount
        let names = run.classNames.map { $0.count > 14 ? String($0.prefix(13)) + "~" : $0 }
        let cell = max(6, min(56, 600 / max(1, classes)))
        let labelEvery = max(1, Int((18.0 / Double(cell)).rounded(.up)))
        let shown = stride(from: 0, to: classes, by: labelEvery).map { $0 }
        let nameWidth = shown.map { PlotCanvas.textWidth(names[$0], scale: 2) }.max() ?? 0
        let horizontalColumns = nameWidth <= cell * labelEvery - 6
        let matrix = cell * classes
        let left = 24 + 14 + 16 + nameWidth + 10
        let top = 76
        let columnLabels = horizontalColumns ? 14 : nameWidth
        let bottomMargin = 10 + columnLabels + 18 + 14 + 18
        let barX = left + matrix + 28, barWidth = 18
        let titleWidth = PlotCanvas.textWidth(title, scale: 2) + 40
        let width = max(barX + barWidth + 8 + PlotCanvas.textWidth("100%", scale: 2) + 24, titleWidth)
        let height = top + max(matrix, 120) + bottomMargin
        let canvas = PlotCanvas(width: width, height: height)

        for row in 0..<classes {
            let total = (0..<classes).reduce(0) { $0 + run.confusion[row * classes + $1] }
            for column in 0..<classes {
                let count = run.confusion[row * classes + column]
                let share = total > 0 ? Double(count) / Double(total) : 0
                let x = left + column * cell, y = top + row * cell
                canvas.fill(x: x, y: y, width: cell, height: cell, blues(share))
                let label = String(count)
                let scale = cell >= 44 && PlotCanvas.textWidth(label, scale: 2) + 6 <= cell ? 2 : 1
                if PlotCanvas.textWidth(label, scale: scale) + 4 <= cell, PlotCanvas.textHeight(scale: scale) + 4 <= cell {
                    canvas.text(label, x: x + cell / 2, y: y + cell / 2, scale: scale, share > 0.55 ? .white : .text,
                                horizontal: .center, vertical: .center)
                }
            }
        }
        canvas.stroke(x: left - 1, y: top - 1, width: matrix + 2, height: matrix + 2, .axis)
        for c in shown {
            let centre = c * cell + cell / 2
            canvas.fill(x: left - 6, y: top + centre, width: 5, height: 1, .axis)
            canvas.text(names[c], x: left - 10, y: top + centre, horizontal: .end, vertical: .center)
            canvas.fill(x: left + centre, y: top + matrix + 1, width: 1, height: 5, .axis)
            if horizontalColumns {
                canvas.text(names[c], x: left + centre, y: top + matrix + 10, horizontal: .center)
            } else {
                canvas.text(names[c], x: left + centre, y: top + matrix + 10, horizontal: .end, vertical: .center, rotated: true)
            }
        }
        canvas.text("predicted class", x: left + matrix / 2, y: top + matrix + 10 + columnLabels + 18, horizontal: .center)
        canvas.text("true class", x: 24, y: top + matrix / 2, horizontal: .center, rotated: true)

        // Colour bar: share of the true class, 0 at the bottom.
        let barHeight = max(matrix, 120)
        for y in 0..<barHeight {
            canvas.fill(x: barX, y: top + y, width: barWidth, height: 1, blues(1 - Double(y) / Double(barHeight - 1)))
        }
        canvas.stroke(x: barX - 1, y: top - 1, width: barWidth + 2, height: barHeight + 2, .axis)
        for tick in 0...4 {
            let y = top + barHeight - 1 - tick * (barHeight - 1) / 4
            canvas.fill(x: barX + barWidth, y: y, width: 4, height: 1, .axis)
            canvas.text("\(tick * 25)%", x: barX + barWidth + 10, y: y, vertical: .center)
        }
        canvas.text(title, x: width / 2, y: 16, .black, horizontal: .center)
        canvas.text("colour: share of the true class", x: width / 2, y: 44, PlotColor(90, 90, 90), horizontal: .center)
        return canvas
    }

    /// A white-to-dark-blue sequential colour map (after matplotlib's "Blues").
    static func blues(_ t: Double) -> PlotColor {
        let stops = [PlotColor(247, 251, 255), PlotColor(198, 219, 239), PlotColor(107, 174, 214),
                     PlotColor(33, 113, 181), PlotColor(8, 48, 107)]
        let position = min(1, max(0, t)) * Double(stops.count - 1)
        let index = min(stops.count - 2, Int(position))
        return PlotColor.mix(stops[index], stops[index + 1], position - Double(index))
    }
}
