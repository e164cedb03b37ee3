import Foundation
import MTCore

/// An sRGB colour.
public struct PlotColor: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    public static let white = PlotColor(255, 255, 255)
    public static let black = PlotColor(0, 0, 0)
    public static let text = PlotColor(34, 34, 34)
    public static let axis = PlotColor(60, 60, 60)
    public static let grid = PlotColor(228, 228, 228)

    /// matplotlib's tab10 cycle: distinct, colour-blind-tolerant line colours.
    public static let cycle: [PlotColor] = [
        PlotColor(31, 119, 180), PlotColor(255, 127, 14), PlotColor(44, 160, 44), PlotColor(214, 39, 40),
        PlotColor(148, 103, 189), PlotColor(140, 86, 75), PlotColor(227, 119, 194), PlotColor(127, 127, 127),
        PlotColor(188, 189, 34), PlotColor(23, 190, 207),
    ]

    /// Linear interpolation between two colours, t in 0...1.
    public static func mix(_ a: PlotColor, _ b: PlotColor, _ t: Double) -> PlotColor {
        let t = min(1, max(0, t))
        func channel(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) + (Double(y) - Double(x)) * t).rounded()) }
        return PlotColor(channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b))
    }
}

/// A small RGB raster with the primitives our plots need: filled rectangles, anti-aliased polylines, and
/// bitmap text (`PlotFont`) horizontal or turned a quarter counter-clockwise (for y-axis labels).
public final class PlotCanvas {
    public let width: Int
    public let height: Int
    /// Row-major RGB.
    public private(set) var pixels: [UInt8]

    public enum Anchor: Sendable { case start, center, end }

    public init(width: Int, height: Int, background: PlotColor = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, background)
    }

    /// Blends `color` over pixel (x, y) with opacity `alpha`; outside pixels are ignored.
    public func blend(x: Int, y: Int, _ color: PlotColor, alpha: Double = 1) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let base = (y * width + x) * 3
        if alpha >= 1 {
            pixels[base] = color.r
            pixels[base + 1] = color.g
            pixels[base + 2] = color.b
            return
        }
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 { UInt8((Double(old) * (1 - alpha) + Double(new) * alpha).rounded()) }
        pixels[base] = mix(pixels[base], color.r)
        pixels[base + 1] = mix(pixels[base + 1], color.g)
        pixels[base + 2] = mix(pixels[base + 2], color.b)
    }

    public func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: PlotColor) {
        let top = max(0, y), bottom = min(height, y + h), left = max(0, x), right = min(width, x + w)
        guard top < bottom, left < right else { return }
        for row in top..<bottom {
            for column in left..<right { blend(x: column, y: row, color) }
        }
    }

    /// A one-pixel rectangle outline.
    public func stroke(x: Int, y: Int, width w: Int, height h: Int, _ color: PlotColor) {
        fill(x: x, y: y, width: w, height: 1, color)
        fill(x: x, y: y + h - 1, width: w, height: 1, color)
        fill(x: x, y: y, width: 1, height: h, color)
        fill(x: x + w - 1, y: y, width: 1, height: h, color)
    }

    /// An anti-aliased polyline of `lineWidth` pixels through points in pixel coordinates (pixel centres
    /// at integer + 0.5), drawn only inside `clip`. Coverage is the maximum over segments, so joints are
    /// not painted twice.
    public func polyline(_ points: [(x: Double, y: Double)], lineWidth: Double, _ color: PlotColor,
                         clip: (x: Int, y: Int, width: Int, height: Int)? = nil) {
        guard points.count >= 2 else { return }
        let box = clip ?? (0, 0, width, height)
        let x0 = max(0, box.x), y0 = max(0, box.y), x1 = min(width, box.x + box.width), y1 = min(height, box.y + box.height)
        guard x1 > x0, y1 > y0 else { return }
        let boxWidth = x1 - x0
        var coverage = [Float](repeating: 0, count: boxWidth * (y1 - y0))
        let half = lineWidth / 2
        for (p, q) in zip(points, points.dropFirst()) {
            let left = max(x0, Int((min(p.x, q.x) - half - 1).rounded(.down)))
            let right = min(x1 - 1, Int((max(p.x, q.x) + half + 1).rounded(.up)))
            let top = max(y0, Int((min(p.y, q.y) - half - 1).rounded(.down)))
            let bottom = min(y1 - 1, Int((max(p.y, q.y) + half + 1).rounded(.up)))
            guard left <= right, top <= bottom else { continue }
            let dx = q.x - p.x, dy = q.y - p.y
            let length2 = dx * dx + dy * dy
            for y in top...bottom {
                for x in left...right {
                    let cx = Double(x) + 0.5, cy = Double(y) + 0.5
                    let t = length2 > 0 ? min(1, max(0, ((cx - p.x) * dx + (cy - p.y) * dy) / length2)) : 0
                    let ex = cx - (p.x + t * dx), ey = cy - (p.y + t * dy)
                    let cover = Float(min(1, max(0, half + 0.5 - (ex * ex + ey * ey).squareRoot())))
                    let slot = (y - y0) * boxWidth + (x - x0)
                    if cover > coverage[slot] { coverage[slot] = cover }
                }
            }
        }
        for y in y0..<y1 {
            for x in x0..<x1 {
                let cover = coverage[(y - y0) * boxWidth + (x - x0)]
                if cover > 0 { blend(x: x, y: y, color, alpha: Double(cover)) }
            }
        }
    }

    /// Width of `text` in pixels at `scale`.
    public static func textWidth(_ text: String, scale: Int) -> Int { PlotFont.width(text, scale: scale) }
    /// Height of a line of text in pixels at `scale`.
    public static func textHeight(scale: Int) -> Int { PlotFont.glyphHeight * scale }

    /// Draws `text` anchored at (x, y): `horizontal` picks which end or the centre of the text sits at x,
    /// `vertical` likewise for y. With `vertical: true` the text reads bottom to top and the anchors apply
    /// along its own direction (start = the bottom end).
    public func text(_ text: String, x: Int, y: Int, scale: Int = 2, _ color: PlotColor = .text,
                     horizontal: Anchor = .start, vertical: Anchor = .start, rotated: Bool = false) {
        let length = PlotFont.width(text, scale: scale), thickness = PlotFont.glyphHeight * scale
        func offset(_ anchor: Anchor, _ size: Int) -> Int {
            switch anchor {
            case .start: 0
            case .center: size / 2
            case .end: size
            }
        }
        let along = offset(horizontal, length), across = offset(vertical, thickness)
        for (position, character) in text.enumerated() {
            for column in 0..<PlotFont.glyphWidth {
                for row in 0..<PlotFont.glyphHeight where PlotFont.pixel(character, column: column, row: row) {
                    let u = (position * PlotFont.advance + column) * scale - along
                    let v = row * scale - across
                    if rotated {
                        fill(x: x + v, y: y - u - scale, width: scale, height: scale, color)
                    } else {
                        fill(x: x + u, y: y + v, width: scale, height: scale, color)
                    }
                }
            }
        }
    }
}
